/**
 * `node dist/bench/profile.js [mlp|xor|cnn]`: time every dispatch of a seed model's training
 * step alone (submit, wait; the median of 7, which a loaded machine moves less than a mean) and
 * list the slowest, with the kernel's name and grid. Wall-clock, not timestamp queries: it
 * includes each submit's round trip (~60 µs on lavapipe).
 */
import { compile } from '../src/compile.js';
import { NnxModel, requestDevice } from '../src/runtime/index.js';
import { CNN, MLP, XOR } from './models.js';

const model = { xor: XOR, mlp: MLP, cnn: CNN }[process.argv[2] ?? 'mlp'] ?? MLP;
const device = await requestDevice();
const { compiled } = compile(model.source);
const spec = compiled!.spec;
await NnxModel.create(spec, { device }); // validates the spec on this device
const buffers = spec.buffers.map((b) =>
  device.createBuffer({ size: Math.max(4, b.bytes), usage: 0x80 | 0x8 }),
);
const pipelines = spec.kernels.map((k) =>
  device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code: k.wgsl }), entryPoint: 'main' },
  }),
);
const rows: { ms: number; name: string; grid: string; index: number }[] = [];
for (const [index, d] of spec.entries.train.dispatches.entries()) {
  const p = pipelines[d.kernel]!;
  const bind = device.createBindGroup({
    layout: p.getBindGroupLayout(0),
    entries: d.buffers.map((b, i) => ({ binding: i, resource: { buffer: buffers[b]! } })),
  });
  const run = async () => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(p);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(...(d.workgroups as [number, number, number]));
    pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await run();
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  rows.push({
    ms: times.sort((a, b) => a - b)[3]!,
    name: spec.kernels[d.kernel]!.name,
    grid: d.workgroups.join('×'),
    index,
  });
}
const total = rows.reduce((a, r) => a + r.ms, 0);
console.log(`${model.name}: ${rows.length} dispatches, ${total.toFixed(2)} ms summed`);
for (const r of [...rows].sort((a, b) => b.ms - a.ms).slice(0, 15))
  console.log(`  #${r.index} ${r.name} grid ${r.grid}: ${r.ms.toFixed(3)} ms`);
process.exit(0);
