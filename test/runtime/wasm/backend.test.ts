/**
 * The wasm backend as a page meets it: `fit` gives the event loop a task every few steps (its
 * fences and traced windows resolve on the next task), so timers, input and progress callbacks
 * run while it trains, and an abort from a timer stops it. What it cannot do is said at create:
 * a plan past its 4 GiB memory (naming the buffer), threads without shared memory (one line).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { compile } from '../../../src/compile.js';
import { NnxModel } from '../../../src/runtime/index.js';
import { STEPS_PER_FENCE } from '../../../src/runtime/trainer.js';
import { WASM_SPIN_ONLY_OFFSET } from '../../../src/runtime/spec.js';
import type { WasmBackend } from '../../../src/runtime/wasm/backend.js';

const DENSE = `model D(x: [3]) -> (y: [2]) { y = Dense(2, activation: sigmoid)(x) }
train D { data: xor, loss: mse, batch: 2 }
`;

/** `steps` full batches of the model above. */
function dataset(steps: number) {
  const count = 2 * steps;
  return {
    count,
    inputs: { x: Float32Array.from({ length: count * 3 }, (_, i) => Math.sin(i)) },
    targets: { target: Float32Array.from({ length: count * 2 }, (_, i) => (i % 3 === 0 ? 1 : 0)) },
  };
}

async function wasmModel(): Promise<NnxModel> {
  return NnxModel.create(compile(DENSE, { wasm: true }).compiled!.spec, { backend: 'wasm', seed: 1 });
}

describe('fit on the wasm backend', () => {
  it('lets a timer scheduled before it fire while it trains, with and without progress callbacks', async () => {
    const model = await wasmModel();
    for (const onProgress of [undefined, () => undefined]) {
      let stepsRun = 0;
      let stepsWhenFired: number | undefined;
      // Re-armed until a step has run: a fast machine may tick once before fit starts.
      const arm = () =>
        setTimeout(() => {
          if (stepsRun === 0) arm();
          else stepsWhenFired = stepsRun;
        }, 0);
      arm();
      const steps = 40 * STEPS_PER_FENCE;
      await model.fit(dataset(steps), { epochs: 2, onBatch: () => stepsRun++, onProgress });
      // Were fences resolved promises, fit would never leave the microtask queue and the timer
      // would fire only after it.
      expect(stepsWhenFired).toBeDefined();
      expect(stepsWhenFired!).toBeLessThan(2 * steps);
    }
    model.destroy();
  });

  it('yields at the end of an epoch shorter than a fence window (the web page fits in short chunks)', async () => {
    const model = await wasmModel();
    let fits = 0;
    let fitsWhenFired: number | undefined;
    const arm = () => setTimeout(() => (fits === 0 ? arm() : (fitsWhenFired = fits)), 0);
    arm();
    const chunk = dataset(STEPS_PER_FENCE - 6);
    for (; fits < 200; fits++) await model.fit(chunk, { epochs: 1, seed: fits });
    expect(fitsWhenFired).toBeDefined();
    expect(fitsWhenFired!).toBeLessThan(200);
    model.destroy();
  });

  it('runs progress callbacks and timers in turn, and stops on an abort from a timer', async () => {
    const model = await wasmModel();
    const events: string[] = [];
    const ticker = setInterval(() => events.push('timer'), 0);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stopped')), 5);
    const steps = 100_000; // far more than run in 5 ms
    let reached = 0;
    await expect(
      model.fit(dataset(steps), {
        epochs: 1,
        signal: controller.signal,
        onBatch: (s) => (reached = s),
        onProgress: () => events.push('progress'),
      }),
    ).rejects.toThrow('stopped');
    clearInterval(ticker);
    expect(reached).toBeLessThan(steps);
    // Timer ticks fall between progress reports, not all after them.
    const firstTimer = events.indexOf('timer');
    expect(firstTimer).toBeGreaterThanOrEqual(0);
    expect(events.lastIndexOf('progress')).toBeGreaterThan(firstTimer);
    model.destroy();
  });
});

describe('threads on the wasm backend', () => {
  it('train as one thread does when thread 0 only spins at the barrier (as on a page, whose main thread may not wait)', async () => {
    const spec = compile(DENSE, { wasm: true }).compiled!.spec;
    const data = dataset(3 * STEPS_PER_FENCE);
    const weightsAfterFit = async (threads: number, spinOnly: boolean) => {
      const model = await NnxModel.create(spec, { backend: 'wasm', seed: 4, threads });
      const memory = (model.backend as WasmBackend<string>).wasm.memory;
      new Int32Array(memory.buffer, WASM_SPIN_ONLY_OFFSET, 1)[0] = spinOnly ? 1 : 0;
      await model.fit(data, { epochs: 2 });
      const weights = [...(await model.getWeights()).values()].map((w) => Array.from(w));
      model.destroy();
      return weights;
    };
    const one = await weightsAfterFit(1, false);
    expect(await weightsAfterFit(2, true)).toEqual(one);
    expect(await weightsAfterFit(2, false)).toEqual(one);
  });
});

describe('creating a model on the wasm backend', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('fails naming the buffer past the 4 GiB memory; compiling the model does not', async () => {
    // A 2^15 × 2^15 kernel is 4 GiB by itself: compiling still succeeds (WebGPU may run it).
    const text = `model Big(x: [32768]) -> (y: [32768]) { y = Dense(32768)(x) }
train Big { data: xor, loss: mse, batch: 1 }
`;
    const spec = compile(text, { wasm: true }).compiled!.spec;
    expect(spec.wasm).toHaveProperty('unsupported');
    const error = await NnxModel.create(spec, { backend: 'wasm' }).then(
      () => undefined,
      (e: Error) => e.message,
    );
    const [, name] =
      /^NnxModel\.create: the wasm backend cannot run this model: buffer '([^']+)' \(\d+ bytes\) would end at byte \d+ of the wasm memory, past its 4 GiB limit; use a smaller batch or model, or --backend webgpu$/.exec(
        error ?? '',
      ) ?? [];
    expect(spec.buffers.map((b) => b.label)).toContain(name);
  });

  it('runs one thread where memory cannot be shared (a page not cross-origin isolated), said in one line once', async () => {
    vi.stubGlobal('crossOriginIsolated', false);
    const spec = compile(DENSE, { wasm: true }).compiled!.spec;
    const notices: string[] = [];
    const model = await NnxModel.create(spec, {
      backend: 'wasm',
      threads: 4,
      onNotice: (l) => notices.push(l),
    });
    expect(model.backend.description).toBe('CPU (WebAssembly SIMD128, 1 thread)');
    expect(notices).toEqual([
      'nnx: the wasm backend runs 1 thread, not 4: SharedArrayBuffer is unavailable (a page must be cross-origin isolated)',
    ]);
    model.destroy();
    // Without onNotice: console.warn, once per process for the same line.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    for (let i = 0; i < 2; i++) (await NnxModel.create(spec, { backend: 'wasm', threads: 3 })).destroy();
    expect(warn.mock.calls).toEqual([
      [
        'nnx: the wasm backend runs 1 thread, not 3: SharedArrayBuffer is unavailable (a page must be cross-origin isolated)',
      ],
    ]);
    warn.mockRestore();
  });
});
