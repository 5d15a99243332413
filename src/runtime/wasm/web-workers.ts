/**
 * The wasm backend's threads in a browser: Web Workers on one shared WebAssembly.Memory (the page
 * must be cross-origin isolated), each running the loop of pool.ts. The calling thread runs
 * thread 0; a page's main thread may not block, so thread 0 is set to spin at the module's
 * barrier instead of sleeping (WASM_SPIN_ONLY_OFFSET), and the workers are waited for once, at start,
 * by their messages.
 */
import { WASM_SPIN_ONLY_OFFSET } from '../spec.js';
import { WORKER_LOOP, WorkerPool, setSpinLimit } from './pool.js';

/** The worker's whole program: it waits for its one message, then runs the loop. */
const WORKER_SOURCE = `
self.onmessage = (event) => {
  self.onmessage = null;
  const { module, memory, thread, threads, entries } = event.data;
  const ready = () => self.postMessage('ready');
${WORKER_LOOP}
};
`;

/** Starts `threads − 1` Web Workers on `memory` (shared); resolves once each has instantiated `module`. */
export async function startWebWorkers(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  entries: readonly string[],
  threads: number,
): Promise<WorkerPool> {
  new Int32Array(memory.buffer, WASM_SPIN_ONLY_OFFSET, 1)[0] = 1;
  setSpinLimit(memory, threads, navigator.hardwareConcurrency || 1);
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const workers: Worker[] = [];
  const terminate = () => {
    for (const w of workers) w.terminate();
  };
  try {
    await Promise.all(
      Array.from({ length: threads - 1 }, (_, i) => {
        const worker = new Worker(url, { name: `nnx wasm thread ${i + 1}` });
        workers.push(worker);
        return new Promise<void>((resolve, reject) => {
          worker.onmessage = () => resolve();
          worker.onerror = (event) =>
            reject(new Error(`wasm thread ${i + 1} failed to start: ${event.message}`));
          worker.postMessage({ module, memory, thread: i + 1, threads, entries });
        });
      }),
    );
  } catch (error) {
    terminate();
    throw error;
  } finally {
    URL.revokeObjectURL(url);
  }
  return new WorkerPool(memory, entries, threads, terminate);
}
