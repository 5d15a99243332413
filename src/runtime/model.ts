/**
 * NnxModel executes a compiled ModelSpec on a backend (a WebGPU device, or the CPU through
 * WebAssembly): every buffer, pipeline and bind group is created once in {@link NnxModel.create};
 * a training step is then uploads, one compute pass and one submit, and the host reads the
 * backend only once per epoch (accumulators) or per predicted chunk. It is the model's typed
 * facade over {@link DeviceModule}; `fit` runs the one epoch loop of trainer.ts.
 */

import type { Backend, BufferRegion } from './backend.js';
import { DeviceModule } from './device-module.js';
import { type CreateModelOptions, createBackend } from './create.js';
import {
  type CheckpointOptions,
  type EpochLoopOptions,
  STEPS_PER_FENCE,
  TrainingDivergedError,
  trainEpochs,
} from './trainer.js';
import { batchFromRecord, BatchAssembler, type Dataset, valuesPerSample } from './batching.js';
import { adaptedParams, adaptValues } from './adapt.js';
import { describe } from './device.js';
import { importNodeFs } from './node-fs.js';
import { decodeSafetensors } from './safetensors.js';
import { initFromValues, type InitFromOptions, type InitFromValues } from './init-from.js';
import type { TracedStep } from './step-trace.js';
import { checkSpec, ENTRY_NAMES, type EntryName } from './spec-check.js';
import type { EntrySpec, ModelSpec } from './spec.js';
import { ownEntry } from '../util/own.js';

/** What `fit` reports after each epoch: `loss`, each metric, and `val_`-prefixed ones. */
export interface EpochLog {
  /** 1-based epoch number. */
  readonly epoch: number;
  readonly [name: string]: number;
}

/** The logs of every epoch `fit` ran. */
export interface History {
  readonly epochs: EpochLog[];
  /** Set when early stopping ended training before the last epoch. */
  readonly stoppedEarly?: boolean;
  /** The last checkpoint `fit` wrote, if any. */
  readonly lastCheckpoint?: string;
}

/**
 * What `fit` reports while an epoch runs, about every {@link STEPS_PER_FENCE} steps: the running
 * averages of the loss and metrics over the epoch so far.
 */
export interface BatchLog {
  readonly epoch: number;
  readonly epochs: number;
  /** Steps done in this epoch, and how many it has. */
  readonly step: number;
  readonly steps: number;
  /** Samples trained on in this epoch so far. */
  readonly samples: number;
  readonly [name: string]: number;
}

/** Stop when a monitored value has not improved for `patience` epochs (Keras' EarlyStopping). */
export interface EarlyStoppingOptions {
  /** An epoch log entry: `val_loss` (the default), `loss`, `val_accuracy`, … */
  readonly monitor?: string;
  readonly patience: number;
  /** The least change that counts as an improvement (default 0). */
  readonly minDelta?: number;
  /** Whether smaller or larger is better; by default `max` for accuracy, `min` otherwise. */
  readonly mode?: 'min' | 'max';
}

/** Options of {@link NnxModel.fit}: those of every module's, and a model's own. */
export interface FitOptions extends EpochLoopOptions<EpochLog> {
  /** Must equal the batch size the model was compiled with; it is checked, not applied. */
  readonly batchSize?: number;
  /** Visit samples in a new random order each epoch (default true). */
  readonly shuffle?: boolean;
  /** Evaluated after each epoch, reported as `val_loss`, `val_<metric>`. */
  readonly validation?: Dataset;
  /** Called after each step is submitted; `step` counts from 1 to `steps` within the epoch. */
  readonly onBatch?: (step: number, steps: number) => void;
  /** Called with the running loss and metrics of the epoch, about every 16 steps and at its end. */
  readonly onProgress?: (log: BatchLog) => void;
  readonly earlyStopping?: EarlyStoppingOptions;
}

interface PassOptions {
  readonly order?: Uint32Array;
  readonly onBatch?: (step: number, steps: number) => void;
  /** Trace the accumulators after every step and hand each window of steps to this callback. */
  readonly onTrace?: (steps: readonly TracedStep[]) => void;
  readonly signal?: AbortSignal;
}

/** A compiled model on a WebGPU device. Create with {@link NnxModel.create}; free with `destroy`. */
export class NnxModel extends DeviceModule<ModelSpec, EntryName> {
  private constructor(spec: ModelSpec, seed: number, backend: Backend<EntryName>) {
    super(spec, backend, seed, 'model');
  }

  /**
   * Checks `spec` and the device's limits, compiles every kernel, creates and initialises every
   * buffer, and binds every dispatch. Errors name the kernel, buffer or slot at fault.
   */
  static async create(spec: ModelSpec, options: CreateModelOptions = {}): Promise<NnxModel> {
    const seed = options.seed ?? 0;
    return new NnxModel(
      spec,
      seed,
      await createBackend({
        caller: 'NnxModel.create',
        spec,
        checkBuffers: checkSpec,
        entryNames: ENTRY_NAMES,
        seed,
        options,
      }),
    );
  }

  /**
   * Runs one training step on one batch, keyed by the train entry's slot names (inputs and
   * targets). Fewer samples than the batch size are padded; `mask`, when not given, is 1 for each
   * real sample. Queues the work and returns; nothing is read back.
   */
  trainStep(batch: Readonly<Record<string, Float32Array>>): void {
    this.checkUsable();
    this.runEntry('train', batchFromRecord(this.spec.entries.train, batch, 'trainStep').uploads);
  }

  /**
   * Trains until epoch `epochs` and returns each epoch's averaged loss and metrics. With `resume`
   * (a checkpoint's training state) it continues after that epoch and ends bit for bit where an
   * uninterrupted run would. A NaN or infinite loss throws {@link TrainingDivergedError} at its
   * step; so does a NaN or infinity in a parameter or state tensor, checked at each epoch's end.
   */
  async fit(data: Dataset, options: FitOptions = {}): Promise<History> {
    this.checkUsable();
    const train = this.entry('train');
    const epochs = options.epochs ?? this.spec.training.epochs;
    if (!(Number.isSafeInteger(epochs) && epochs >= 0))
      throw new Error(`fit: epochs must be a non-negative integer, got ${epochs}`);
    if (options.batchSize !== undefined && options.batchSize !== train.spec.batch) {
      throw new Error(
        `fit: batchSize ${options.batchSize} differs from the batch size ${train.spec.batch} this model was ` +
          `compiled with; recompile it with batch ${options.batchSize} in its train block`,
      );
    }
    const trainBatches = new BatchAssembler(train.spec, data, 'fit');
    const validationBatches =
      options.validation &&
      new BatchAssembler(this.spec.entries.evaluate, options.validation, 'fit (validation)');
    const stopper = options.earlyStopping && new EarlyStopping(options.earlyStopping);
    const trained = await trainEpochs<EpochLog>(
      this,
      {
        samples: data.count,
        steps: trainBatches.steps,
        shuffle: options.shuffle !== false,
        run: async (epoch, order, lastCheckpoint) => {
          const tracker = new StepTracker(
            epoch,
            epochs,
            trainBatches,
            this.spec,
            lastCheckpoint,
            options.onProgress,
          );
          const values = await this.runPass(train, trainBatches, 'fit', {
            order,
            onBatch: options.onBatch,
            onTrace: (steps) => tracker.observe(steps),
            signal: options.signal,
          });
          return { epoch, ...values };
        },
        divergedLoss: (log) => {
          const loss = log['loss'];
          return loss !== undefined && !Number.isFinite(loss) ? { value: loss } : undefined;
        },
        complete: async (log) => {
          if (!validationBatches) return log;
          const validation = await this.runPass(
            this.entry('evaluate'),
            validationBatches,
            'fit (validation)',
            {
              signal: options.signal,
            },
          );
          const named = Object.entries(validation).map(([name, value]) => [`val_${name}`, value]);
          return { ...log, ...Object.fromEntries(named) };
        },
        shouldStop: stopper && ((log) => stopper.shouldStop(log)),
      },
      { ...options, epochs },
    );
    const { logs, stoppedEarly, lastCheckpoint } = trained;
    return stoppedEarly ? { epochs: logs, stoppedEarly, lastCheckpoint } : { epochs: logs, lastCheckpoint };
  }

  /** Runs the evaluate entry over `data` and returns the averaged loss and metrics. */
  async evaluate(data: Dataset): Promise<Record<string, number>> {
    this.checkUsable();
    const evaluate = this.entry('evaluate');
    return this.runPass(evaluate, new BatchAssembler(evaluate.spec, data, 'evaluate'), 'evaluate', {});
  }

  /**
   * The first output of the predict entry for `count` samples (inferred from the arrays when
   * omitted). `inputs` are keyed by input name, or one array when the model has one input. A
   * model with several outputs: {@link NnxModel.predictOutputs}.
   */
  async predict(
    inputs: Readonly<Record<string, Float32Array>> | Float32Array,
    count?: number,
  ): Promise<Float32Array> {
    const first = this.spec.entries.predict.outputs[0];
    if (first === undefined) throw new Error(`predict: model '${this.spec.name}' has no predict output`);
    return (await this.predictOutputs(inputs, count))[first.name]!;
  }

  /** Every output of the predict entry by name, each `count` samples of that output's shape. */
  async predictOutputs(
    inputs: Readonly<Record<string, Float32Array>> | Float32Array,
    count?: number,
  ): Promise<Record<string, Float32Array>> {
    this.checkUsable();
    const predict = this.entry('predict');
    const outputs = predict.spec.outputs;
    const record = inputs instanceof Float32Array ? this.singleInputRecord(inputs) : inputs;
    const samples = count ?? this.inferSampleCount(record);
    const results = outputs.map((output) => new Float32Array(samples * valuesPerSample(output)));
    const byName = () => Object.fromEntries(outputs.map((o, i) => [o.name, results[i]!]));
    if (samples === 0) return byName();
    const batches = new BatchAssembler(
      predict.spec,
      { count: samples, inputs: record, targets: {} },
      'predict',
    );
    for (let step = 0; step < batches.steps; step++) {
      const batch = batches.assemble(step);
      const readback = this.backend.readback(
        outputs.map((output) => ({
          buffer: output.buffer,
          bytes: batch.realSamples * valuesPerSample(output) * 4,
        })),
      );
      this.runEntry(predict.name, batch.uploads, { readback });
      const values = await readback.read();
      outputs.forEach((output, i) =>
        results[i]!.set(values[i]!, step * predict.spec.batch * valuesPerSample(output)),
      );
    }
    this.backend.checkFailed();
    return byName();
  }

  /**
   * Sets the parameters that hold statistics of the data (each Normalization layer's mean and
   * variance) from `data`, the training samples, as Keras' `adapt` does; `only` limits it to
   * some of them by name. Call it before `fit` on a new model (`nnxc train` does). Returns the
   * names of the parameters it set.
   */
  adapt(data: Dataset, options: { readonly only?: readonly string[] } = {}): string[] {
    this.checkUsable();
    const params = adaptedParams(this.spec.params).filter((p) => options.only?.includes(p.name) ?? true);
    const values = adaptValues(params, data, 'adapt');
    this.writeSlots(params, values);
    return params.map((p) => p.name);
  }

  /**
   * Initialises parameters from another model's weights (transfer learning): a safetensors file
   * with nnx names, or a PyTorch `state_dict` whose layers are matched to this model's in order
   * and converted (Linear `[out, in]` transposed, Conv2d OIHW to HWIO). Parameters the file
   * lacks keep their values; a tensor that fits no parameter is an error naming it, and then
   * nothing is changed. `options.only` loads just the tensors under some layer paths (a
   * trained trunk, not its old head). Returns what was loaded from where.
   */
  initFromBytes(bytes: Uint8Array, options: InitFromOptions = {}, source?: string): InitFromValues {
    this.checkUsable();
    const loaded = initFromValues(this.spec.params, decodeSafetensors(bytes, source), 'initFrom', options);
    this.writeSlots(
      this.spec.params.filter((slot) => loaded.values.has(slot.name)),
      loaded.values,
    );
    return loaded;
  }

  /** {@link NnxModel.initFromBytes} of a file (Node only). */
  async initFrom(path: string, options: InitFromOptions = {}): Promise<InitFromValues> {
    const fs = await importNodeFs();
    let bytes: Uint8Array;
    try {
      bytes = await fs.readFile(path);
    } catch (error) {
      throw new Error(`initFrom: could not read '${path}': ${describe(error)}`, { cause: error });
    }
    try {
      return this.initFromBytes(bytes, options, path);
    } catch (error) {
      if (!(error instanceof Error) || error.message.includes(path)) throw error;
      throw new Error(`${path}: ${error.message}`, { cause: error });
    }
  }

  /** An entry by name, with its spec. */
  private entry(name: EntryName): { readonly name: EntryName; readonly spec: EntrySpec } {
    return { name, spec: this.spec.entries[name] };
  }

  /** Zeroes the accumulators, runs `entry` over every batch, and returns each sum over the count. */
  private async runPass(
    entry: { readonly name: EntryName; readonly spec: EntrySpec },
    batches: BatchAssembler,
    caller: string,
    options: PassOptions,
  ): Promise<Record<string, number>> {
    for (const accumulator of this.spec.accumulators) this.backend.zero(accumulator.buffer);
    this.backend.zero(this.spec.sampleCount);
    const { onTrace } = options;
    // The sample counter is traced last: each traced step carries its own denominator.
    const accumulators = [...this.spec.accumulators.map((a) => a.buffer), this.spec.sampleCount];
    let lastTraced: TracedStep | undefined;
    const newWindow = (step: number) =>
      onTrace && this.backend.traceWindow(accumulators, step + 1, STEPS_PER_FENCE);
    let window = newWindow(0);
    let fence: Promise<unknown> | undefined;
    for (let step = 0; step < batches.steps; step++) {
      options.signal?.throwIfAborted();
      this.runEntry(entry.name, batches.assemble(step, options.order).uploads, { trace: window });
      options.onBatch?.(step + 1, batches.steps);
      const last = step + 1 === batches.steps;
      if ((step + 1) % STEPS_PER_FENCE === 0 || (last && window)) {
        await fence;
        this.backend.checkFailed();
        // A traced window is read as the fence: its map waits for the same submitted work.
        fence = window
          ? window.read().then((steps) => {
              lastTraced = steps[steps.length - 1] ?? lastTraced;
              onTrace!(steps);
            })
          : this.backend.fence();
        // Awaited at the next window or after the loop; marked handled now so that an abort in
        // between does not leave a rejected trace (a diverged loss) unhandled.
        fence.catch(() => undefined);
        window = last ? undefined : newWindow(step + 1);
      }
    }
    await fence;
    // A traced pass already holds the final sums; others read them now, in one round trip.
    return lastTraced ? this.averages(lastTraced.sums, caller) : this.readAccumulators(caller);
  }

  /** Reads every accumulator and the sample counter in one round trip; returns sum / count each. */
  private async readAccumulators(caller: string): Promise<Record<string, number>> {
    const ids = [...this.spec.accumulators.map((accumulator) => accumulator.buffer), this.spec.sampleCount];
    const sums = (await this.backend.read(ids.map((id) => this.wholeBuffer(id)))).map(sumOf);
    this.backend.checkFailed();
    return this.averages(sums, caller);
  }

  /** Each accumulator's sum over the sample count, the last of `sums`. */
  private averages(sums: readonly number[], caller: string): Record<string, number> {
    const count = sums[sums.length - 1]!;
    if (!(Number.isFinite(count) && count > 0)) {
      throw new Error(
        `${caller}: the sample counter (buffer ${this.spec.sampleCount}) reads ${count} after a pass; ` +
          `the compiled entry must add its mask into it`,
      );
    }
    return Object.fromEntries(
      this.spec.accumulators.map((accumulator, i) => [accumulator.name, sums[i]! / count]),
    );
  }

  private wholeBuffer(id: number): BufferRegion {
    return { buffer: id, bytes: this.spec.buffers[id]!.bytes };
  }

  private singleInputRecord(values: Float32Array): Record<string, Float32Array> {
    const inputs = this.spec.entries.predict.inputs.filter((slot) => slot.role === 'input');
    if (inputs.length !== 1) {
      throw new Error(
        `predict: model '${this.spec.name}' has ${inputs.length} inputs (${inputs.map((s) => s.name).join(', ')}); ` +
          `pass them as a record keyed by input name`,
      );
    }
    return { [inputs[0]!.name]: values };
  }

  private inferSampleCount(record: Readonly<Record<string, Float32Array>>): number {
    const first = this.spec.entries.predict.inputs.find((slot) => slot.role === 'input');
    const values = first && ownEntry(record, first.name);
    if (first === undefined || values === undefined) {
      throw new Error(
        `predict: missing input${first ? ` '${first.name}'` : ''}; pass count to predict a model without inputs`,
      );
    }
    const samples = values.length / valuesPerSample(first);
    if (!Number.isInteger(samples)) {
      throw new Error(
        `predict: input '${first.name}' has ${values.length} values, not a whole number of samples of shape [${first.shape.slice(1)}]`,
      );
    }
    return samples;
  }
}

function sumOf(values: Float32Array): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum;
}

/** Turns traced accumulator sums into running epoch averages and finds the step a loss diverged. */
class StepTracker {
  private samples = 0;

  constructor(
    private readonly epoch: number,
    private readonly epochs: number,
    private readonly batches: BatchAssembler,
    private readonly spec: ModelSpec,
    private readonly lastCheckpoint: string | undefined,
    private readonly onProgress: ((log: BatchLog) => void) | undefined,
  ) {}

  observe(steps: readonly TracedStep[]): void {
    let log: BatchLog | undefined;
    for (const { step, sums } of steps) {
      this.samples = sums[sums.length - 1]!;
      const lossIndex = this.spec.accumulators.findIndex((accumulator) => accumulator.name === 'loss');
      const loss = sums[lossIndex];
      if (loss !== undefined && !Number.isFinite(loss)) {
        const globalStep = (this.epoch - 1) * this.batches.steps + step;
        throw new TrainingDivergedError(this.epoch, step, globalStep, loss, this.lastCheckpoint);
      }
      const averages = Object.fromEntries(
        this.spec.accumulators.map((accumulator, i) => [accumulator.name, sums[i]! / this.samples]),
      );
      log = {
        epoch: this.epoch,
        epochs: this.epochs,
        step,
        steps: this.batches.steps,
        samples: this.samples,
        ...averages,
      };
    }
    if (log) this.onProgress?.(log);
  }
}

/** Keras' EarlyStopping: counts epochs without improvement of the monitored log value. */
class EarlyStopping {
  private best: number | undefined;
  private waited = 0;
  private readonly monitor: string;
  private readonly sign: number;

  constructor(private readonly options: EarlyStoppingOptions) {
    this.monitor = options.monitor ?? 'val_loss';
    const mode = options.mode ?? (this.monitor.endsWith('accuracy') ? 'max' : 'min');
    this.sign = mode === 'min' ? 1 : -1;
  }

  shouldStop(log: EpochLog): boolean {
    const value = log[this.monitor];
    if (value === undefined) {
      const known = Object.keys(log).filter((k) => k !== 'epoch');
      throw new Error(
        `fit: early stopping monitors '${this.monitor}', which the epoch logs lack (they have ${known.join(', ')})`,
      );
    }
    const minDelta = this.options.minDelta ?? 0;
    if (this.best === undefined || this.sign * (this.best - value) > minDelta) {
      this.best = value;
      this.waited = 0;
      return false;
    }
    return ++this.waited >= this.options.patience;
  }
}
