/**
 * Matmul micro-benchmark: GFLOP/s of the generated matmul kernels for square sizes and for the
 * MLP's training shapes, per tiling, on the current adapter.
 */
import { type MatmulShape, type MatmulTiling, matmulMain, operandAt } from '../src/codegen/wgsl/matmul.js';
import { bindingDecls } from '../src/codegen/wgsl/builder.js';
import { median } from './timing.js';

export function matmulWgsl(
  s: MatmulShape,
  t: MatmulTiling,
): { wgsl: string; workgroups: [number, number, number] } {
  // The staged tiling loads vec4s from operands whose stored rows are a multiple of 4 long.
  const quadA = t.kind === 'staged' && (s.transA ? s.m : s.k) % 4 === 0;
  const quadB = t.kind === 'staged' && (s.transB ? s.k : s.n) % 4 === 0;
  const header = bindingDecls([
    { name: 'A', writable: false, vec4: quadA },
    { name: 'B', writable: false, vec4: quadB },
    { name: 'out', writable: true },
  ]);
  const at = (trans: boolean, rows: number, cols: number) =>
    trans
      ? (r: string, c: string) => `(${c}) * ${rows}u + ${r}`
      : (r: string, c: string) => `(${r}) * ${cols}u + ${c}`;
  const [atA, atB] = [at(s.transA, s.m, s.k), at(s.transB, s.k, s.n)];
  const { code, workgroups } = matmulMain(s, t, {
    a: quadA ? (r, c) => `A[(${atA(r, c)}) / 4u][(${atA(r, c)}) % 4u]` : operandAt('A', s.transA, s.m, s.k),
    b: quadB ? (r, c) => `B[(${atB(r, c)}) / 4u][(${atB(r, c)}) % 4u]` : operandAt('B', s.transB, s.k, s.n),
    ...(quadA && { a4: (r: string, c: string) => `A[(${atA(r, c)}) / 4u]` }),
    ...(quadB && { b4: (r: string, c: string) => `B[(${atB(r, c)}) / 4u]` }),
    store: (r, c, v) => `out[(${r}) * ${s.n}u + ${c}] = ${v};`,
  });
  return { wgsl: `${header}\n\n${code}\n`, workgroups };
}

/** Median ms of one matmul dispatch (submit and wait), after a warm-up. */
export async function timeMatmul(
  device: GPUDevice,
  s: MatmulShape,
  t: MatmulTiling,
  repeats = 3,
): Promise<number> {
  const { wgsl, workgroups } = matmulWgsl(s, t);
  const usage = 0x80 | 0x8; // STORAGE | COPY_DST
  const a = device.createBuffer({ size: 4 * s.m * s.k, usage });
  const b = device.createBuffer({ size: 4 * s.k * s.n, usage });
  const c = device.createBuffer({ size: 4 * s.m * s.n, usage });
  device.queue.writeBuffer(
    a,
    0,
    Float32Array.from({ length: s.m * s.k }, (_, i) => (i % 7) / 7),
  );
  device.queue.writeBuffer(
    b,
    0,
    Float32Array.from({ length: s.k * s.n }, (_, i) => (i % 5) / 5),
  );
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code: wgsl }), entryPoint: 'main' },
  });
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [a, b, c].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const run = async () => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(...workgroups);
    pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  for (const buf of [a, b, c]) buf.destroy();
  return median(times);
}

export function gflops(s: MatmulShape, ms: number): number {
  return (2 * s.m * s.n * s.k) / (ms * 1e6);
}
