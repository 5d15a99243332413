/**
 * `nnxc export FILE --to onnx -o M.onnx` and `--to pytorch -o DIR`: the model of a train
 * block for another runtime, with its seeded initial weights or those of `--weights`.
 */
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseCommandArgs } from './args.js';
import { compile } from '../compile.js';
import { exportOnnx } from '../export/onnx.js';
import { exportPytorch } from '../export/pytorch.js';
import { WeightsError, type Weights, initialWeights, weightsFromSafetensors } from '../export/weights.js';
import {
  type Io,
  UsageError,
  UserError,
  intOption,
  prepareOutput,
  readSource,
  report,
  writeAtomically,
} from './io.js';
import { trainsGan } from './train-gan.js';
import { ReportedError, loadModelData } from './model-data.js';
import { encodeNpy } from '../data/npy.js';
import { adaptValues, adaptedParams } from '../runtime/adapt.js';
import { pyName } from '../export/pytorch-model.js';

/** The usage lines of `nnxc export`. */
export const EXPORT_USAGE = `  nnxc export FILE --to onnx|pytorch -o OUT [--model NAME] [--weights W.safetensors]
        [--seed N] [--force]         the model as an ONNX file (opset 17), or a PyTorch package
                                       in directory OUT (model.py, train.py, weights, README)`;

const TARGETS = ['onnx', 'pytorch'] as const;

/** Runs `nnxc export`. */
export async function exportCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    command: 'export',
    usage: EXPORT_USAGE,
    options: {
      to: { type: 'string' },
      output: { type: 'string', short: 'o' },
      model: { type: 'string' },
      weights: { type: 'string' },
      seed: { type: 'string' },
      force: { type: 'boolean' },
      set: { type: 'string', multiple: true },
    },
  });
  const to = values.to;
  if (!to || !(TARGETS as readonly string[]).includes(to))
    throw new UsageError('export needs --to onnx or --to pytorch');
  if (!values.output) throw new UsageError(`export needs -o ${to === 'onnx' ? 'M.onnx' : 'DIR'}`);
  const file = await readSource(positionals[0]);
  if (trainsGan(file.text))
    throw new UserError(`${file.path} has a gan block; nnxc export takes the model of a train block`);
  const result = compile(file.text, { path: file.path, model: values.model, settings: values.set ?? [] });
  if (report(file, result, io) || !result.compiled || !result.model || !result.train) return 1;
  if (to === 'onnx') await prepareOutput(values.output, '-o');
  const weights = await loadWeights(result.compiled, values.weights, intOption('seed', values.seed, 0) ?? 0);
  const from = values.weights ? `the weights of ${values.weights}` : 'its seeded initial weights';
  if (to === 'onnx') {
    const exported = exportOnnx(result.model, weights);
    if (report(file, exported, io) || !exported.bytes) return 1;
    await writeAtomically(values.output, exported.bytes);
    io.out(`wrote ${values.output}: ${result.model.name} (ONNX opset 17) with ${from}\n`);
    return 0;
  }
  let data;
  try {
    data = await loadModelData(file, result, { seed: 0 }, io);
  } catch (e) {
    if (e instanceof ReportedError) return 1;
    throw e;
  }
  // Without --weights, Normalization's statistics are adapted to the training samples, as nnxc train does.
  const starting = values.weights
    ? weights
    : new Map([...weights, ...adaptValues(adaptedParams(result.compiled.spec.params), data.train, 'export')]);
  const exported = exportPytorch({
    model: result.model,
    compiled: result.compiled,
    train: result.train,
    weights: starting,
    source: basename(file.path),
  });
  if (report(file, exported, io) || !exported.files) return 1;
  await prepareDirectory(values.output, Boolean(values.force));
  for (const [name, bytes] of exported.files) await writeAtomically(join(values.output, name), bytes);
  const splits = { train: data.train, validation: data.validation, test: data.test };
  for (const [split, set] of Object.entries(splits)) {
    if (!set) continue;
    await mkdir(join(values.output, 'data', split), { recursive: true });
    for (const [slot, values_] of [...Object.entries(set.inputs), ...Object.entries(set.targets)]) {
      const perSample = values_.length / set.count;
      const shape = slotShape(result.compiled, slot, set.count, perSample);
      await writeAtomically(
        join(values.output, 'data', split, `${pyName(slot)}.npy`),
        encodeNpy(shape, values_),
      );
    }
  }
  io.out(
    `wrote ${values.output}: ${[...exported.files.keys()].join(', ')} (${result.model.name}, ${from})\n`,
  );
  return 0;
}

async function loadWeights(
  compiled: Parameters<typeof initialWeights>[0],
  path: string | undefined,
  seed: number,
): Promise<Weights> {
  if (!path) return initialWeights(compiled, seed);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new UserError(`cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return weightsFromSafetensors(compiled, bytes, path);
  } catch (e) {
    if (e instanceof WeightsError || (e as Error).name === 'SafetensorsError')
      throw new UserError((e as Error).message);
    throw e;
  }
}

/** Creates the export directory; one that holds files already is refused unless `--force`. */
async function prepareDirectory(dir: string, force: boolean): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR')
      throw new UserError(`${dir} exists and is not a directory`);
    await mkdir(dir, { recursive: true });
    return;
  }
  if (entries.length > 0 && !force) {
    const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? ', …' : '');
    throw new UserError(`${dir} already holds files (${shown}); pass --force to write the export over them`);
  }
}

/** The per-batch shape of a data slot (an input or a target) for `count` samples. */
function slotShape(
  compiled: Parameters<typeof initialWeights>[0],
  slot: string,
  count: number,
  perSample: number,
): number[] {
  const entry = compiled.spec.entries.train.inputs.find((i) => i.name === slot);
  return entry ? [count, ...entry.shape.slice(1)] : [count, perSample];
}
