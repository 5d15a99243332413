/**
 * NnxGan executes a compiled {@link GanSpec}: two models trained against each other on one
 * backend (a WebGPU device, or the CPU through WebAssembly), the GAN's typed facade over
 * {@link DeviceModule}. Each alternating step is one entry run (on WebGPU one command buffer
 * and one submit): `d_step` uploads a batch of real samples, `g_step` uploads nothing (its
 * noise is drawn by its kernels). Losses are summed on the backend and read once per epoch.
 * `fit` runs the one epoch loop of trainer.ts, so checkpoints are NnxModel's format: both
 * models' parameters and all state (optimizers, the noise counter), plus where training
 * stands, and a resumed run ends bit for bit where an uninterrupted one would.
 */
import { DeviceModule } from './device-module.js';
import type { Backend } from './backend.js';
import { type CreateModelOptions, createBackend } from './create.js';
import { elementCount } from './init.js';
import type { BatchLog } from './model.js';
import { type EpochLoopOptions, STEPS_PER_FENCE, trainEpochs } from './trainer.js';
import { deriveSeed, Rng } from './rng.js';
import { checkGanSpec } from './spec-check.js';
import type { EntryInput, EntrySpec, GanSpec } from './spec.js';

/** What {@link NnxGan.fit} reports after each epoch: each side's mean loss over the epoch. */
export type GanEpochLog = {
  readonly epoch: number;
  readonly d_loss: number;
  readonly g_loss: number;
};

/** Real samples for {@link NnxGan.fit}: `count` rows of the discriminator's input, values in [0, 1]. */
export interface GanData {
  readonly count: number;
  readonly samples: Float32Array;
}

/** Options of {@link NnxGan.fit}: those of every module's, and its step callbacks. */
export interface GanFitOptions extends EpochLoopOptions<GanEpochLog> {
  /** Called after each pair of steps is submitted; `step` counts from 1 to `steps` within the epoch. */
  readonly onStep?: (step: number, steps: number) => void;
  /**
   * Called about every {@link STEPS_PER_FENCE} step pairs and at the epoch's end with where the
   * epoch stands; the losses are read once an epoch, so it carries none.
   */
  readonly onProgress?: (log: BatchLog) => void;
}

type GanEntry = keyof GanSpec['entries'];

/** A compiled GAN on a backend. Create with {@link NnxGan.create}; free with `destroy`. */
export class NnxGan extends DeviceModule<GanSpec, GanEntry> {
  private constructor(spec: GanSpec, seed: number, backend: Backend<GanEntry>) {
    super(spec, backend, seed, 'GAN');
  }

  /**
   * Checks the spec (and on WebGPU the device's limits), sets up every kernel and initialises
   * both models from `seed`, on the backend `options.backend` chooses (WebGPU by default).
   */
  static async create(spec: GanSpec, options: CreateModelOptions = {}): Promise<NnxGan> {
    const seed = options.seed ?? 0;
    const entryNames = Object.keys(spec.entries) as GanEntry[];
    return new NnxGan(
      spec,
      seed,
      await createBackend({
        caller: 'NnxGan.create',
        spec,
        checkBuffers: checkGanSpec,
        entryNames: entryNames,
        seed,
        options,
      }),
    );
  }

  /** The discriminator's input: real samples per step, `[batch, …]`. */
  get realSlot(): EntryInput {
    return this.spec.entries.d_step.inputs.find((slot) => slot.role === 'input')!;
  }

  /** The generator's input: noise per sample, `[batch, …]`. */
  get noiseSlot(): EntryInput {
    return this.spec.entries.generate.inputs.find((slot) => slot.role === 'input')!;
  }

  /**
   * One discriminator step on a full batch of real samples (values in [0, 1]; mapped to the
   * gan block's `data_range` by the step's kernels) and as many generated ones. One entry run;
   * nothing is read.
   */
  trainDiscriminatorStep(real: Float32Array): void {
    this.checkUsable();
    const slot = this.realSlot;
    if (real.length !== elementCount(slot.shape)) {
      throw new Error(
        `trainDiscriminatorStep: expected ${elementCount(slot.shape)} values (a batch of shape [${slot.shape}]), got ${real.length}`,
      );
    }
    this.runEntry('d_step', [{ slot, data: real }]);
  }

  /** One generator step: fresh noise through both models, only the generator updated. One submit. */
  trainGeneratorStep(): void {
    this.checkUsable();
    this.runEntry('g_step');
  }

  /**
   * Trains until epoch `epochs`: each epoch visits the samples in a new random order, one
   * discriminator step then one generator step per full batch (a partial last batch is left
   * out). With `resume` (a checkpoint's training state) it continues after that epoch and ends
   * bit for bit where an uninterrupted run would. Returns the logs of the epochs it ran.
   */
  async fit(data: GanData, options: GanFitOptions = {}): Promise<GanEpochLog[]> {
    this.checkUsable();
    const batch = this.spec.entries.d_step.batch;
    const width = elementCount(this.realSlot.shape.slice(1));
    if (data.samples.length !== data.count * width)
      throw new Error(
        `fit: ${data.count} samples of ${width} values need ${data.count * width} values, got ${data.samples.length}`,
      );
    const steps = Math.floor(data.count / batch);
    if (steps === 0) throw new Error(`fit: ${data.count} samples make no full batch of ${batch}`);
    const epochs = options.epochs ?? this.spec.training.epochs;
    const real = new Float32Array(batch * width);
    const report = (epoch: number, step: number) =>
      options.onProgress?.({ epoch, epochs, step, steps, samples: step * batch });
    const trained = await trainEpochs<GanEpochLog>(
      this,
      {
        samples: data.count,
        steps,
        shuffle: 'always',
        run: async (epoch, order) => {
          this.zeroAccumulators();
          let fence: Promise<unknown> | undefined;
          for (let step = 0; step < steps; step++) {
            options.signal?.throwIfAborted();
            for (let i = 0; i < batch; i++) {
              const from = order![step * batch + i]! * width;
              real.set(data.samples.subarray(from, from + width), i * width);
            }
            this.trainDiscriminatorStep(real);
            this.trainGeneratorStep();
            options.onStep?.(step + 1, steps);
            if ((step + 1) % STEPS_PER_FENCE === 0) {
              await fence;
              fence = this.backend.fence();
              if (step + 1 < steps) report(epoch, step + 1);
            }
          }
          await fence;
          report(epoch, steps);
          return { epoch, ...(await this.losses()) };
        },
        // The losses are read once an epoch; the parameters and state (Adam's slots) are checked with them.
        divergedLoss: (log) => {
          const name = (['d_loss', 'g_loss'] as const).find((loss) => !Number.isFinite(log[loss]));
          return name && { name, value: log[name] };
        },
      },
      { ...options, epochs },
    );
    return trained.logs;
  }

  /** The mean discriminator and generator losses since the accumulators were last zeroed. */
  async losses(): Promise<{ d_loss: number; g_loss: number }> {
    const { d_step: d, g_step: g } = this.spec.accumulators;
    const ids = [d.loss, d.count, g.loss, g.count];
    const [dl, dc, gl, gc] = (await this.backend.read(ids.map((buffer) => ({ buffer, bytes: 4 })))).map(
      (values) => values[0]!,
    );
    this.backend.checkFailed();
    return { d_loss: dl! / Math.max(dc!, 1), g_loss: gl! / Math.max(gc!, 1) };
  }

  /**
   * Generated samples, `[count, …]` in the gan block's `data_range`, from `noise` (`count` rows
   * of the generator's input) or, given a number, from that many rows of the noise the GAN
   * trains on ({@link hostNoise}), seeded by `seed`.
   */
  async generate(noise: Float32Array | number, seed = this.seed): Promise<Float32Array> {
    this.checkUsable();
    const entry: EntrySpec = this.spec.entries.generate;
    const zWidth = elementCount(this.noiseSlot.shape.slice(1));
    const z = typeof noise === 'number' ? hostNoise(noise * zWidth, seed, this.spec.training.noise) : noise;
    if (z.length % zWidth !== 0)
      throw new Error(`generate: noise of ${z.length} values is not a whole number of rows of ${zWidth}`);
    const count = z.length / zWidth;
    const output = entry.outputs[0]!;
    const width = elementCount(output.shape.slice(1));
    const batch = entry.batch;
    const result = new Float32Array(count * width);
    for (let start = 0; start < count; start += batch) {
      const rows = Math.min(batch, count - start);
      const chunk = new Float32Array(batch * zWidth);
      chunk.set(z.subarray(start * zWidth, (start + rows) * zWidth));
      const readback = this.backend.readback([{ buffer: output.buffer, bytes: rows * width * 4 }]);
      this.runEntry('generate', [{ slot: this.noiseSlot, data: chunk }], { readback });
      const [values] = await readback.read();
      result.set(values!, start * width);
    }
    this.backend.checkFailed();
    return result;
  }

  private zeroAccumulators(): void {
    for (const { loss, count } of Object.values(this.spec.accumulators))
      for (const id of [loss, count]) this.backend.zero(id);
  }
}

/**
 * `n` draws of the noise a GAN trains on (N(0, 1), or uniform in [−1, 1) as the kernels draw it)
 * from a seeded generator: the same noise for the same seed.
 */
export function hostNoise(n: number, seed: number, kind: GanSpec['training']['noise']): Float32Array {
  const rng = new Rng(deriveSeed(seed, 'noise'));
  const draw = kind === 'normal' ? () => rng.normal() : () => rng.uniformIn(-1, 1);
  return Float32Array.from({ length: n }, draw);
}
