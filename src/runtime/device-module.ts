/**
 * The one runtime class under every kind of compiled module: it holds the spec and the backend,
 * runs named entries with their uploads, reads and writes the weights by name, saves and loads
 * checkpoints in one format, and checks that the module is still usable. NnxModel and NnxGan
 * are typed facades over it, adding what their entries mean (batches and metrics; step pairs
 * and samples) and training through the one epoch loop of trainer.ts.
 */
import {
  checkTensorValues,
  encodeCheckpoint,
  readCheckpointFile,
  restoreCheckpoint,
  writeCheckpointFile,
  type CheckpointBuffers,
  type TrainingState,
} from './checkpoint.js';
import type { Backend, Readback, TraceWindow } from './backend.js';
import type { SlotUpload } from './batching.js';
import { readSlots } from './readback.js';
import type { GanSpec, ModelSpec, TensorSlot } from './spec.js';

export abstract class DeviceModule<S extends ModelSpec | GanSpec, E extends string> {
  private destroyed = false;

  protected constructor(
    /** The spec this module executes. */
    readonly spec: S,
    /** What it runs on: a WebGPU device, or the CPU through WebAssembly. */
    readonly backend: Backend<E>,
    /** The seed of its initial weights and of its random draws. */
    readonly seed: number,
    /** What it is called in the error after `destroy`: `model`, `GAN`. */
    private readonly kind: string,
  ) {}

  /**
   * Replaces every parameter. `weights` must hold exactly the module's parameters with the right
   * number of values each; otherwise the error names each problem and nothing is changed.
   */
  setWeights(weights: ReadonlyMap<string, Float32Array> | Readonly<Record<string, Float32Array>>): void {
    this.checkUsable();
    const values = weights instanceof Map ? weights : new Map(Object.entries(weights));
    checkTensorValues('setWeights', this.spec.params, values);
    this.writeSlots(this.spec.params, values);
  }

  /** Reads every parameter (a GAN's under `generator/…` and `discriminator/…`), by name, in one round trip. */
  async getWeights(): Promise<Map<string, Float32Array>> {
    this.checkUsable();
    const [weights] = await readSlots(this.backend, this.spec.params);
    this.backend.checkFailed();
    return weights!;
  }

  /**
   * The first parameter or state tensor holding a NaN or an infinity, with that value, or
   * undefined when all are finite: one round trip reading every parameter and state slot
   * (the model's size times one plus its optimizer slots) and one scan over them on the host.
   */
  async firstNonFinite(): Promise<{ readonly name: string; readonly value: number } | undefined> {
    this.checkUsable();
    const groups = await readSlots(this.backend, this.spec.params, this.spec.state);
    this.backend.checkFailed();
    for (const group of groups) {
      for (const [name, values] of group) {
        const bad = values.find((v) => !Number.isFinite(v));
        if (bad !== undefined) return { name, value: bad };
      }
    }
    return undefined;
  }

  /**
   * A safetensors checkpoint of the parameters and all state (as `@state/<name>`: optimizers,
   * counters, the seed), and, when given, where training stands (epoch, shuffle state) so that
   * `fit` can resume from it.
   */
  async saveBytes(training?: TrainingState): Promise<Uint8Array> {
    this.checkUsable();
    return encodeCheckpoint(this.onDevice(), training);
  }

  /**
   * Loads a checkpoint from {@link saveBytes}. Its parameters must match the spec's names and
   * shapes exactly; without state it resets the state as `create` set it (zeros, and the seed).
   * Nothing changes when it fails. Returns the training state it records, to pass to `fit` as
   * `resume`.
   */
  loadBytes(bytes: Uint8Array, source?: string): TrainingState | undefined {
    this.checkUsable();
    return restoreCheckpoint(this.onDevice(), bytes, 'loadBytes', source);
  }

  /** Writes a checkpoint to `path` (Node only), atomically: a temporary file, then a rename. */
  async save(path: string, training?: TrainingState): Promise<void> {
    await writeCheckpointFile(path, await this.saveBytes(training));
  }

  /** Loads a checkpoint file written by {@link save} (Node only); returns its training state. */
  async load(path: string): Promise<TrainingState | undefined> {
    const bytes = await readCheckpointFile(path);
    try {
      return this.loadBytes(bytes, path);
    } catch (error) {
      // Every error of a file names it (the checks of the tensors against the spec do not).
      if (!(error instanceof Error) || error.message.includes(path)) throw error;
      throw new Error(`${path}: ${error.message}`, { cause: error });
    }
  }

  /**
   * Frees the buffers. A WebGPU device is left alone (it may be shared or the caller's); in Node,
   * Dawn may still keep the process alive, so CLI code should end with `process.exit`.
   */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.backend.destroy();
  }

  /** Uploads `uploads` and runs entry `name` (on WebGPU: in one command buffer and one submit). */
  protected runEntry(
    name: E,
    uploads: readonly SlotUpload[] = [],
    after?: { readonly readback?: Readback; readonly trace?: TraceWindow },
  ): void {
    for (const upload of uploads) this.backend.write(upload.slot.buffer, upload.data);
    this.backend.run(name, after);
  }

  /** Writes each slot's values, by slot name. */
  protected writeSlots(slots: readonly TensorSlot[], values: ReadonlyMap<string, Float32Array>): void {
    for (const slot of slots) this.backend.write(slot.buffer, values.get(slot.name)!);
  }

  protected checkUsable(): void {
    if (this.destroyed)
      throw new Error(`${this.kind} '${this.spec.name}' was destroyed and can no longer be used`);
    this.backend.checkFailed();
  }

  private onDevice(): CheckpointBuffers {
    return { backend: this.backend, spec: this.spec, seed: this.seed };
  }
}
