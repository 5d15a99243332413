/**
 * `nnxc train FILE`: compile the model a train block names, load its dataset, train with a
 * progress display, evaluate the test split, and save weights or checkpoints on request.
 */
import { compile } from '../compile.js';
import {
  NnxModel,
  TrainingDivergedError,
  type CreateModelOptions,
  type FitOptions,
  type InitFromValues,
  type ModelSpec,
} from '../runtime/index.js';
import {
  type Io,
  UsageError,
  UserError,
  floatOption,
  intOption,
  prepareOutput,
  readSource,
  report,
} from './io.js';
import { type FoldData, type ModelData, ReportedError, loadFoldData, loadModelData } from './model-data.js';
import { type ProgressMode, makeProgress } from './progress.js';
import { TRAIN_GAN_USAGE, trainGanCommand, trainsGan } from './train-gan.js';
import {
  BACKEND_CHOICES,
  DEVICE_CHOICES,
  adapterCreateOptions,
  adapterRequestOption,
  backendOption,
  createForCommand,
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

/** Says which parameters `--init-from` set (on stderr with `--json`, whose stdout is JSON lines). */
function reportInitFrom(loaded: InitFromValues, path: string, json: boolean | undefined, io: Io): void {
  const kept = loaded.kept.length ? `; initialised as declared: ${loaded.kept.join(', ')}` : '';
  (json ? io.err : io.out)(
    `initialised ${loaded.values.size} parameters from ${path} (${loaded.layout} layout)${kept}\n`,
  );
}

/** Runs `nnxc train`. */
export async function trainCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    command: 'train',
    usage: TRAIN_USAGE,
    options: {
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
    },
  });
  const file = await readSource(positionals[0]);
  const overrides = {
    epochs: intOption('epochs', values.epochs, 1),
    batch: intOption('batch', values.batch, 1),
    lr: floatOption('lr', values.lr),
  };
  const seed = intOption('seed', values.seed, 0) ?? 0;
  const checkpointEvery = intOption('checkpoint-every', values['checkpoint-every'], 1);
  if (checkpointEvery !== undefined && !values.checkpoint)
    throw new UsageError('--checkpoint-every needs --checkpoint PATH');
  const checkpoint = values.checkpoint ? { path: values.checkpoint, every: checkpointEvery } : undefined;
  const backend = backendOption(values.backend);
  const threads = threadsOption(intOption('threads', values.threads, 1), backend);
  if (trainsGan(file.text)) {
    const onlyTrain = ['validation-split', 'patience', 'monitor', 'init-from', 'init-only', 'folds'];
    return trainGanCommand(
      file,
      {
        overrides,
        settings: values.set ?? [],
        model: values.model,
        seed,
        limit: intOption('limit', values.limit, 1),
        outDir: values['out-dir'],
        grid: values.grid,
        json: values.json,
        save: values.save,
        checkpoint,
        resume: values.resume,
        device: values.device,
        backend,
        threads: intOption('threads', values.threads, 1),
        unsupported: onlyTrain.filter((o) => values[o as keyof typeof values] !== undefined),
      },
      io,
    );
  }
  if (values['out-dir'] !== undefined || values.grid !== undefined)
    throw new UsageError('--out-dir and --grid are for a gan block, which this file does not have');
  const validationSplit = floatOption('validation-split', values['validation-split']);
  if (validationSplit !== undefined && validationSplit >= 1)
    throw new UsageError(`--validation-split must be below 1, got ${validationSplit}`);
  const patience = intOption('patience', values.patience, 1);
  if (values['init-only'] && !values['init-from'])
    throw new UsageError('--init-only chooses what --init-from loads; give --init-from FILE too');
  if (values['init-from'] && values.resume)
    throw new UsageError('--init-from and --resume both set the weights; give one of them');

  const folds = intOption('folds', values.folds, 2);
  if (folds !== undefined) {
    const single = ['save', 'checkpoint', 'resume'].filter(
      (o) => values[o as keyof typeof values] !== undefined,
    );
    if (single.length)
      throw new UsageError(
        `--folds trains a model per fold and keeps none of them; ${single.map((o) => `--${o}`).join(' and ')} ${single.length > 1 ? 'need' : 'needs'} a single run`,
      );
  }

  const result = compile(file.text, {
    overrides,
    fitNamedDatasets: true,
    path: file.path,
    model: values.model,
    settings: values.set ?? [],
    wasm: backend !== 'webgpu',
  });
  if (report(file, result, io) || !result.compiled) return 1;
  const { spec } = result.compiled;
  const dataOptions = { limit: intOption('limit', values.limit, 1), seed, validationSplit };
  const run: RunOptions = {
    seed,
    mode: values.json ? 'json' : io.isTTY ? 'bar' : 'lines',
    createOptions: {
      ...adapterCreateOptions(await adapterRequestOption(values.device)),
      backend,
      threads,
    },
    initFrom: values['init-from'] ? { path: values['init-from'], only: values['init-only'] } : undefined,
    resume: values.resume,
    patience,
    monitor: values.monitor,
    checkpoint,
    save: values.save,
  };
  if (values.save) await prepareOutput(values.save, '--save');
  if (checkpoint) await prepareOutput(checkpoint.path, '--checkpoint');
  try {
    if (folds !== undefined)
      return await crossValidate(
        spec,
        await loadFoldData(file, result, { ...dataOptions, folds }, io),
        run,
        io,
      );
    const data = await loadModelData(file, result, dataOptions, io);
    await trainAndTest(spec, data, run, io);
    if (values.save && !values.json) io.out(`saved weights to ${values.save}\n`);
    else if (!values.save && !values.checkpoint && !values.json)
      io.out('note: the trained weights were not kept; --save W.safetensors keeps them\n');
    return 0;
  } catch (e) {
    if (e instanceof ReportedError) return 1;
    throw e;
  }
}

/** How `nnxc train` trains, whatever the data. */
interface RunOptions {
  readonly seed: number;
  readonly mode: ProgressMode;
  readonly createOptions: CreateModelOptions;
  readonly initFrom?: { readonly path: string; readonly only?: readonly string[] };
  readonly resume?: string;
  readonly patience?: number;
  readonly monitor?: string;
  readonly checkpoint?: { readonly path: string; readonly every?: number };
  readonly save?: string;
  /** Which fold of `--folds` this run is. */
  readonly fold?: { readonly index: number; readonly of: number };
}

/**
 * Trains a new model on `data` with a progress display, tests it on the test split, and saves
 * it on request. Returns the summary it printed last: the last epoch's metrics, the seconds
 * taken, and `test_` metrics when there is a test split.
 */
async function trainAndTest(
  spec: ModelSpec,
  data: ModelData,
  run: RunOptions,
  io: Io,
): Promise<Record<string, number | boolean | string>> {
  const epochs = spec.training.epochs;
  const { model, backendLine } = await createForCommand(spec, { seed: run.seed, ...run.createOptions });
  try {
    // Said once: by the first fold of --folds; with --json on the summary line instead.
    if (run.mode !== 'json' && (run.fold?.index ?? 1) === 1) io.out(`${backendLine}\n`);
    const initialised = new Set<string>();
    if (run.initFrom) {
      const loaded = await model.initFrom(run.initFrom.path, { only: run.initFrom.only });
      for (const name of loaded.values.keys()) initialised.add(name);
      reportInitFrom(loaded, run.initFrom.path, run.mode === 'json', io);
    }
    const resume = run.resume ? await model.load(run.resume) : undefined;
    if (run.resume && !resume)
      throw new UserError(`${run.resume} holds weights but no training state; it cannot be resumed from`);
    // A new run's Normalization layers learn their statistics from its training split; a resumed
    // one has them, and so has a layer whose weights --init-from loaded.
    const toAdapt = spec.params.filter((p) => p.init.adapt && !initialised.has(p.name)).map((p) => p.name);
    if (!resume && toAdapt.length > 0) {
      model.adapt(data.train, { only: toAdapt });
      if (run.mode !== 'json' && !run.fold)
        io.out(`adapted ${toAdapt.join(', ')} to the ${data.train.count} training samples\n`);
    }
    const monitor = run.monitor ?? (data.validation ? 'val_loss' : 'loss');
    const stepsPerEpoch = Math.ceil(data.train.count / spec.entries.train.batch);
    const progress = makeProgress(
      run.mode,
      { epochs, firstEpoch: (resume?.epoch ?? 0) + 1, stepsPerEpoch, fold: run.fold },
      io.out,
      io,
    );
    const options: FitOptions = {
      epochs,
      validation: data.validation,
      resume,
      onProgress: (log) => progress.batch(log),
      onEpoch: (log) => progress.epoch(log),
      earlyStopping: run.patience === undefined ? undefined : { patience: run.patience, monitor },
      checkpoint: run.checkpoint,
    };
    const started = performance.now();
    let history;
    try {
      history = await model.fit(data.train, options);
    } catch (e) {
      if (e instanceof TrainingDivergedError) throw new UserError(e.message);
      throw e;
    }
    const seconds = (performance.now() - started) / 1000;
    const last = history.epochs[history.epochs.length - 1] ?? { epoch: resume?.epoch ?? 0 };
    const final: Record<string, number | boolean> = { ...last, seconds: +seconds.toFixed(3) };
    if (history.stoppedEarly) final['stopped_early'] = true;
    if (data.test) {
      const test = await model.evaluate(data.test);
      for (const [k, v] of Object.entries(test)) final[`test_${k}`] = v;
    }
    delete final['epoch'];
    const summary = { model: spec.name, backend: model.backend.kind, epochs: last.epoch, ...final };
    progress.done(summary);
    if (run.save) await model.save(run.save);
    return summary;
  } finally {
    model.destroy();
  }
}

/**
 * `nnxc train --folds K`: trains a new model on each fold and tests it on the fold's held-out
 * part, then reports the test metrics over all samples (each fold's weighted by its size, so
 * `test_accuracy` is the fraction of all samples classified right) and their spread over folds.
 */
async function crossValidate(
  spec: ModelSpec,
  folds: readonly FoldData[],
  run: RunOptions,
  io: Io,
): Promise<number> {
  const overall = makeProgress(run.mode, spec.training.epochs, io.out);
  const results: Record<string, number | boolean | string>[] = [];
  for (const [i, data] of folds.entries())
    results.push(await trainAndTest(spec, data, { ...run, fold: { index: i + 1, of: folds.length } }, io));
  const samples = folds.reduce((n, f) => n + f.test.count, 0);
  const pooled: Record<string, number> = {};
  for (const key of Object.keys(results[0]!).filter((k) => k.startsWith('test_'))) {
    const perFold = results.map((r) => r[key] as number);
    pooled[key] = perFold.reduce((sum, v, i) => sum + v * folds[i]!.test.count, 0) / samples;
    const mean = perFold.reduce((a, b) => a + b, 0) / perFold.length;
    pooled[`${key}_fold_std`] = Math.sqrt(
      perFold.reduce((sum, v) => sum + (v - mean) ** 2, 0) / perFold.length,
    );
  }
  overall.done({ model: spec.name, folds: folds.length, test_samples: samples, ...pooled });
  return 0;
}
