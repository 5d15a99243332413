/**
 * What the wasm backend's threads share, wherever they run (Node's worker_threads, a page's Web
 * Workers): the command word in the module's header, the loop each worker runs on it, and the
 * pool that drives it. The workers sleep on the command word; running an entry bumps its
 * generation, wakes them, and runs thread 0 on the calling thread. Inside the entry, every phase
 * of every kernel ends at the barrier the module itself implements (atomics), the last one
 * included, so when the call returns every thread has finished: no message passing per step.
 */

import { WASM_SPIN_LIMIT_OFFSET } from '../spec.js';

/**
 * Polls of the barrier before a thread sleeps: about a millisecond where each thread has a core
 * (2 threads on this project's 2-core machine: MNIST MLP step 4.6-5.1 -> 3.7-4.0 ms, CNN 13.3 ->
 * 11.8 ms against 2^14 polls), a few microseconds where threads outnumber cores.
 */
const SPINS_PER_CORE = 1 << 18;
const SPINS_OVERSUBSCRIBED = 1 << 10;

/** Sets how long `threads` threads on `cores` cores poll the module's barrier before sleeping. */
export function setSpinLimit(memory: WebAssembly.Memory, threads: number, cores: number): void {
  const spins = threads <= cores ? SPINS_PER_CORE : SPINS_OVERSUBSCRIBED;
  new Int32Array(memory.buffer, WASM_SPIN_LIMIT_OFFSET, 1)[0] = spins;
}

/** Byte offsets of the command word in the module's header (the barrier uses 0 and 4). */
const GENERATION = 8;
const ENTRY = 12;
const STOP = 16;

/**
 * A worker's program once it has `module`, `memory`, `thread`, `threads` and `entries` in scope:
 * instantiate, call `ready()`, then run each entry the command word names until told to stop.
 * Source text, evaluated in the worker, so it names the host functions itself (instance.ts's).
 */
export const WORKER_LOOP = `
const env = { memory, exp: Math.exp, log: Math.log, tanh: Math.tanh, sin: Math.sin, cos: Math.cos };
const instance = new WebAssembly.Instance(module, { env });
const words = new Int32Array(memory.buffer, 0, 8);
ready();
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

/** The extra threads of one model: `threads − 1` workers on one shared memory. */
export class WorkerPool {
  private readonly words: Int32Array;

  constructor(
    memory: WebAssembly.Memory,
    private readonly entries: readonly string[],
    readonly threads: number,
    private readonly terminate: () => void,
  ) {
    this.words = new Int32Array(memory.buffer, 0, 8);
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
    this.terminate();
  }
}
