/**
 * The epoch loop every kind of module trains with: the shuffle seeded and, on resume, replayed
 * to where the checkpoint left it; after each epoch a diverged loss, then any NaN or infinity in
 * the parameters and state, stops training with {@link TrainingDivergedError}; checkpoints every
 * `every` epochs and after the last; the epoch's log handed on. A kind brings what one epoch
 * runs (a model's batches with their running metrics, a GAN's step pairs).
 */
import { replayShuffles, type TrainingState } from './checkpoint.js';
import { deriveSeed, Rng } from './rng.js';

/** Write a checkpoint (weights, optimizer state, epoch, shuffle state) every `every` epochs. */
export interface CheckpointOptions {
  readonly path: string;
  /** Default 1. The last epoch is always written. */
  readonly every?: number;
}

/** A loss that became NaN or ±Infinity: where it happened, and what checkpoint is left to resume from. */
export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
  constructor(
    readonly epoch: number,
    /** 1-based step within the epoch, and counted over the whole run. */
    readonly step: number,
    readonly globalStep: number,
    readonly value: number,
    readonly lastCheckpoint: string | undefined,
    /**
     * The parameter or state tensor found holding `value` (at the end of an epoch, so `step` is
     * the epoch's last); undefined when it was the loss, found at the step it happened.
     */
    readonly tensor?: string,
  ) {
    const what =
      tensor === undefined
        ? `the loss became ${value} at step ${step} of epoch ${epoch} (step ${globalStep} of the run)`
        : `\`${tensor}\` holds ${value} after step ${step} of epoch ${epoch} (step ${globalStep} of the run)`;
    super(
      `${what}; training stopped. ` +
        `${lastCheckpoint ? `The last good checkpoint is ${lastCheckpoint}` : 'No checkpoint was written'}` +
        `; a lower learning rate may help`,
    );
  }
}

/**
 * Submissions run ahead of the GPU by at most about twice this many steps: enough to keep it busy,
 * few enough that queued uploads of a large epoch do not pile up in memory (a GAN's step pair
 * counts as one step).
 */
export const STEPS_PER_FENCE = 16;

/** What {@link trainEpochs} needs of a module: its seed, the check for non-finite values, and `save`. */
export interface TrainedModule {
  readonly seed: number;
  firstNonFinite(): Promise<{ readonly name: string; readonly value: number } | undefined>;
  save(path: string, training?: TrainingState): Promise<void>;
}

/** The options of `fit` every kind of module takes; the epoch loop reads them. */
export interface EpochLoopOptions<L> {
  /** Train until this epoch; defaults to the block's `epochs`. */
  readonly epochs?: number;
  /** Seed of the shuffle; defaults to the module's seed. */
  readonly seed?: number;
  /** Resume from a checkpoint's training state (from `load`): epochs continue after its epoch. */
  readonly resume?: TrainingState;
  /** Checkpoints to write while training (Node only); the last epoch is always written. */
  readonly checkpoint?: CheckpointOptions;
  readonly onEpoch?: (log: L) => void | Promise<void>;
  readonly signal?: AbortSignal;
}

/** What one kind of module runs in each epoch of {@link trainEpochs}. */
export interface EpochRunner<L extends { readonly epoch: number }> {
  /** How many samples are shuffled, and how many steps an epoch has. */
  readonly samples: number;
  readonly steps: number;
  /** Whether epochs shuffle the samples; `always` for a GAN, which cannot turn it off. */
  readonly shuffle: boolean | 'always';
  /**
   * Trains epoch `epoch` over the samples in `order` (undefined: in their own order) and returns
   * its log. `lastCheckpoint` is for a {@link TrainingDivergedError} thrown at a step.
   */
  readonly run: (
    epoch: number,
    order: Uint32Array | undefined,
    lastCheckpoint: string | undefined,
  ) => Promise<L>;
  /** The log's loss that is not finite, and whether to name it (a GAN has two), or undefined. */
  readonly divergedLoss: (log: L) => { readonly value: number; readonly name?: string } | undefined;
  /** What the log gains once the epoch passed the checks: a model's validation metrics. */
  readonly complete?: (log: L) => Promise<L>;
  /** Whether training stops after this epoch (early stopping). */
  readonly shouldStop?: (log: L) => boolean;
}

/** The epochs {@link trainEpochs} ran. */
export interface TrainedEpochs<L> {
  readonly logs: L[];
  readonly stoppedEarly: boolean;
  readonly lastCheckpoint?: string;
}

/**
 * Trains from the epoch after `options.resume` (or the first) until `options.epochs`, ending bit
 * for bit where an uninterrupted run would: the shuffle's generator is replayed to the
 * checkpoint's state. A diverged loss or a non-finite parameter or state value throws
 * {@link TrainingDivergedError}, naming the last checkpoint written.
 */
export async function trainEpochs<L extends { readonly epoch: number }>(
  module: TrainedModule,
  runner: EpochRunner<L>,
  options: EpochLoopOptions<L> & { readonly epochs: number },
): Promise<TrainedEpochs<L>> {
  const { epochs, resume, checkpoint } = options;
  const shuffleSeed = resume?.shuffleSeed ?? options.seed ?? module.seed;
  const rng = new Rng(deriveSeed(shuffleSeed, 'shuffle'));
  const order = Uint32Array.from({ length: runner.samples }, (_, i) => i);
  if (resume) replayShuffles(rng, order, resume, runner.shuffle);
  const steps = runner.steps;
  const logs: L[] = [];
  let lastCheckpoint: string | undefined;
  for (let epoch = (resume?.epoch ?? 0) + 1; epoch <= epochs; epoch++) {
    const shuffled = runner.shuffle ? rng.shuffle(order) : undefined;
    let log = await runner.run(epoch, shuffled, lastCheckpoint);
    const loss = runner.divergedLoss(log);
    if (loss)
      throw new TrainingDivergedError(epoch, steps, epoch * steps, loss.value, lastCheckpoint, loss.name);
    // A finite loss can hide an overflowed optimizer slot (Adam's v = g² past 3.4e38, whose
    // update is then 0): every epoch checks the parameters and state before they are saved.
    const bad = await module.firstNonFinite();
    if (bad)
      throw new TrainingDivergedError(epoch, steps, epoch * steps, bad.value, lastCheckpoint, bad.name);
    if (runner.complete) log = await runner.complete(log);
    logs.push(log);
    const stop = runner.shouldStop?.(log) ?? false;
    const every = checkpoint?.every ?? 1;
    if (checkpoint && (epoch % every === 0 || epoch === epochs || stop)) {
      await module.save(checkpoint.path, { epoch, shuffleSeed, shuffleState: rng.state() });
      lastCheckpoint = checkpoint.path;
    }
    await options.onEpoch?.(log);
    if (stop) return { logs, stoppedEarly: true, lastCheckpoint };
  }
  return { logs, stoppedEarly: false, lastCheckpoint };
}
