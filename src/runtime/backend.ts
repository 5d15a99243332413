/**
 * What the model runtime asks of the machine it runs on: write, zero and read buffers of the
 * plan by id, and run an entry. WebGPU (this file) and WebAssembly (wasm/backend.ts) implement
 * it; NnxModel is written against it alone.
 */
import { throwIfDeviceFailed } from './device.js';
import { type CompiledEntry, type PlannedBuffer, encodeEntry } from './pipelines.js';
import { readBuffers, StagedReadback } from './readback.js';
import { StepTraceWindow, type TracedStep } from './step-trace.js';
import type { Tiles } from './spec.js';

/** A range of a buffer of the plan, read from its start, as f32 values. */
export interface BufferRegion {
  readonly buffer: number;
  readonly bytes: number;
}

/** Values to be copied out after an entry runs, read once it has. */
export interface Readback {
  read(): Promise<Float32Array[]>;
}

/** The accumulators copied after each step of a window of steps, read once per window. */
export interface TraceWindow {
  read(): Promise<TracedStep[]>;
}

export type BackendKind = 'webgpu' | 'wasm';

export interface Backend<E extends string = string> {
  readonly kind: BackendKind;
  /** What it runs on, for logs: the adapter's name, or the CPU and its threads. */
  readonly description: string;
  /** Writes `data` at the start of a buffer (queued behind earlier work). */
  write(buffer: number, data: Float32Array): void;
  zero(buffer: number): void;
  /** Runs an entry after the writes before it; then copies `readback` and `trace` regions. */
  run(entry: E, after?: { readonly readback?: Readback; readonly trace?: TraceWindow }): void;
  /** A readback to pass to {@link Backend.run}. */
  readback(regions: readonly BufferRegion[]): Readback;
  /** A trace of these buffers (4 bytes each) over up to `capacity` steps from `firstStep`. */
  traceWindow(buffers: readonly number[], firstStep: number, capacity: number): TraceWindow;
  /** Reads regions after all work so far. */
  read(regions: readonly BufferRegion[]): Promise<Float32Array[]>;
  /** Resolves once the work so far has run; rejects with the error that made the backend unusable, if any. */
  fence(): Promise<void>;
  /** Throws the error that made the backend unusable, if any. */
  checkFailed(): void;
  /** Frees the buffers. */
  destroy(): void;
}

/** A spec's buffers and bound entries on a WebGPU device. */
export class WebGpuBackend<E extends string> implements Backend<E> {
  readonly kind = 'webgpu';

  constructor(
    readonly device: GPUDevice,
    readonly buffers: ReadonlyMap<number, PlannedBuffer>,
    readonly entries: Readonly<Record<E, CompiledEntry>>,
    readonly description: string,
    /** The tiling the kernels with variants (matmuls) run in; `measured`: each its faster. */
    readonly tiles: Tiles | 'measured' = 'cpu',
  ) {}

  write(buffer: number, data: Float32Array): void {
    this.device.queue.writeBuffer(this.gpu(buffer), 0, data);
  }

  zero(buffer: number): void {
    const gpu = this.gpu(buffer);
    this.device.queue.writeBuffer(gpu, 0, new Float32Array(gpu.size / 4));
  }

  run(entry: E, after: { readonly readback?: Readback; readonly trace?: TraceWindow } = {}): void {
    const compiled = this.entries[entry];
    const encoder = this.device.createCommandEncoder({ label: `nnx ${compiled.name}` });
    encodeEntry(encoder, compiled);
    (after.readback as StagedReadback | undefined)?.encodeCopies(encoder);
    (after.trace as StepTraceWindow | undefined)?.record(encoder);
    this.device.queue.submit([encoder.finish()]);
  }

  readback(regions: readonly BufferRegion[]): Readback {
    return new StagedReadback(
      this.device,
      regions.map((r) => ({ buffer: this.gpu(r.buffer), bytes: r.bytes })),
    );
  }

  traceWindow(buffers: readonly number[], firstStep: number, capacity: number): TraceWindow {
    return new StepTraceWindow(
      this.device,
      buffers.map((b) => this.gpu(b)),
      firstStep,
      capacity,
    );
  }

  read(regions: readonly BufferRegion[]): Promise<Float32Array[]> {
    return readBuffers(
      this.device,
      regions.map((r) => ({ buffer: this.gpu(r.buffer), bytes: r.bytes })),
    );
  }

  async fence(): Promise<void> {
    // A lost device rejects the wait; the failure it recorded says why, as a validation error would.
    await this.device.queue.onSubmittedWorkDone().catch(() => undefined);
    this.checkFailed();
  }

  checkFailed(): void {
    throwIfDeviceFailed(this.device);
  }

  destroy(): void {
    for (const buffer of this.buffers.values()) buffer.gpu.destroy();
  }

  private gpu(id: number): GPUBuffer {
    return this.buffers.get(id)!.gpu;
  }
}
