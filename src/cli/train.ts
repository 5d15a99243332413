/**
 * `nnxc train FILE`: compile the file's module (a train block's model, or a gan block's pair),
 * load its data, train it with a progress display, and save weights or checkpoints on request.
 *
 * One command and one driver for both kinds: the flags are read here, and the backend line,
 * resuming, the progress display, a diverged loss as one line, the summary and the save are
 * written once in train-driver.ts. What truly differs lives beside it, chosen by the module's kind from
 * {@link TRAININGS}: a model's --init-from, adapted statistics, validation, test split and
 * --folds (train-model.ts), a GAN's grids of generated samples (train-gan.ts).
 */
import type { ParseArgsOptionsConfig } from 'node:util';
import type { ModuleSpec } from '../runtime/index.js';
import { type Io, UsageError, floatOption, intOption, readSource } from './io.js';
import type { TrainRun, Training } from './train-driver.js';
import { GAN_TRAINING, TRAIN_GAN_USAGE, trainsGan } from './train-gan.js';
import { MODEL_TRAINING } from './train-model.js';
import {
  BACKEND_CHOICES,
  DEVICE_CHOICES,
  adapterCreateOptions,
  adapterRequestOption,
  backendOption,
  commandCompileOptions,
  threadsOption,
} from './devices.js';
import { parseCommandArgs } from './args.js';

/** The usage lines of `nnxc train`. */
export const TRAIN_USAGE = `  nnxc train FILE [--model NAME] [--epochs N] [--seed S] [--batch N] [--lr X] [--json] [--save W.safetensors]
        [--set FIELD=VALUE]...  (e.g. --set optimizer.lr=0.01, --set loss_weights.parity=0.5)
        [--limit N] [--validation-split F] [--patience N] [--monitor NAME]
        [--folds K]  (k-fold cross-validation over all samples: a model per fold, each tested on its held-out part)
        [--checkpoint C.safetensors] [--checkpoint-every N] [--resume C.safetensors]
        [--device ${DEVICE_CHOICES}]  (see nnxc devices)
        [--backend ${BACKEND_CHOICES}]  [--threads N]  (wasm: the CPU, on N threads; auto, the default: wasm when the only adapter is a CPU one)
        [--init-from BASE.safetensors]  (nnx or PyTorch state_dict weights, matched by name or layer order)
        [--init-only LAYER]...  (load only the tensors under these layer paths, e.g. trunk_1)
                                       compile and train on the train block's dataset
${TRAIN_GAN_USAGE}`;

const TRAIN_OPTIONS = {
  model: { type: 'string' },
  epochs: { type: 'string' },
  seed: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  set: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  save: { type: 'string' },
  limit: { type: 'string' },
  'validation-split': { type: 'string' },
  patience: { type: 'string' },
  monitor: { type: 'string' },
  checkpoint: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  resume: { type: 'string' },
  device: { type: 'string' },
  backend: { type: 'string' },
  threads: { type: 'string' },
  'init-from': { type: 'string' },
  'init-only': { type: 'string', multiple: true },
  folds: { type: 'string' },
  'out-dir': { type: 'string' },
  grid: { type: 'string' },
} satisfies ParseArgsOptionsConfig;

function parseTrainArgs(args: string[]) {
  return parseCommandArgs(args, { command: 'train', usage: TRAIN_USAGE, options: TRAIN_OPTIONS });
}

/** The flags of `nnxc train` as parsed, before either kind reads its own. */
export type TrainValues = ReturnType<typeof parseTrainArgs>['values'];

/** The kinds of module `nnxc train` trains, by the kind of spec each compiles to. */
const TRAININGS: { readonly [K in NonNullable<ModuleSpec['kind']>]: Training } = {
  model: MODEL_TRAINING,
  gan: GAN_TRAINING,
};

/** Runs `nnxc train`. */
export async function trainCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseTrainArgs(args);
  const file = await readSource(positionals[0]);
  const training = TRAININGS[trainsGan(file.text) ? 'gan' : 'model'];
  const overrides = {
    epochs: intOption('epochs', values.epochs, 1),
    batch: intOption('batch', values.batch, 1),
    lr: floatOption('lr', values.lr),
  };
  const seed = intOption('seed', values.seed, 0) ?? 0;
  const checkpointEvery = intOption('checkpoint-every', values['checkpoint-every'], 1);
  if (checkpointEvery !== undefined && !values.checkpoint)
    throw new UsageError('--checkpoint-every needs --checkpoint PATH');
  const backend = backendOption(values.backend);
  const threads = threadsOption(intOption('threads', values.threads, 1), backend);
  training.refuse(values);
  const run: TrainRun = {
    values,
    compileOptions: {
      ...commandCompileOptions(file.path, values, backend),
      overrides,
      fitNamedDatasets: true,
    },
    seed,
    limit: intOption('limit', values.limit, 1),
    mode: values.json ? 'json' : io.isTTY ? 'bar' : 'lines',
    createOptions: {
      ...adapterCreateOptions(await adapterRequestOption(values.device)),
      backend,
      threads,
    },
    resume: values.resume,
    checkpoint: values.checkpoint ? { path: values.checkpoint, every: checkpointEvery } : undefined,
    save: values.save,
  };
  return training.train(file, run, io);
}
