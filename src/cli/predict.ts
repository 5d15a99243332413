/**
 * `nnxc predict FILE --weights W --input x.npy|digit.png`: run trained weights on new samples —
 * a .npy array (one sample of the input's shape, or many along a first axis) or a PNG picture
 * for an image model — and print each prediction, with class names where the dataset has them.
 */
import { readFile } from 'node:fs/promises';
import { compile } from '../compile.js';
import {
  DatasetError,
  dataSlots,
  datasetClassNames,
  encodeNpy,
  parseNpy,
  pngSample,
  shapeFits,
} from '../data/index.js';
import { refuseGan, trainsGan } from './train-gan.js';
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
import { parseCommandArgs } from './args.js';
import { backendOption, commandCompileOptions, createForCommand } from './devices.js';

/** The usage lines of `nnxc predict`. */
export const PREDICT_USAGE = `  nnxc predict FILE --weights W.safetensors --input X.npy|IMAGE.png [--model NAME] [--top K] [--json]
        [-o OUT.npy] [--backend webgpu|wasm|auto]
                                       predictions of trained weights for new samples`;

interface Samples {
  readonly count: number;
  readonly values: Float32Array;
  readonly note?: string;
}

async function readSamples(path: string, shape: readonly number[]): Promise<Samples> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new UserError(
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
  if (path.toLowerCase().endsWith('.png')) {
    const { values, inverted } = pngSample(bytes, path, shape);
    return {
      count: 1,
      values,
      note: inverted ? 'light background inverted to match white-on-black training images' : undefined,
    };
  }
  const array = parseNpy(bytes, path);
  const perSample = shape.reduce((a, b) => a * b, 1);
  if (shapeFits([...shape], array.shape)) return { count: 1, values: array.values };
  if (array.shape.length >= 1 && shapeFits([...shape], array.shape.slice(1)))
    return { count: array.shape[0]!, values: array.values };
  throw new DatasetError(
    `${path} has shape (${array.shape.join(', ')}), which is neither one sample of the model's input shape ` +
      `[${shape.join(', ')}] nor a stack of them (${perSample} values each)`,
  );
}

/** `7 (0.9812)  1 (0.0101)  9 (0.0040)`: the `top` largest outputs with their names. */
function topClasses(row: Float32Array, names: readonly string[] | undefined, top: number): string {
  return [...row.keys()]
    .sort((a, b) => row[b]! - row[a]!)
    .slice(0, top)
    .map((k) => `${names?.[k] ?? k} (${row[k]!.toFixed(4)})`)
    .join('  ');
}

/** Runs `nnxc predict`. */
export async function predictCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    command: 'predict',
    usage: PREDICT_USAGE,
    options: {
      model: { type: 'string' },
      weights: { type: 'string' },
      input: { type: 'string' },
      top: { type: 'string' },
      json: { type: 'boolean' },
      output: { type: 'string', short: 'o' },
      backend: { type: 'string' },
    },
  });
  if (!values.weights) throw new UsageError('predict needs --weights W.safetensors');
  if (!values.input) throw new UsageError('predict needs --input X.npy or --input IMAGE.png');
  const top = intOption('top', values.top, 1) ?? 3;
  const file = await readSource(positionals[0]);
  if (trainsGan(file.text)) throw refuseGan('predict', file.path);
  const backend = backendOption(values.backend);
  const result = compile(file.text, commandCompileOptions(file.path, values, backend));
  if (report(file, result, io) || !result.compiled) return 1;
  const spec = result.compiled.spec;
  const slots = dataSlots(spec);
  const samples = await readSamples(values.input, slots.input.shape);
  if (values.output) await prepareOutput(values.output, '-o');
  const { model, backendLine } = await createForCommand(spec, { backend });
  let outputs: Float32Array;
  try {
    await model.load(values.weights);
    outputs = await model.predict({ [slots.input.name]: samples.values }, samples.count);
  } finally {
    model.destroy();
  }
  const width = outputs.length / samples.count;
  const names = datasetClassNames(result.train!.data);
  const rows = Array.from({ length: samples.count }, (_, i) => outputs.subarray(i * width, (i + 1) * width));
  if (values.output) await writeAtomically(values.output, encodeNpy([samples.count, width], outputs));
  // stdout holds the predictions: with --json the backend is a note on stderr, as other notes are.
  if (values.json) {
    io.err(`${backendLine}\n`);
    for (const row of rows) {
      const best = row.indexOf(Math.max(...row));
      io.out(
        JSON.stringify({
          output: [...row],
          class: width > 1 ? best : undefined,
          name: width > 1 ? names?.[best] : undefined,
        }) + '\n',
      );
    }
    return 0;
  }
  io.out(`${backendLine}\n`);
  if (samples.note) io.out(`(${samples.note})\n`);
  rows.forEach((row, i) => {
    const text = width > 1 ? topClasses(row, names, top) : row[0]!.toFixed(4);
    io.out(samples.count > 1 ? `${i}: ${text}\n` : `${text}\n`);
  });
  if (values.output) io.out(`wrote ${values.output}: ${samples.count} × ${width} predictions\n`);
  return 0;
}
