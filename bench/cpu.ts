/**
 * The CPU rows of the benchmark: nnx's wasm backend on the seed models (ms per training step)
 * and the wasm matmul kernel's GFLOP/s on square sizes.
 */
import { setFlagsFromString } from 'node:v8';
import { compile } from '../src/compile.js';
import { BufferPool } from '../src/codegen/plan.js';
import { KernelTable, lowerEntry } from '../src/codegen/spec.js';
import { buildWasmModule } from '../src/codegen/wasm/module.js';
import { GraphBuilder } from '../src/ir/builder.js';
import { NnxModel } from '../src/runtime/index.js';
import { instantiateWasm, newMemory, wasmBytes } from '../src/runtime/wasm/instance.js';
import { startNodeWorkers } from '../src/runtime/wasm/threads.js';
import { type BenchModel, syntheticBatch } from './models.js';
import { median, timeSteps } from './timing.js';

// Node 22 validates relaxed SIMD (the matmul's FMA) by default, Node 20 only behind this flag:
// set before any module compiles, so the CPU rows measure what current Node gives.
if (Number(process.versions.node.split('.')[0]) < 22) setFlagsFromString('--experimental-wasm-relaxed-simd');

export async function timeNnxWasm(
  model: BenchModel,
  opts: { steps: number; repeats: number; warmup: number },
  threads = 1,
): Promise<{ ms: number; kernels: number }> {
  const result = compile(model.source, { wasm: true });
  if (!result.compiled) throw new Error(`bench model ${model.name} does not compile`);
  const { spec } = result.compiled;
  const m = await NnxModel.create(spec, { seed: 1, backend: 'wasm', threads });
  const { x, y } = syntheticBatch(model);
  const ms = await timeSteps(
    () => m.trainStep({ x, target: y }),
    () => Promise.resolve(),
    opts,
  );
  m.destroy();
  return { ms, kernels: spec.entries.train.dispatches.length };
}

/** ms of one n×n·n×n product by the wasm matmul kernel (pack B, then the 4×8 register tiles, FMA where relaxed SIMD validates). */
export async function timeWasmMatmul(n: number, repeats: number, threads = 1): Promise<number> {
  const b = new GraphBuilder();
  b.output('y', b.matmul(b.input('a', 'data', [n, n]), b.input('b', 'data', [n, n])), 'prediction');
  const pool = new BufferPool();
  const lowered = lowerEntry('run', b.build(), 1, pool, new KernelTable());
  const spec = buildWasmModule(pool.buffers, [{ name: 'run', ...lowered }]);
  const shared = threads > 1;
  const memory = newMemory(spec, shared);
  const module = new WebAssembly.Module(wasmBytes(spec, shared));
  const wasm = instantiateWasm(spec, { memory, module, shared });
  new Float32Array(wasm.memory.buffer).fill(0.5, 16);
  const workers = shared ? await startNodeWorkers(module, memory, ['run'], threads) : undefined;
  const once = () => (workers ? workers.run('run', (t, k) => wasm.run('run', t, k)) : wasm.run('run', 0, 1));
  // Two warm-up calls: V8 compiles the optimised code in the background during the first, and a
  // call already running keeps its baseline code.
  once();
  once();
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    once();
    samples.push(performance.now() - t0);
  }
  workers?.stop();
  return median(samples);
}
