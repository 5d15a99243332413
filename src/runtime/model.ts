/**
 * NnxModel executes a compiled ModelSpec on a WebGPU device: every buffer, pipeline and bind group
 * is created once in {@link NnxModel.create}; a training step is then uploads, one compute pass
 * and one submit, and the host reads the GPU only once per epoch (accumulators) or per predicted
 * chunk.
 */

import {
  batchFromRecord,
  BatchAssembler,
  type AssembledBatch,
  type Dataset,
  valuesPerSample,
} from './batching.js';
import {
  checkpointMetadata,
  checkpointTensors,
  checkTensorValues,
  readCheckpoint,
  type CheckpointValues,
} from './checkpoint.js';
import { BufferUsage, describe, requestDevice, throwIfDeviceFailed } from './device.js';
import { elementCount, initialParameterValues } from './init.js';
import {
  bindEntry,
  compileKernels,
  encodeEntry,
  type CompiledEntry,
  type PlannedBuffer,
} from './pipelines.js';
import { readBuffers, StagedReadback, type ReadbackRegion } from './readback.js';
import { deriveSeed, Rng } from './rng.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
import { checkSpec, checkSpecLimits, ENTRY_NAMES, storageBytes, type EntryName } from './spec-check.js';
import type { ModelSpec, TensorSlot } from './spec.js';

/** Options of {@link NnxModel.create}. */
export interface CreateModelOptions {
  /** Seed of the initial weights (and the default shuffle seed); 0 when omitted. */
  readonly seed?: number;
  /** Run on this device instead of the process's shared one. */
  readonly device?: GPUDevice;
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
  readonly signal?: AbortSignal;
}

/**
 * Submissions run ahead of the GPU by at most about twice this many steps: enough to keep it busy,
 * few enough that queued uploads of a large epoch do not pile up in memory.
 */
const STEPS_PER_FENCE = 16;

interface PassOptions {
  readonly order?: Uint32Array;
  readonly onBatch?: (step: number, steps: number) => void;
  readonly signal?: AbortSignal;
}

/** A compiled model on a WebGPU device. Create with {@link NnxModel.create}; free with `destroy`. */
export class NnxModel {
  private destroyed = false;

  private constructor(
    /** The spec this model executes. */
    readonly spec: ModelSpec,
    /** The device it runs on. */
    readonly device: GPUDevice,
    /** The seed of its initial weights. */
    readonly seed: number,
    private readonly buffers: ReadonlyMap<number, PlannedBuffer>,
    private readonly entries: Readonly<Record<EntryName, CompiledEntry>>,
  ) {}

  /**
   * Checks `spec` and the device's limits, compiles every kernel, creates and initialises every
   * buffer, and binds every dispatch. Errors name the kernel, buffer or slot at fault.
   */
  static async create(spec: ModelSpec, options: CreateModelOptions = {}): Promise<NnxModel> {
    const seed = options.seed ?? 0;
    if (!Number.isSafeInteger(seed)) throw new Error(`NnxModel.create: seed must be an integer, got ${seed}`);
    const bufferSpecs = checkSpec(spec);
    const device = await requestDevice({ device: options.device });
    throwIfDeviceFailed(device);
    checkSpecLimits(spec, device.limits);
    const kernels = await compileKernels(device, spec.kernels);
    const buffers = await createBuffers(device, [...bufferSpecs.values()]);
    try {
      for (const param of spec.params) {
        device.queue.writeBuffer(buffers.get(param.buffer)!.gpu, 0, initialParameterValues(param, seed));
      }
      // New WebGPU buffers are zero-filled, so state and accumulators need no upload.
      device.pushErrorScope('validation');
      const entries = Object.fromEntries(
        ENTRY_NAMES.map((name) => [name, bindEntry(device, name, spec.entries[name], kernels, buffers)]),
      ) as Record<EntryName, CompiledEntry>;
      const bindError = await device.popErrorScope();
      if (bindError !== null)
        throw new Error(`NnxModel.create: binding the dispatches failed: ${bindError.message}`);
      throwIfDeviceFailed(device);
      return new NnxModel(spec, device, seed, buffers, entries);
    } catch (error) {
      for (const buffer of buffers.values()) buffer.gpu.destroy();
      throw error;
    }
  }

  /**
   * Runs one training step on one batch, keyed by the train entry's slot names (inputs and
   * targets). Fewer samples than the batch size are padded; `mask`, when not given, is 1 for each
   * real sample. Queues the work and returns; nothing is read back.
   */
  trainStep(batch: Readonly<Record<string, Float32Array>>): void {
    this.checkUsable();
    const train = this.entries.train;
    this.runStep(train, batchFromRecord(train.spec, batch, 'trainStep'));
  }

  /** Trains for `epochs` epochs and returns each epoch's averaged loss and metrics. */
  async fit(data: Dataset, options: FitOptions = {}): Promise<History> {
    this.checkUsable();
    const train = this.entries.train;
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
      new BatchAssembler(this.entries.evaluate.spec, options.validation, 'fit (validation)');
    const rng = new Rng(deriveSeed(options.seed ?? this.seed, 'shuffle'));
    const order = Uint32Array.from({ length: data.count }, (_, i) => i);
    const logs: EpochLog[] = [];
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const shuffled = options.shuffle === false ? undefined : rng.shuffle(order);
      const values = await this.runPass(train, trainBatches, 'fit', {
        order: shuffled,
        onBatch: options.onBatch,
        signal: options.signal,
      });
      if ('loss' in values && !Number.isFinite(values['loss'])) {
        throw new Error(
          `fit: the loss became ${values['loss']} in epoch ${epoch}; training diverged (a lower learning rate may help)`,
        );
      }
      const log: EpochLog = { epoch, ...values };
      if (validationBatches) {
        const validation = await this.runPass(this.entries.evaluate, validationBatches, 'fit (validation)', {
          signal: options.signal,
        });
        for (const [name, value] of Object.entries(validation))
          (log as Record<string, number>)[`val_${name}`] = value;
      }
      logs.push(log);
      await options.onEpoch?.(log);
    }
    return { epochs: logs };
  }

  /** Runs the evaluate entry over `data` and returns the averaged loss and metrics. */
  async evaluate(data: Dataset): Promise<Record<string, number>> {
    this.checkUsable();
    const evaluate = this.entries.evaluate;
    return this.runPass(evaluate, new BatchAssembler(evaluate.spec, data, 'evaluate'), 'evaluate', {});
  }

  /**
   * The first output of the predict entry for `count` samples (inferred from the arrays when
   * omitted). `inputs` are keyed by input name, or one array when the model has one input.
   */
  async predict(
    inputs: Readonly<Record<string, Float32Array>> | Float32Array,
    count?: number,
  ): Promise<Float32Array> {
    this.checkUsable();
    const predict = this.entries.predict;
    const output = predict.spec.outputs[0];
    if (output === undefined) throw new Error(`predict: model '${this.spec.name}' has no predict output`);
    const record = inputs instanceof Float32Array ? this.singleInputRecord(inputs) : inputs;
    const samples = count ?? this.inferSampleCount(record);
    const perSample = valuesPerSample(output);
    const result = new Float32Array(samples * perSample);
    if (samples === 0) return result;
    const batches = new BatchAssembler(
      predict.spec,
      { count: samples, inputs: record, targets: {} },
      'predict',
    );
    const outputBuffer = this.buffers.get(output.buffer)!.gpu;
    for (let step = 0; step < batches.steps; step++) {
      const batch = batches.assemble(step);
      const readback = new StagedReadback(this.device, [
        { buffer: outputBuffer, bytes: batch.realSamples * perSample * 4 },
      ]);
      this.runStep(predict, batch, readback);
      const [values] = await readback.read();
      result.set(values!, step * predict.spec.batch * perSample);
    }
    throwIfDeviceFailed(this.device);
    return result;
  }

  /** Reads every parameter, by name, in one round trip. */
  async getWeights(): Promise<Map<string, Float32Array>> {
    this.checkUsable();
    return (await this.readSlots(this.spec.params)).params;
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

  /** A safetensors checkpoint of the parameters and the state (as `@state/<name>`). */
  async saveBytes(): Promise<Uint8Array> {
    this.checkUsable();
    const values = await this.readSlots(this.spec.params, this.spec.state);
    return encodeSafetensors(checkpointTensors(this.spec, values), checkpointMetadata(this.spec));
  }

  /**
   * Loads a checkpoint from {@link NnxModel.saveBytes}. Its parameters must match the model's
   * names and shapes exactly; state it lacks is reset to zero. Nothing changes when it fails.
   */
  loadBytes(bytes: Uint8Array): void {
    this.checkUsable();
    const values = readCheckpoint(this.spec, decodeSafetensors(bytes), 'loadBytes');
    this.writeSlots(this.spec.params, values.params);
    if (values.state !== undefined) this.writeSlots(this.spec.state, values.state);
    else for (const slot of this.spec.state) this.zeroBuffer(slot.buffer);
  }

  /** Writes a checkpoint to `path` (Node only), atomically: a temporary file, then a rename. */
  async save(path: string): Promise<void> {
    const bytes = await this.saveBytes();
    const fs = await importNodeFs();
    const temporary = `${path}.tmp-${process.pid}`;
    try {
      await fs.writeFile(temporary, bytes);
      await fs.rename(temporary, path);
    } catch (error) {
      await fs.rm(temporary, { force: true }).catch(() => undefined);
      throw new Error(`save: could not write the checkpoint '${path}': ${describe(error)}`, { cause: error });
    }
  }

  /** Loads a checkpoint file written by {@link NnxModel.save} (Node only). */
  async load(path: string): Promise<void> {
    const fs = await importNodeFs();
    let bytes: Uint8Array;
    try {
      bytes = await fs.readFile(path);
    } catch (error) {
      throw new Error(`load: could not read the checkpoint '${path}': ${describe(error)}`, { cause: error });
    }
    this.loadBytes(bytes);
  }

  /**
   * Frees the model's GPU buffers. The device is left alone (it may be shared or the caller's);
   * in Node, Dawn may still keep the process alive, so CLI code should end with `process.exit`.
   */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const buffer of this.buffers.values()) buffer.gpu.destroy();
  }

  private checkUsable(): void {
    if (this.destroyed) throw new Error(`model '${this.spec.name}' was destroyed and can no longer be used`);
    throwIfDeviceFailed(this.device);
  }

  /** Uploads one batch and runs `entry` in one command buffer and one submit. */
  private runStep(entry: CompiledEntry, batch: AssembledBatch, readback?: StagedReadback): void {
    for (const upload of batch.uploads) {
      this.device.queue.writeBuffer(this.buffers.get(upload.slot.buffer)!.gpu, 0, upload.data);
    }
    const encoder = this.device.createCommandEncoder({ label: `nnx ${entry.name}` });
    encodeEntry(encoder, entry);
    readback?.encodeCopies(encoder);
    this.device.queue.submit([encoder.finish()]);
  }

  /** Zeroes the accumulators, runs `entry` over every batch, and returns each sum over the count. */
  private async runPass(
    entry: CompiledEntry,
    batches: BatchAssembler,
    caller: string,
    options: PassOptions,
  ): Promise<Record<string, number>> {
    for (const accumulator of this.spec.accumulators) this.zeroBuffer(accumulator.buffer);
    this.zeroBuffer(this.spec.sampleCount);
    let fence: Promise<unknown> | undefined;
    for (let step = 0; step < batches.steps; step++) {
      options.signal?.throwIfAborted();
      this.runStep(entry, batches.assemble(step, options.order));
      options.onBatch?.(step + 1, batches.steps);
      if ((step + 1) % STEPS_PER_FENCE === 0) {
        await fence;
        throwIfDeviceFailed(this.device);
        fence = this.device.queue.onSubmittedWorkDone().catch(() => undefined);
      }
    }
    return this.readAccumulators(caller);
  }

  /** Reads every accumulator and the sample counter in one round trip; returns sum / count each. */
  private async readAccumulators(caller: string): Promise<Record<string, number>> {
    const ids = [...this.spec.accumulators.map((accumulator) => accumulator.buffer), this.spec.sampleCount];
    const sums = (
      await readBuffers(
        this.device,
        ids.map((id) => this.wholeBuffer(id)),
      )
    ).map(sumOf);
    throwIfDeviceFailed(this.device);
    const count = sums.pop()!;
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

  private async readSlots(
    params: readonly TensorSlot[],
    state: readonly TensorSlot[] = [],
  ): Promise<CheckpointValues & { params: Map<string, Float32Array> }> {
    const regions = [...params, ...state].map((slot): ReadbackRegion => ({
      buffer: this.buffers.get(slot.buffer)!.gpu,
      bytes: elementCount(slot.shape) * 4,
    }));
    const values = await readBuffers(this.device, regions);
    throwIfDeviceFailed(this.device);
    const byName = (slots: readonly TensorSlot[], offset: number): Map<string, Float32Array> =>
      new Map(slots.map((slot, i) => [slot.name, values[offset + i]!]));
    return { params: byName(params, 0), state: byName(state, params.length) };
  }

  private writeSlots(slots: readonly TensorSlot[], values: ReadonlyMap<string, Float32Array>): void {
    for (const slot of slots)
      this.device.queue.writeBuffer(this.buffers.get(slot.buffer)!.gpu, 0, values.get(slot.name)!);
  }

  private zeroBuffer(id: number): void {
    const buffer = this.buffers.get(id)!;
    this.device.queue.writeBuffer(buffer.gpu, 0, new Float32Array(buffer.gpu.size / 4));
  }

  private wholeBuffer(id: number): ReadbackRegion {
    const buffer = this.buffers.get(id)!.gpu;
    return { buffer, bytes: buffer.size };
  }

  private singleInputRecord(values: Float32Array): Record<string, Float32Array> {
    const inputs = this.entries.predict.spec.inputs.filter((slot) => slot.role === 'input');
    if (inputs.length !== 1) {
      throw new Error(
        `predict: model '${this.spec.name}' has ${inputs.length} inputs (${inputs.map((s) => s.name).join(', ')}); ` +
          `pass them as a record keyed by input name`,
      );
    }
    return { [inputs[0]!.name]: values };
  }

  private inferSampleCount(record: Readonly<Record<string, Float32Array>>): number {
    const first = this.entries.predict.spec.inputs.find((slot) => slot.role === 'input');
    const values = first && record[first.name];
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
async function createBuffers(
  device: GPUDevice,
  specs: readonly PlannedBuffer['spec'][],
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
      `NnxModel.create: out of GPU memory creating ${specs.length} buffers (${total} bytes): ${error.message}`,
    );
  }
  return buffers;
}

function sumOf(values: Float32Array): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum;
}

// A non-literal specifier keeps browser bundlers from pulling node:fs into the runtime.
async function importNodeFs(): Promise<typeof import('node:fs/promises')> {
  const nodeFs = 'node:fs/promises';
  return (await import(/* @vite-ignore */ nodeFs)) as typeof import('node:fs/promises');
}
