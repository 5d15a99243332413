/**
 * Runs one lowered entry as a wasm module, independent of NnxModel, so the wasm kernel tests
 * check the generated code and nothing else: the twin of test/gpu.ts.
 */
import { BufferPool } from '../src/codegen/plan.js';
import { KernelTable, type LowerOptions, lowerEntry } from '../src/codegen/spec.js';
import { buildWasmModule } from '../src/codegen/wasm/module.js';
import { type Graph, inputsOf } from '../src/ir/graph.js';
import { instantiateWasm, newMemory, wasmBytes } from '../src/runtime/wasm/instance.js';
import { startNodeWorkers } from '../src/runtime/wasm/threads.js';

/**
 * Lowers `g` (all shapes bound) and runs it once on one thread; returns each prediction output
 * by name. `fma` picks the multiply-adds' form (default: relaxed FMA where the engine has it).
 */
export function runGraphOnWasm(
  g: Graph,
  inputs: ReadonlyMap<string, Float32Array>,
  options: LowerOptions = {},
  fma?: boolean,
): Map<string, Float32Array> {
  const { spec, fill, read } = prepare(g, options);
  const wasm = instantiateWasm(spec, { fma });
  fill(wasm.memory.buffer, inputs);
  wasm.run('run', 0, 1);
  return read(wasm.memory.buffer);
}

/** As {@link runGraphOnWasm}, on `threads` threads (workers on one shared memory). */
export async function runGraphOnWasmThreads(
  g: Graph,
  inputs: ReadonlyMap<string, Float32Array>,
  threads: number,
  fma?: boolean,
): Promise<Map<string, Float32Array>> {
  const { spec, fill, read } = prepare(g, {});
  const memory = newMemory(spec, true);
  const module = new WebAssembly.Module(wasmBytes(spec, true, fma));
  const wasm = instantiateWasm(spec, { memory, module, shared: true });
  fill(memory.buffer, inputs);
  const workers = await startNodeWorkers(module, memory, ['run'], threads);
  try {
    workers.run('run', (t, n) => wasm.run('run', t, n));
  } finally {
    workers.stop();
  }
  return read(memory.buffer);
}

function prepare(g: Graph, options: LowerOptions) {
  const pool = new BufferPool();
  const { entry, fused, plan } = lowerEntry('run', g, 1, pool, new KernelTable(), options);
  const spec = buildWasmModule(pool.buffers, [{ name: 'run', fused, plan }]);
  const fill = (memory: ArrayBufferLike, inputs: ReadonlyMap<string, Float32Array>) => {
    // Poison every buffer: a kernel that skips elements shows as NaN.
    new Float32Array(memory).fill(NaN, 16);
    for (const n of inputsOf(fused.graph)) {
      const buffer = plan.bufferOf.get(n.id);
      if (buffer === undefined) continue;
      const data = inputs.get(n.params.name);
      if (!data) throw new Error(`no value for input '${n.params.name}' (${n.params.role})`);
      new Float32Array(memory, spec.offsets[buffer]!, data.length).set(data);
    }
  };
  const read = (memory: ArrayBufferLike) => {
    const out = new Map<string, Float32Array>();
    for (const o of entry.outputs) {
      const n = o.shape.reduce((a, b) => a * b, 1);
      out.set(
        o.name,
        new Float32Array(memory.slice(spec.offsets[o.buffer]!, spec.offsets[o.buffer]! + 4 * n)),
      );
    }
    return out;
  };
  return { spec, fill, read };
}
