/**
 * `node dist/bench/wasm-step.js [mlp|xor|cnn] [threads] [steps]`: the wasm training step of a
 * seed model end to end (what bench/cpu.ts times), as wall ms and CPU ms (user + system, this
 * process and its worker threads) per step, with the load average, since a shared machine
 * moves wall time more than CPU time. Relaxed SIMD is switched on first as in bench/cpu.ts.
 */
import { setFlagsFromString } from 'node:v8';
import { loadavg } from 'node:os';

if (Number(process.versions.node.split('.')[0]) < 22) setFlagsFromString('--experimental-wasm-relaxed-simd');
const { compile } = await import('../src/compile.js');
const { NnxModel } = await import('../src/runtime/index.js');
const { CNN, MLP, XOR, syntheticBatch } = await import('./models.js');
const { median } = await import('./timing.js');

const model = { xor: XOR, mlp: MLP, cnn: CNN }[process.argv[2] ?? 'cnn'] ?? CNN;
const threads = Number(process.argv[3] ?? 1);
const steps = Number(process.argv[4] ?? 20);
const { compiled } = compile(model.source, { wasm: true });
if (!compiled) throw new Error(`bench model ${model.name} does not compile`);
const m = await NnxModel.create(compiled.spec, { seed: 1, backend: 'wasm', threads });
const { x, y } = syntheticBatch(model);
for (let i = 0; i < 3; i++) await m.trainStep({ x, target: y });
const wall: number[] = [];
const cpu: number[] = [];
for (let r = 0; r < 5; r++) {
  const [t0, c0] = [performance.now(), process.cpuUsage()];
  for (let i = 0; i < steps; i++) await m.trainStep({ x, target: y });
  const c = process.cpuUsage(c0);
  wall.push((performance.now() - t0) / steps);
  cpu.push((c.user + c.system) / 1000 / steps);
}
m.destroy();
console.log(
  `${model.name} ${threads} thread(s): wall ${median(wall).toFixed(2)} ms/step (min ${Math.min(...wall).toFixed(2)}), ` +
    `cpu ${median(cpu).toFixed(2)} ms/step (min ${Math.min(...cpu).toFixed(2)}), load ${loadavg()[0]!.toFixed(2)}`,
);
