/**
 * `nnxc evaluate FILE --weights W`: the loss and metrics of trained weights on the dataset's test
 * split (or its training samples, when it has no test split).
 */
import { compile } from '../compile.js';
import { refuseGan, trainsGan } from './train-gan.js';
import { type Io, UsageError, intOption, readSource, report } from './io.js';
import { ReportedError, loadModelData } from './model-data.js';
import { formatMetrics } from './progress.js';
import { parseCommandArgs } from './args.js';
import { backendOption, commandCompileOptions, createForCommand } from './devices.js';

/** The usage lines of `nnxc evaluate`. */
export const EVALUATE_USAGE = `  nnxc evaluate FILE --weights W.safetensors [--model NAME] [--limit N] [--json] [--set field=value]
        [--backend webgpu|wasm|auto]
                                       loss and metrics on the dataset's test split
                                       (--set 'data=mnist(invert: true)': on inverted digits)`;

/** Runs `nnxc evaluate`. */
export async function evaluateCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    command: 'evaluate',
    usage: EVALUATE_USAGE,
    options: {
      model: { type: 'string' },
      weights: { type: 'string' },
      limit: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean' },
      set: { type: 'string', multiple: true },
      backend: { type: 'string' },
    },
  });
  if (!values.weights) throw new UsageError('evaluate needs --weights W.safetensors');
  const file = await readSource(positionals[0]);
  if (trainsGan(file.text)) throw refuseGan('evaluate', file.path);
  const backend = backendOption(values.backend);
  const result = compile(file.text, commandCompileOptions(file.path, values, backend));
  if (report(file, result, io) || !result.compiled) return 1;
  const seed = intOption('seed', values.seed, 0) ?? 0;
  let data;
  try {
    data = await loadModelData(
      file,
      result,
      { limit: intOption('limit', values.limit, 1), seed, validationSplit: 0 },
      io,
    );
  } catch (e) {
    if (e instanceof ReportedError) return 1;
    throw e;
  }
  const split = data.test ? 'test' : 'train';
  const samples = data.test ?? data.train;
  const { model, backendLine } = await createForCommand(result.compiled.spec, { seed, backend });
  try {
    await model.load(values.weights);
    const metrics = await model.evaluate(samples);
    if (values.json)
      io.out(
        JSON.stringify({ split, samples: samples.count, backend: model.backend.kind, ...metrics }) + '\n',
      );
    else
      io.out(
        `${backendLine}\n` +
          `${data.name} ${split} split (${samples.count.toLocaleString('en-US')} samples): ${formatMetrics(metrics)}\n`,
      );
  } finally {
    model.destroy();
  }
  return 0;
}
