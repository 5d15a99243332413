/**
 * NnxModel executes a compiled ModelSpec on a WebGPU device: every buffer, pipeline and bind group
 * is created once in {@link NnxModel.create}; a training step is then uploads, one compute pass
 * and one submit, and the host reads the GPU only once per epoch (accumulators) or per predicted
 * chunk.
 */

import {
  type Backend,
  type BufferRegion,
  type Readback,
  type TraceWindow,
  WebGpuBackend,
} from './backend.js';
import { type BackendChoice, chooseBackend, createOnWasm, showNoticeOnce } from './choose-backend.js';
import { DeviceModule } from './device-module.js';
import {
  batchFromRecord,
  BatchAssembler,
  type AssembledBatch,
  type Dataset,
  valuesPerSample,
} from './batching.js';
import { checkTensorValues, replayShuffles, type TrainingState } from './checkpoint.js';
import { adaptedParams, adaptValues } from './adapt.js';
import { adapterName, BufferUsage, describe, requestDevice, throwIfDeviceFailed } from './device.js';
import { initialParameterValues, initialStateValues } from './init.js';
import { bindEntry, compileKernels, type CompiledEntry, type PlannedBuffer } from './pipelines.js';
import { importNodeFs } from './node-fs.js';
import { deriveSeed, Rng } from './rng.js';
import { decodeSafetensors } from './safetensors.js';
import { initFromValues, type InitFromOptions, type InitFromValues } from './init-from.js';
import type { TracedStep } from './step-trace.js';
import {
  checkSpec,
  checkSpecLimits,
  ENTRY_NAMES,
  kernelOrigin,
  storageBytes,
  type EntryName,
} from './spec-check.js';
import type { EntrySpec, GanSpec, ModelSpec, TensorSlot, Tiles } from './spec.js';
import { autoTiles, requestedTiles, type TilesChoice, withTiles } from './tiles.js';
import { measureTiles } from './measure-tiles.js';
import { ownEntry } from '../util/own.js';

/** Options of {@link NnxModel.create}. */
export interface CreateModelOptions {
  /** Seed of the initial weights (and the default shuffle seed); 0 when omitted. */
  readonly seed?: number;
  /**
   * Run on this device, one the application already holds, instead of the process's shared one;
   * the model never destroys it. Its limits must fit the model (checked here).
   */
  readonly device?: GPUDevice;
  /** Without `device`: which adapter to ask for (`requestAdapter({ powerPreference })`). */
  readonly powerPreference?: GPUPowerPreference;
  /** Without `device`: ask for the fallback (software) adapter. */
  readonly forceFallbackAdapter?: boolean;
  /**
   * Where to run: `auto` (the default): WebGPU on a hardware adapter (or on `device`), wasm on a
   * CPU one or none; a WebGPU device; or the CPU through WebAssembly (the spec must carry a wasm
   * module: compile with `{ wasm: true }`).
   */
  readonly backend?: BackendChoice;
  /**
   * Where `auto` says, in one line, why a model it would have run on wasm runs on WebGPU (a spec
   * without a wasm module, an op the wasm target lacks); `console.warn` once per reason by default.
   */
  readonly onNotice?: (line: string) => void;
  /** On wasm: the threads each step runs on (1 when omitted; 1 without shared memory, said once). */
  readonly threads?: number;
  /**
   * On WebGPU: which tiling the kernels that have several (matmuls) run in. `auto` (the
   * default): register blocks without barriers on a CPU-like adapter (lavapipe, SwiftShader, a
   * fallback adapter), workgroup-memory GPU tiles on a hardware one; `cpu` or `gpu` force one
   * (a `gpu` variant the device's limits cannot run keeps the default); `measure` times both
   * tilings of each such kernel once per adapter and shape with timestamp queries and runs the
   * faster (the default where the device cannot time). When omitted, the environment variable
   * NNX_TILES may say it (Node).
   */
  readonly tiles?: TilesChoice;
}

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

/** Options of {@link NnxModel.fit}. */
export interface FitOptions {
  /** Defaults to the train block's `epochs`. */
  readonly epochs?: number;
  /** Must equal the batch size the model was compiled with; it is checked, not applied. */
  readonly batchSize?: number;
  /** Visit samples in a new random order each epoch (default true). */
  readonly shuffle?: boolean;
  /** Seed of the shuffle; defaults to the model's seed. */
  readonly seed?: number;
  /** Evaluated after each epoch, reported as `val_loss`, `val_<metric>`. */
  readonly validation?: Dataset;
  readonly onEpoch?: (log: EpochLog) => void | Promise<void>;
  /** Called after each step is submitted; `step` counts from 1 to `steps` within the epoch. */
  readonly onBatch?: (step: number, steps: number) => void;
  /** Called with the running loss and metrics of the epoch, about every 16 steps and at its end. */
  readonly onProgress?: (log: BatchLog) => void;
  /** Resume from a checkpoint's training state (from `load`): epochs continue after its epoch. */
  readonly resume?: TrainingState;
  readonly earlyStopping?: EarlyStoppingOptions;
  /** Checkpoints to write while training (Node only). */
  readonly checkpoint?: CheckpointOptions;
  readonly signal?: AbortSignal;
}

/**
 * Submissions run ahead of the GPU by at most about twice this many steps: enough to keep it busy,
 * few enough that queued uploads of a large epoch do not pile up in memory (a GAN's step pair
 * counts as one step).
 */
export const STEPS_PER_FENCE = 16;

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
      await createBackend('NnxModel.create', spec, checkSpec, ENTRY_NAMES, seed, options),
    );
  }

  /**
   * Runs one training step on one batch, keyed by the train entry's slot names (inputs and
   * targets). Fewer samples than the batch size are padded; `mask`, when not given, is 1 for each
   * real sample. Queues the work and returns; nothing is read back.
   */
  trainStep(batch: Readonly<Record<string, Float32Array>>): void {
    this.checkUsable();
    this.runStep('train', batchFromRecord(this.spec.entries.train, batch, 'trainStep'));
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
    const shuffle = options.shuffle !== false;
    const shuffleSeed = options.resume?.shuffleSeed ?? options.seed ?? this.seed;
    const rng = new Rng(deriveSeed(shuffleSeed, 'shuffle'));
    const order = Uint32Array.from({ length: data.count }, (_, i) => i);
    const firstEpoch = (options.resume?.epoch ?? 0) + 1;
    if (options.resume) replayShuffles(rng, order, options.resume, shuffle);
    const stopper = options.earlyStopping && new EarlyStopping(options.earlyStopping);
    const logs: EpochLog[] = [];
    let lastCheckpoint: string | undefined;
    for (let epoch = firstEpoch; epoch <= epochs; epoch++) {
      const shuffled = shuffle ? rng.shuffle(order) : undefined;
      const tracker = new StepTracker(
        epoch,
        epochs,
        trainBatches,
        this.spec,
        lastCheckpoint,
        options.onProgress,
      );
      const values = await this.runPass(train, trainBatches, 'fit', {
        order: shuffled,
        onBatch: options.onBatch,
        onTrace: (steps) => tracker.observe(steps),
        signal: options.signal,
      });
      if ('loss' in values && !Number.isFinite(values['loss'])) {
        throw new TrainingDivergedError(
          epoch,
          trainBatches.steps,
          epoch * trainBatches.steps,
          values['loss']!,
          lastCheckpoint,
        );
      }
      // A finite loss can hide an overflowed optimizer slot (Adam's v = g² past 3.4e38, whose
      // update is then 0): every epoch checks the parameters and state before they are saved.
      const bad = await this.firstNonFinite();
      if (bad) {
        const steps = trainBatches.steps;
        throw new TrainingDivergedError(epoch, steps, epoch * steps, bad.value, lastCheckpoint, bad.name);
      }
      const log: EpochLog = { epoch, ...values };
      if (validationBatches) {
        const validation = await this.runPass(this.entry('evaluate'), validationBatches, 'fit (validation)', {
          signal: options.signal,
        });
        for (const [name, value] of Object.entries(validation))
          (log as Record<string, number>)[`val_${name}`] = value;
      }
      logs.push(log);
      const stop = stopper?.shouldStop(log) ?? false;
      const every = options.checkpoint?.every ?? 1;
      if (options.checkpoint && (epoch % every === 0 || epoch === epochs || stop)) {
        await this.save(options.checkpoint.path, { epoch, shuffleSeed, shuffleState: rng.state() });
        lastCheckpoint = options.checkpoint.path;
      }
      await options.onEpoch?.(log);
      if (stop) return { epochs: logs, stoppedEarly: true, lastCheckpoint };
    }
    return { epochs: logs, lastCheckpoint };
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
      this.runStep(predict.name, batch, readback);
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
   * Replaces every parameter. `weights` must hold exactly the model's parameters with the right
   * number of values each; otherwise the error names each problem and nothing is changed.
   */
  setWeights(weights: ReadonlyMap<string, Float32Array> | Readonly<Record<string, Float32Array>>): void {
    this.checkUsable();
    const values = weights instanceof Map ? weights : new Map(Object.entries(weights));
    checkTensorValues('setWeights', this.spec.params, values);
    this.writeSlots(this.spec.params, values);
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

  /** Uploads one batch and runs `entry` (on WebGPU: in one command buffer and one submit). */
  private runStep(entry: EntryName, batch: AssembledBatch, readback?: Readback, trace?: TraceWindow): void {
    for (const upload of batch.uploads) this.backend.write(upload.slot.buffer, upload.data);
    this.backend.run(entry, { readback, trace });
  }

  /** Zeroes the accumulators, runs `entry` over every batch, and returns each sum over the count. */
  private async runPass(
    entry: { readonly name: EntryName; readonly spec: EntrySpec },
    batches: BatchAssembler,
    caller: string,
    options: PassOptions,
  ): Promise<Record<string, number>> {
    for (const accumulator of this.spec.accumulators) this.zeroBuffer(accumulator.buffer);
    this.zeroBuffer(this.spec.sampleCount);
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
      this.runStep(entry.name, batches.assemble(step, options.order), undefined, window);
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

  private writeSlots(slots: readonly TensorSlot[], values: ReadonlyMap<string, Float32Array>): void {
    for (const slot of slots) this.backend.write(slot.buffer, values.get(slot.name)!);
  }

  private zeroBuffer(id: number): void {
    this.backend.zero(id);
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

/** Creates every buffer of the plan, reporting an allocation failure with the total size asked for. */
export async function createBuffers(
  device: GPUDevice,
  specs: readonly PlannedBuffer['spec'][],
  caller = 'NnxModel.create',
): Promise<Map<number, PlannedBuffer>> {
  device.pushErrorScope('out-of-memory');
  const buffers = new Map<number, PlannedBuffer>();
  for (const spec of specs) {
    const gpu = device.createBuffer({
      label: `nnx buffer ${spec.id} '${spec.label}'`,
      size: storageBytes(spec),
      usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
    });
    buffers.set(spec.id, { spec, gpu });
  }
  const error = await device.popErrorScope();
  if (error !== null) {
    for (const buffer of buffers.values()) buffer.gpu.destroy();
    const total = specs.reduce((sum, spec) => sum + storageBytes(spec), 0);
    throw new Error(
      `${caller}: out of GPU memory creating ${specs.length} buffers (${total} bytes): ${error.message}`,
    );
  }
  return buffers;
}

function sumOf(values: Float32Array): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum;
}

/** Zero-fills every buffer (queued), as new ones are. */
function zeroBuffers(device: GPUDevice, buffers: ReadonlyMap<number, PlannedBuffer>): void {
  const encoder = device.createCommandEncoder({ label: 'nnx zero buffers' });
  for (const { gpu } of buffers.values()) encoder.clearBuffer(gpu);
  device.queue.submit([encoder.finish()]);
}

/** What a compiled spec needs on a device: its buffers (parameters initialised) and bound entries. */
export interface OnDevice<E extends string> {
  readonly device: GPUDevice;
  /** The tiling the kernels with variants run in; `measured`: each its faster. */
  readonly tiles: Tiles | 'measured';
  readonly buffers: ReadonlyMap<number, PlannedBuffer>;
  readonly entries: Readonly<Record<E, CompiledEntry>>;
}

/**
 * A spec's buffers and entries on the backend `options.backend` chooses, every parameter and
 * seeded state slot initialised from `seed`: how NnxModel and NnxGan alike are created.
 */
export async function createBackend<S extends ModelSpec | GanSpec, E extends keyof S['entries'] & string>(
  caller: string,
  spec: S,
  checkBuffers: (spec: S) => ReadonlyMap<number, PlannedBuffer['spec']>,
  entryNames: readonly E[],
  seed: number,
  options: CreateModelOptions,
): Promise<Backend<E>> {
  const { kind, fallback } = await chooseBackend(caller, spec, options);
  if (fallback !== undefined)
    (options.onNotice ?? showNoticeOnce)(`nnx: model '${spec.name}' runs on WebGPU: ${fallback}`);
  if (kind === 'wasm') return createOnWasm(caller, spec, checkBuffers, entryNames, seed, options.threads);
  const made = await createOnDevice(caller, spec, checkBuffers, entryNames, seed, options);
  return new WebGpuBackend(made.device, made.buffers, made.entries, adapterName(made.device), made.tiles);
}

/**
 * What `NnxModel.create` and `NnxGan.create` share: checks the spec and the device's limits,
 * compiles every kernel, creates every buffer with the parameters initialised from `seed` and
 * the seed's state slot set (new WebGPU buffers are zero-filled, so other state and the
 * accumulators need no upload), and binds the dispatches of each entry. Errors start with
 * `caller` and name the kernel, buffer or slot at fault; on an error every buffer made is
 * destroyed.
 */
export async function createOnDevice<S extends ModelSpec | GanSpec, E extends keyof S['entries'] & string>(
  caller: string,
  spec: S,
  checkBuffers: (spec: S) => ReadonlyMap<number, PlannedBuffer['spec']>,
  entryNames: readonly E[],
  seed: number,
  options: CreateModelOptions,
): Promise<OnDevice<E>> {
  if (!Number.isSafeInteger(seed)) throw new Error(`${caller}: seed must be an integer, got ${seed}`);
  const bufferSpecs = checkBuffers(spec);
  const requested = requestedTiles(options.tiles, caller);
  const device = await requestDevice(options);
  throwIfDeviceFailed(device);
  const tiles = requested === 'auto' ? autoTiles(device) : requested;
  // From here on `spec` is the one that runs: its kernels in the chosen tiles, with their grids.
  if (tiles !== 'measure') spec = withTiles(spec, tiles, device.limits);
  try {
    checkSpecLimits(spec, device.limits);
  } catch (error) {
    throw new Error(
      `${caller}: model '${spec.name}' does not fit the adapter '${adapterName(device)}': ${describe(error)}`,
      { cause: error },
    );
  }
  const compile = () => compileKernels(device, spec.kernels, (index) => kernelOrigin(spec, index));
  // Measuring runs kernels on the new buffers: the ones that run are compiled after it.
  let kernels = tiles === 'measure' ? [] : await compile();
  const buffers = await createBuffers(device, [...bufferSpecs.values()], caller);
  try {
    if (tiles === 'measure') {
      spec = await measureTiles(device, spec, buffers);
      zeroBuffers(device, buffers);
      kernels = await compile();
    }
    for (const param of spec.params)
      device.queue.writeBuffer(buffers.get(param.buffer)!.gpu, 0, initialParameterValues(param, seed));
    for (const slot of spec.state.filter((s) => s.init !== undefined))
      device.queue.writeBuffer(buffers.get(slot.buffer)!.gpu, 0, initialStateValues(slot, seed));
    device.pushErrorScope('validation');
    const entrySpecs = spec.entries as Readonly<Record<E, EntrySpec>>;
    const entries = Object.fromEntries(
      entryNames.map((name) => [name, bindEntry(device, name, entrySpecs[name], kernels, buffers)]),
    ) as Record<E, CompiledEntry>;
    const bindError = await device.popErrorScope();
    if (bindError !== null) throw new Error(`${caller}: binding the dispatches failed: ${bindError.message}`);
    throwIfDeviceFailed(device);
    return { device, tiles: tiles === 'measure' ? 'measured' : tiles, buffers, entries };
  } catch (error) {
    for (const buffer of buffers.values()) buffer.gpu.destroy();
    throw error;
  }
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
