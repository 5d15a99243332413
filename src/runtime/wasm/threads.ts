/**
 * The wasm backend's threads in Node: worker_threads on one shared WebAssembly.Memory, each
 * running the loop of pool.ts. Loaded only when threads are asked for in Node, so that a page's
 * bundle holds no Node-only code (a page's threads are web-workers.ts).
 */
import { availableParallelism } from 'node:os';
import { WORKER_LOOP, WorkerPool, setSpinLimit } from './pool.js';

/** The worker's whole program, self-contained (it is evaluated, not imported). */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, thread, threads, entries } = workerData;
const ready = () => undefined;
${WORKER_LOOP}`;

interface NodeWorker {
  terminate(): Promise<number>;
  unref(): void;
}

/** Starts `threads − 1` worker_threads on `memory` (shared), each instantiating `module`. */
export async function startNodeWorkers(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  entries: readonly string[],
  threads: number,
): Promise<WorkerPool> {
  const { Worker } = (await import('node:worker_threads')) as unknown as {
    Worker: new (source: string, options: object) => NodeWorker;
  };
  setSpinLimit(memory, threads, availableParallelism());
  const workers = Array.from({ length: threads - 1 }, (_, i) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module, memory, thread: i + 1, threads, entries },
    });
    // Workers asleep on the command word must not keep the process alive.
    worker.unref();
    return worker;
  });
  return new WorkerPool(memory, entries, threads, () => {
    for (const w of workers) void w.terminate();
  });
}
