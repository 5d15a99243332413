/**
 * What `nnxc train` does for a train block's model beyond the one driver in train.ts: its own
 * flags (validation, early stopping, --init-from, --folds), the data split into training,
 * validation and test, Normalization layers adapted to the training split, and the test split
 * evaluated after the last epoch; `--folds K` runs the driver once per fold.
 */
import { compile } from '../compile.js';
import type { InitFromValues, ModelSpec, NnxModel } from '../runtime/index.js';
import type { SourceFile } from '../util/diagnostics.js';
import { type Io, UsageError, floatOption, intOption, report } from './io.js';
import { type FoldData, type ModelData, ReportedError, loadFoldData, loadModelData } from './model-data.js';
import { makeProgress } from './progress.js';
import {
  type TrainHooks,
  type TrainRun,
  type TrainSummary,
  type Training,
  prepareOutputs,
  trainModule,
} from './train-driver.js';
import type { TrainValues } from './train.js';

/** The flags only a model takes, read from the parsed ones. */
interface ModelFlags {
  readonly validationSplit?: number;
  readonly patience?: number;
  readonly monitor?: string;
  readonly initFrom?: { readonly path: string; readonly only?: readonly string[] };
  readonly folds?: number;
}

function modelFlags(values: TrainValues): ModelFlags {
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
    const single = (['save', 'checkpoint', 'resume'] as const).filter((o) => values[o] !== undefined);
    if (single.length)
      throw new UsageError(
        `--folds trains a model per fold and keeps none of them; ${single.map((o) => `--${o}`).join(' and ')} ${single.length > 1 ? 'need' : 'needs'} a single run`,
      );
  }
  const initFrom = values['init-from'] ? { path: values['init-from'], only: values['init-only'] } : undefined;
  return { validationSplit, patience, monitor: values.monitor, initFrom, folds };
}

/** `nnxc train` on a train block's model. */
export const MODEL_TRAINING: Training = {
  refuse: (values) => void modelFlags(values),
  train: trainModel,
};

async function trainModel(file: SourceFile, run: TrainRun, io: Io): Promise<number> {
  const flags = modelFlags(run.values);
  const result = compile(file.text, run.compileOptions);
  if (report(file, result, io) || !result.compiled) return 1;
  const { spec } = result.compiled;
  const dataOptions = { limit: run.limit, seed: run.seed, validationSplit: flags.validationSplit };
  await prepareOutputs(run);
  try {
    if (flags.folds !== undefined) {
      const folds = await loadFoldData(file, result, { ...dataOptions, folds: flags.folds }, io);
      return await crossValidate(spec, folds, flags, run, io);
    }
    const data = await loadModelData(file, result, dataOptions, io);
    await trainModule(spec, modelHooks(spec, data, flags, run, io), run, io);
    return 0;
  } catch (e) {
    if (e instanceof ReportedError) return 1;
    throw e;
  }
}

/** Says which parameters `--init-from` set (on stderr with `--json`, whose stdout is JSON lines). */
function reportInitFrom(loaded: InitFromValues, path: string, json: boolean, io: Io): void {
  const kept = loaded.kept.length ? `; initialised as declared: ${loaded.kept.join(', ')}` : '';
  (json ? io.err : io.out)(
    `initialised ${loaded.values.size} parameters from ${path} (${loaded.layout} layout)${kept}\n`,
  );
}

/** A model's part of a run: --init-from, adapted statistics, validation, early stopping, the test split. */
function modelHooks(
  spec: ModelSpec,
  data: ModelData,
  flags: ModelFlags,
  run: TrainRun,
  io: Io,
): TrainHooks<NnxModel> {
  const initialised = new Set<string>();
  return {
    stepsPerEpoch: Math.ceil(data.train.count / spec.entries.train.batch),
    beforeResume: async (model) => {
      if (!flags.initFrom) return;
      const loaded = await model.initFrom(flags.initFrom.path, { only: flags.initFrom.only });
      for (const name of loaded.values.keys()) initialised.add(name);
      reportInitFrom(loaded, flags.initFrom.path, run.mode === 'json', io);
    },
    start: (model, resume) => {
      // A new run's Normalization layers learn their statistics from its training split; a
      // resumed one has them, and so has a layer whose weights --init-from loaded.
      const toAdapt = spec.params.filter((p) => p.init.adapt && !initialised.has(p.name)).map((p) => p.name);
      if (resume || toAdapt.length === 0) return;
      model.adapt(data.train, { only: toAdapt });
      if (run.mode !== 'json' && !run.fold)
        io.out(`adapted ${toAdapt.join(', ')} to the ${data.train.count} training samples\n`);
    },
    fit: (model, options) => {
      const monitor = flags.monitor ?? (data.validation ? 'val_loss' : 'loss');
      return model.fit(data.train, {
        ...options,
        validation: data.validation,
        earlyStopping: flags.patience === undefined ? undefined : { patience: flags.patience, monitor },
      });
    },
    finish: async (model) => {
      if (!data.test) return {};
      const test = await model.evaluate(data.test);
      return Object.fromEntries(Object.entries(test).map(([k, v]) => [`test_${k}`, v]));
    },
  };
}

/**
 * `nnxc train --folds K`: trains a new model on each fold and tests it on the fold's held-out
 * part, then reports the test metrics over all samples (each fold's weighted by its size, so
 * `test_accuracy` is the fraction of all samples classified right) and their spread over folds.
 */
async function crossValidate(
  spec: ModelSpec,
  folds: readonly FoldData[],
  flags: ModelFlags,
  run: TrainRun,
  io: Io,
): Promise<number> {
  const overall = makeProgress(run.mode, spec.training.epochs, io.out);
  const results: TrainSummary[] = [];
  for (const [i, data] of folds.entries()) {
    const fold = { ...run, fold: { index: i + 1, of: folds.length } };
    results.push(await trainModule(spec, modelHooks(spec, data, flags, fold, io), fold, io));
  }
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
