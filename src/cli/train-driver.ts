/**
 * The one training driver of `nnxc train`, for models and GANs alike: it creates the module,
 * says which backend runs it, resumes it, runs its `fit` with the progress display, turns a
 * diverged loss into one line, prints the summary and saves the weights. A kind adds its own
 * steps through {@link TrainHooks} (train-model.ts, train-gan.ts).
 */
import type { CompileOptions } from '../compile.js';
import {
  TrainingDivergedError,
  type BatchLog,
  type CheckpointOptions,
  type CreateModelOptions,
  type EpochLog,
  type ModuleOf,
  type ModuleSpec,
  type TrainingState,
} from '../runtime/index.js';
import type { SourceFile } from '../util/diagnostics.js';
import { createForCommand } from './devices.js';
import { type Io, UserError, prepareOutput } from './io.js';
import { type ProgressMode, makeProgress } from './progress.js';
import type { TrainValues } from './train.js';

/** What one kind of module brings to `nnxc train`. */
export interface Training {
  /** The flags this kind cannot take, as the usage error that names them (before anything compiles). */
  readonly refuse: (values: TrainValues) => void;
  /** Compiles the file, loads its data and trains it through {@link trainModule}; resolves to the exit code. */
  readonly train: (file: SourceFile, run: TrainRun, io: Io) => Promise<number>;
}

/** How `nnxc train` runs, whatever the kind: read from the flags once. */
export interface TrainRun {
  readonly values: TrainValues;
  readonly compileOptions: CompileOptions;
  readonly seed: number;
  readonly limit?: number;
  readonly mode: ProgressMode;
  readonly createOptions: CreateModelOptions;
  readonly resume?: string;
  readonly checkpoint?: CheckpointOptions;
  readonly save?: string;
  /** Which fold of `--folds` this run is. */
  readonly fold?: { readonly index: number; readonly of: number };
}

/** Checks that `--save` and `--checkpoint` can be written, before any training time is spent. */
export async function prepareOutputs(run: TrainRun): Promise<void> {
  if (run.save) await prepareOutput(run.save, '--save');
  if (run.checkpoint) await prepareOutput(run.checkpoint.path, '--checkpoint');
}

/** What {@link trainModule} hands a kind's `fit`: the options both kinds' `fit` take. */
export interface SharedFitOptions {
  readonly epochs: number;
  readonly resume?: TrainingState;
  readonly checkpoint?: CheckpointOptions;
  readonly onProgress: (log: BatchLog) => void;
  readonly onEpoch: (log: EpochLog) => Promise<void>;
}

/** The epochs a kind's `fit` ran. */
export interface TrainedEpochs {
  readonly epochs: readonly EpochLog[];
  readonly stoppedEarly?: boolean;
}

/** A run's last line: the last epoch's values, the seconds taken, and what the kind adds. */
export type TrainSummary = Record<string, number | boolean | string>;

/** What one kind does in a run of {@link trainModule}, around the steps both share. */
export interface TrainHooks<M> {
  /** Training steps per epoch (for the ETA). */
  readonly stepsPerEpoch: number;
  /** Before a checkpoint is loaded: a model's --init-from. */
  readonly beforeResume?: (module: M) => Promise<void>;
  /** After: what the run sets or says before its first epoch. */
  readonly start?: (module: M, resume: TrainingState | undefined) => void;
  /** The kind's own `fit`, given the shared options. */
  readonly fit: (module: M, options: SharedFitOptions) => Promise<TrainedEpochs>;
  /** Values added to each epoch's log once it ran: a GAN's grid of samples. */
  readonly afterEpoch?: (module: M, log: EpochLog) => Promise<Readonly<Record<string, string | number>>>;
  /** Values added to the summary after the last epoch: a model's `test_` metrics. */
  readonly finish?: (module: M) => Promise<Readonly<Record<string, number>>>;
}

/**
 * Creates the module of `spec`, says which backend runs it, resumes it on request, trains it
 * with the progress display, and saves it on request; `hooks` adds what its kind does. Returns
 * the summary it printed last.
 */
export async function trainModule<S extends ModuleSpec>(
  spec: S,
  hooks: TrainHooks<ModuleOf<S>>,
  run: TrainRun,
  io: Io,
): Promise<TrainSummary> {
  const epochs = spec.training.epochs;
  const created = await createForCommand(spec, { seed: run.seed, ...run.createOptions });
  const module: ModuleOf<S> = created.model;
  try {
    // Said once: by the first fold of --folds; with --json on the summary line instead.
    if (run.mode !== 'json' && (run.fold?.index ?? 1) === 1) io.out(`${created.backendLine}\n`);
    await hooks.beforeResume?.(module);
    const resume = run.resume ? await module.load(run.resume) : undefined;
    if (run.resume && !resume)
      throw new UserError(`${run.resume} holds weights but no training state; it cannot be resumed from`);
    hooks.start?.(module, resume);
    const firstEpoch = (resume?.epoch ?? 0) + 1;
    const plan = { epochs, firstEpoch, stepsPerEpoch: hooks.stepsPerEpoch, fold: run.fold };
    const progress = makeProgress(run.mode, plan, io.out, io);
    const started = performance.now();
    const history = await hooks
      .fit(module, {
        epochs,
        resume,
        checkpoint: run.checkpoint,
        onProgress: (log) => progress.batch(log),
        onEpoch: async (log) => progress.epoch({ ...log, ...(await hooks.afterEpoch?.(module, log)) }),
      })
      .catch((e: unknown) => {
        throw e instanceof TrainingDivergedError ? new UserError(e.message) : e;
      });
    const seconds = (performance.now() - started) / 1000;
    // After a resume, the epochs trained so far include the checkpoint's.
    const last = history.epochs[history.epochs.length - 1] ?? { epoch: resume?.epoch ?? 0 };
    const final: TrainSummary = { ...last, seconds: +seconds.toFixed(3) };
    if (history.stoppedEarly) final['stopped_early'] = true;
    Object.assign(final, await hooks.finish?.(module));
    delete final['epoch'];
    const summary = { model: spec.name, backend: module.backend.kind, epochs: last.epoch, ...final };
    progress.done(summary);
    if (run.save) await module.save(run.save);
    if (run.mode !== 'json' && !run.fold) {
      if (run.save) io.out(`saved weights to ${run.save}\n`);
      else if (!run.checkpoint)
        io.out('note: the trained weights were not kept; --save W.safetensors keeps them\n');
    }
    return summary;
  } finally {
    module.destroy();
  }
}
