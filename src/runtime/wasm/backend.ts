/**
 * The CPU backend: the model's wasm module on one linear memory holding every buffer of the
 * plan. Writes and reads are copies into and out of that memory, and running an entry is one
 * call of its exported function: work is done when `run` returns, so readbacks and traces
 * are copied at once. Every promise it returns (fences, reads, readbacks, traces) settles on
 * the event loop's next task, so that `fit` on a page's thread lets it repaint and handle input
 * every few steps and at every epoch's end.
 */
import type { Backend, BufferRegion, Readback, TraceWindow } from '../backend.js';
import type { TracedStep } from '../step-trace.js';
import type { BufferSpec, WasmModuleSpec } from '../spec.js';
import { type WasmInstance, instantiateWasm, newMemory, wasmBytes } from './instance.js';
import type { WorkerPool } from './pool.js';
import { startWebWorkers } from './web-workers.js';

/** Whether this engine can share a wasm memory between threads (a page must be cross-origin isolated). */
export function sharedMemoryAvailable(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  return isolated !== false;
}

/**
 * Resolves once the event loop has run a task of its own (timers, input, a repaint between
 * tasks), which a resolved promise never lets it: `setImmediate` in Node, a MessageChannel
 * message in a browser (not clamped to 4 ms as a nested `setTimeout` is). Not
 * `scheduler.yield()`: in headless Chromium 156 its continuations outrank input, and a page
 * yielding with it every 50 ms never handled a click in 10 s (a MessageChannel page did in 1.4 s).
 */
export function nextTask(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  if (typeof MessageChannel === 'undefined') return new Promise((resolve) => setTimeout(resolve, 0));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(undefined);
  });
}

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/**
 * Node's worker_threads, loaded when asked for by a specifier browser bundlers leave alone, so
 * a page's bundle holds no Node-only code.
 */
async function startNodeWorkersLazily(
  ...args: Parameters<typeof import('./threads.js').startNodeWorkers>
): Promise<WorkerPool> {
  const threadsModule = './threads.js';
  const { startNodeWorkers } = (await import(
    /* @vite-ignore */ threadsModule
  )) as typeof import('./threads.js');
  return startNodeWorkers(...args);
}

class CopiedReadback implements Readback {
  values: Float32Array[] = [];
  constructor(readonly regions: readonly BufferRegion[]) {}
  read(): Promise<Float32Array[]> {
    return nextTask().then(() => this.values);
  }
}

class CopiedTrace implements TraceWindow {
  readonly steps: TracedStep[] = [];
  constructor(
    readonly buffers: readonly number[],
    readonly firstStep: number,
  ) {}
  /** On the next task: a traced `fit` reads a window where it would wait on a fence. */
  read(): Promise<TracedStep[]> {
    return nextTask().then(() => this.steps);
  }
}

export class WasmBackend<E extends string> implements Backend<E> {
  readonly kind = 'wasm';
  readonly description: string;
  private destroyed = false;

  private constructor(
    readonly wasm: WasmInstance,
    private readonly spec: WasmModuleSpec,
    private readonly buffers: ReadonlyMap<number, BufferSpec>,
    private readonly pool: WorkerPool | undefined,
  ) {
    const threads = pool?.threads ?? 1;
    this.description = `CPU (WebAssembly SIMD128, ${threads} thread${threads > 1 ? 's' : ''})`;
  }

  /** The number of threads each entry runs on. */
  get threads(): number {
    return this.pool?.threads ?? 1;
  }

  /**
   * A backend on `threads` threads: a shared memory and `threads − 1` workers. Without shared
   * memory it runs one thread and says so in one line through `notice`.
   */
  static async create<E extends string>(
    spec: WasmModuleSpec,
    buffers: ReadonlyMap<number, BufferSpec>,
    threads = 1,
    entries: readonly string[] = [],
    notice: (line: string) => void = console.warn,
  ): Promise<WasmBackend<E>> {
    if (threads > 1 && !sharedMemoryAvailable()) {
      notice(
        `nnx: the wasm backend runs 1 thread, not ${threads}: SharedArrayBuffer is unavailable (a page must be cross-origin isolated)`,
      );
      threads = 1;
    }
    if (threads === 1) return new WasmBackend<E>(instantiateWasm(spec), spec, buffers, undefined);
    const memory = newMemory(spec, true);
    const module = new WebAssembly.Module(wasmBytes(spec, true));
    const wasm = instantiateWasm(spec, { memory, module, shared: true });
    const pool = isNode()
      ? await startNodeWorkersLazily(module, memory, entries, threads)
      : await startWebWorkers(module, memory, entries, threads);
    return new WasmBackend<E>(wasm, spec, buffers, pool);
  }

  write(buffer: number, data: Float32Array): void {
    this.view(buffer, data.length).set(data);
  }

  zero(buffer: number): void {
    this.view(buffer, this.buffers.get(buffer)!.bytes / 4).fill(0);
  }

  run(entry: E, after: { readonly readback?: Readback; readonly trace?: TraceWindow } = {}): void {
    if (this.pool) this.pool.run(entry, (thread, threads) => this.wasm.run(entry, thread, threads));
    else this.wasm.run(entry, 0, 1);
    const readback = after.readback as CopiedReadback | undefined;
    if (readback) readback.values = this.copy(readback.regions);
    const trace = after.trace as CopiedTrace | undefined;
    if (trace) {
      trace.steps.push({
        step: trace.firstStep + trace.steps.length,
        sums: trace.buffers.map((b) => this.view(b, 1)[0]!),
      });
    }
  }

  readback(regions: readonly BufferRegion[]): Readback {
    return new CopiedReadback(regions);
  }

  traceWindow(buffers: readonly number[], firstStep: number): TraceWindow {
    return new CopiedTrace(buffers, firstStep);
  }

  read(regions: readonly BufferRegion[]): Promise<Float32Array[]> {
    const values = this.copy(regions);
    return nextTask().then(() => values);
  }

  /** Every step has run already; resolving on the next task gives the thread back to the page. */
  fence(): Promise<void> {
    return nextTask();
  }

  checkFailed(): void {
    if (this.destroyed) throw new Error('internal: the wasm backend was used after destroy');
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.pool?.stop();
  }

  private copy(regions: readonly BufferRegion[]): Float32Array[] {
    return regions.map((r) => this.view(r.buffer, r.bytes / 4).slice());
  }

  private view(buffer: number, length: number): Float32Array {
    return new Float32Array(this.wasm.memory.buffer, this.spec.offsets[buffer]!, length);
  }
}
