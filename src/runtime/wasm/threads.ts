/**
 * Threads for the wasm backend: worker_threads on one shared WebAssembly.Memory. The workers
 * sleep on a command word in the memory's header; running an entry bumps its generation, wakes
 * them, and runs thread 0 on the calling thread. Inside the entry, every phase of every kernel
 * ends at the barrier the module itself implements (atomics), the last one included, so when
 * the call returns every thread has finished: no message passing per step or per kernel.
 */
import { MATH_HOST } from './instance.js';

/** Byte offsets of the command word in the module's header (the barrier uses 0 and 4). */
const GENERATION = 8;
const ENTRY = 12;
const STOP = 16;

/** The worker's whole program, self-contained (it is evaluated, not imported). */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, thread, threads, entries } = workerData;
const env = { memory, exp: Math.exp, log: Math.log, tanh: Math.tanh, sin: Math.sin, cos: Math.cos };
const instance = new WebAssembly.Instance(module, { env });
const words = new Int32Array(memory.buffer, 0, 8);
let seen = 0;
for (;;) {
  let spins = 0;
  while (Atomics.load(words, ${GENERATION / 4}) === seen && spins++ < 20000);
  Atomics.wait(words, ${GENERATION / 4}, seen);
  const now = Atomics.load(words, ${GENERATION / 4});
  if (now === seen) continue;
  seen = now;
  if (Atomics.load(words, ${STOP / 4}) !== 0) break;
  instance.exports[entries[Atomics.load(words, ${ENTRY / 4})]](thread, threads);
}
`;

void MATH_HOST; // the worker lists the same host functions, spelled out in its source

interface NodeWorker {
  terminate(): Promise<number>;
  unref(): void;
}

/** The extra threads of one model: `threads − 1` workers, run by {@link WorkerPool.run}. */
export class WorkerPool {
  private readonly words: Int32Array;

  private constructor(
    private readonly workers: readonly NodeWorker[],
    memory: WebAssembly.Memory,
    private readonly entries: readonly string[],
    readonly threads: number,
  ) {
    this.words = new Int32Array(memory.buffer, 0, 8);
  }

  /** Starts `threads − 1` workers on `memory` (shared), each instantiating `module`. */
  static async start(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    entries: readonly string[],
    threads: number,
  ): Promise<WorkerPool> {
    const { Worker } = (await import('node:worker_threads')) as unknown as {
      Worker: new (source: string, options: object) => NodeWorker;
    };
    const workers = Array.from({ length: threads - 1 }, (_, i) => {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, memory, thread: i + 1, threads, entries },
      });
      // Workers asleep on the command word must not keep the process alive.
      worker.unref();
      return worker;
    });
    return new WorkerPool(workers, memory, entries, threads);
  }

  /** Wakes the workers for `entry` and runs thread 0 here; returns when all threads are done. */
  run(entry: string, runHere: (thread: number, threads: number) => void): void {
    Atomics.store(this.words, ENTRY / 4, this.entries.indexOf(entry));
    Atomics.add(this.words, GENERATION / 4, 1);
    Atomics.notify(this.words, GENERATION / 4);
    runHere(0, this.threads);
  }

  stop(): void {
    Atomics.store(this.words, STOP / 4, 1);
    Atomics.add(this.words, GENERATION / 4, 1);
    Atomics.notify(this.words, GENERATION / 4);
    for (const w of this.workers) void w.terminate();
  }
}
