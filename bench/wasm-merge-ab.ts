/**
 * `node dist/bench/wasm-merge-ab.js [cnn|mlp] [position]`: a kernel of the train step and the
 * map kernel after it, run apart (two entries) and merged (one entry of both, where the module
 * gives the map to the first as its epilogue: conv-gemm.ts convEpilogue, window.ts
 * poolGradEpilogue), alternately in one process over the same buffers, so the load moves both
 * alike; prints the median and minimum user CPU ms of each (15 rounds of 5 runs).
 */
import { setFlagsFromString } from 'node:v8';
import { compile } from '../src/compile.js';
import { convEpilogue } from '../src/codegen/wasm/conv-gemm.js';
import { buildWasmModule } from '../src/codegen/wasm/module.js';
import { poolGradEpilogue } from '../src/codegen/wasm/window.js';
import { instantiateWasm, newMemory, wasmBytes } from '../src/runtime/wasm/instance.js';
import { CNN, MLP } from './models.js';
import { median } from './timing.js';

// As bench/cpu.ts: relaxed SIMD (the multiply-adds' FMA) on Node 20 too.
if (Number(process.versions.node.split('.')[0]) < 22) setFlagsFromString('--experimental-wasm-relaxed-simd');
const model = process.argv[2] === 'mlp' ? MLP : CNN;
const at = Number(process.argv[3] ?? 3);
const { compiled } = compile(model.source, { wasm: true });
if (!compiled) throw new Error(`bench model ${model.name} does not compile`);
const { fused, plan } = compiled.lowered.train;
const [first, next] = [plan.order[at]!, plan.order[at + 1]!];
const kernels = plan.order.map((k) => fused.kernels[k]!);
const merges =
  (convEpilogue(fused.graph, kernels, at) ?? poolGradEpilogue(fused.graph, kernels, at)) !== undefined;
if (!merges) console.log(`(the kernel at ${at} takes no epilogue: 'merged' runs both apart in one entry)`);
const spec = buildWasmModule(compiled.spec.buffers, [
  { name: 'first', fused, plan: { ...plan, order: [first] } },
  { name: 'next', fused, plan: { ...plan, order: [next] } },
  { name: 'merged', fused, plan: { ...plan, order: [first, next] } },
]);
const memory = newMemory(spec, false);
const wasm = instantiateWasm(spec, { memory, module: new WebAssembly.Module(wasmBytes(spec, false)) });
const words = new Float32Array(memory.buffer);
for (let i = 16; i < words.length; i++) words[i] = Math.random() * 0.1;
const cpuOf = (run: () => void) => {
  const c0 = process.cpuUsage();
  for (let i = 0; i < 5; i++) run();
  return process.cpuUsage(c0).user / 5000;
};
const apart = () => {
  wasm.run('first', 0, 1);
  wasm.run('next', 0, 1);
};
const merged = () => wasm.run('merged', 0, 1);
apart();
merged();
const [a, b] = [[] as number[], [] as number[]];
for (let r = 0; r < 15; r++) {
  a.push(cpuOf(apart));
  b.push(cpuOf(merged));
}
const root = fused.graph.nodes[fused.kernels[first]!.roots[0]!]!;
console.log(
  `${root.op} ${root.shape.join('×')} + next: apart ${median(a).toFixed(3)} (min ${Math.min(...a).toFixed(3)}), ` +
    `merged ${median(b).toFixed(3)} (min ${Math.min(...b).toFixed(3)}) ms CPU`,
);
