/**
 * `node dist/bench/wasm-profile.js [mlp|xor|cnn] [threads] [rows] [alone]`: time every kernel of
 * a seed model's wasm training step (each kernel as an entry of its own in one module, over
 * buffers of small random values, run in plan order or, with `alone`, each repeated by itself;
 * the median and minimum of 9 wall-clock runs, and the median user CPU time, which a loaded
 * machine moves less) and list the slowest `rows`, with the kernel's root op.
 */
import { setFlagsFromString } from 'node:v8';
import { compile } from '../src/compile.js';
import { convEpilogue } from '../src/codegen/wasm/conv-gemm.js';
import { buildWasmModule } from '../src/codegen/wasm/module.js';
import { poolGradEpilogue } from '../src/codegen/wasm/window.js';
import { instantiateWasm, newMemory, wasmBytes } from '../src/runtime/wasm/instance.js';
import { startNodeWorkers } from '../src/runtime/wasm/threads.js';
import { CNN, MLP, XOR } from './models.js';
import { median } from './timing.js';

// As bench/cpu.ts: relaxed SIMD (the multiply-adds' FMA) on Node 20 too, so kernels run as in the step.
if (Number(process.versions.node.split('.')[0]) < 22) setFlagsFromString('--experimental-wasm-relaxed-simd');
const model = { xor: XOR, mlp: MLP, cnn: CNN }[process.argv[2] ?? 'cnn'] ?? CNN;
const threads = Number(process.argv[3] ?? 1);
const { compiled } = compile(model.source, { wasm: true });
if (!compiled) throw new Error(`bench model ${model.name} does not compile`);
const { fused, plan } = compiled.lowered.train;
// One entry per kernel the module runs: a conv or pooling gradient and the map kernel it takes as
// epilogue share one.
const kernels = plan.order.map((k) => fused.kernels[k]!);
const units: number[][] = [];
for (let at = 0; at < kernels.length; at++) {
  const merged =
    (convEpilogue(fused.graph, kernels, at) ?? poolGradEpilogue(fused.graph, kernels, at)) !== undefined;
  units.push(merged ? [plan.order[at]!, plan.order[at + 1]!] : [plan.order[at]!]);
  if (merged) at++;
}
const entries = units.map((order, i) => ({ name: `k${i}`, fused, plan: { ...plan, order } }));
const spec = buildWasmModule(compiled.spec.buffers, entries);
const shared = threads > 1;
const memory = newMemory(spec, shared);
const module = new WebAssembly.Module(wasmBytes(spec, shared));
const wasm = instantiateWasm(spec, { memory, module, shared });
const words = new Float32Array(memory.buffer);
for (let i = 16; i < words.length; i++) words[i] = Math.random() * 0.1;
const names = entries.map((e) => e.name);
const workers = shared ? await startNodeWorkers(module, memory, names, threads) : undefined;
const once = (name: string) =>
  workers ? workers.run(name, (t, n) => wasm.run(name, t, n)) : wasm.run(name, 0, 1);
// Each round runs every kernel once in plan order, as the step does, so each meets the cache
// its predecessors leave (the conv outputs pass L2); 'alone' instead repeats each kernel on its own.
const alone = process.argv[5] === 'alone';
const samples = names.map(() => [] as number[]);
const cpu = names.map(() => [] as number[]);
const time = (i: number) => {
  const [t0, c0] = [performance.now(), process.cpuUsage()];
  once(names[i]!);
  samples[i]!.push(performance.now() - t0);
  cpu[i]!.push(process.cpuUsage(c0).user / 1000);
};
names.forEach(once);
if (alone) names.forEach((_, i) => Array.from({ length: 9 }, () => time(i)));
else for (let r = 0; r < 9; r++) names.forEach((_, i) => time(i));
const rows = units.map(([k, epilogue], i) => {
  const kernel = fused.kernels[k!]!;
  const root = fused.graph.nodes[kernel.roots[0]!]!;
  const anchor = kernel.anchor === undefined ? root : fused.graph.nodes[kernel.anchor]!;
  return {
    ms: median(samples[i]!),
    min: Math.min(...samples[i]!),
    cpu: median(cpu[i]!),
    op: epilogue === undefined ? anchor.op : `${anchor.op}+epilogue`,
    shape: anchor.shape.join('×'),
  };
});
workers?.stop();
const total = rows.reduce((a, r) => a + r.ms, 0);
const fastest = rows.reduce((a, r) => a + r.min, 0);
console.log(
  `${model.name}: ${rows.length} kernels on ${threads} thread(s), Σ median ${total.toFixed(2)} ms, Σ min ${fastest.toFixed(2)} ms`,
);
console.log('   median      min  cpu (user, all threads)');
for (const r of [...rows].sort((a, b) => b.ms - a.ms).slice(0, Number(process.argv[4] ?? 15)))
  console.log(
    `${r.ms.toFixed(3).padStart(9)} ${r.min.toFixed(3).padStart(8)} ${r.cpu.toFixed(3).padStart(8)} ms  ${r.op.padEnd(24)} ${r.shape}`,
  );
