/** Tries matmul tilings on the MLP's training shapes and prints GFLOP/s per tiling. */
// What was tried on lavapipe (Mesa 25.0.7, 2 shared cores, Nov 2026) and kept out, for whoever
// tunes next. GALLIVM_DEBUG=asm MESA_SHADER_CACHE_DISABLE=true prints the x86 of each shader.
// - Cost model: every storage load whose index is not a compile-time constant becomes 8
//   per-lane scalar loads, each with an exec-mask test and a bounds check (~18 instructions per
//   lane); an FMA is ~5 instructions per 8 lanes. Loads bound the loop: the 8×8 block's k step
//   is ~2,800 instructions per 8 invocations for 64 FMAs. Indices from workgroup_id are not
//   treated as uniform (wgy = 1 with row0 = wg.y·tm still loads per lane).
// - transA itself is not slow: plain dW 784×128·128×256 takes 5.8-7.9 ms, the forward
//   128×784·784×256 (same FLOPs) 6.5-7.5 ms. The fused dW1 (10 ms in profile.js) pays for its
//   Adam epilogue: that kernel with a 1-step k loop takes 1.5 ms, with a plain store 5.8 ms.
// - 16×16 blocks (wg 4×4): forward 5.0-5.9 ms (from 6.5-7.5), transB 1.8-2.3 (from 2.6-3.2),
//   transA no gain (5.5-6.4 against 5.8-7.9). Used for the non-transA products with short
//   epilogues, the MLP step was not faster: 39.1 against 33.2 ms/step, then 42.2 against 43.8
//   (medians of 6 and 4 interleaved runs, load average 4-7); on that loaded machine the cold
//   compile of one 16×16 add+relu kernel took 52-58 s against 12 s (a step with Adam epilogues
//   in 16×16 blocks had not finished compiling after 14 CPU-minutes).
// - vec4 loads (array<vec4<f32>>, along rows of Aᵀ and columns of B): ~13 instructions per
//   element instead of ~18, 21% fewer in the loop, but not faster (8×8: 6.4 against 6.0 ms).
// - Workgroup-memory staging: a shared-memory load costs ~23 instructions per lane, more than a
//   storage load. Dropping the per-element store guards where the block divides the output
//   did not lower the instruction count (23,015 against 22,649 for dW1).
import { requestDevice } from '../src/runtime/index.js';
import type { MatmulShape, MatmulTiling } from '../src/codegen/wgsl/matmul.js';
import { gflops, timeMatmul } from './matmul.js';

const device = await requestDevice();
const shapes: [string, MatmulShape][] = [
  ['fwd 128x784x256', { m: 128, n: 256, k: 784, transA: false, transB: false }],
  ['dW tA 784x128x256', { m: 784, n: 256, k: 128, transA: true, transB: false }],
  ['dX tB 128x256x256', { m: 128, n: 256, k: 256, transA: false, transB: true }],
];
const tilings: MatmulTiling[] = [];
for (const [tm, tn] of [
  [4, 4],
  [2, 8],
  [8, 2],
  [4, 8],
  [8, 4],
  [1, 8],
  [8, 8],
  [2, 4],
] as const) {
  for (const [wgx, wgy] of [
    [8, 8],
    [16, 4],
    [4, 16],
    [32, 2],
  ] as const)
    tilings.push({ kind: 'blocked', tm, tn, wgx, wgy });
}
tilings.push(
  { kind: 'shared', tile: 16 },
  { kind: 'shared', tile: 8 },
  { kind: 'staged', wg: 16, bk: 16 },
  { kind: 'staged', wg: 16, bk: 32 },
  { kind: 'staged', wg: 8, bk: 8 },
);
const only = process.argv[2];
for (const [name, s] of shapes) {
  const rows: [string, number][] = [];
  for (const t of tilings) {
    const label =
      t.kind === 'shared'
        ? `shared${t.tile}`
        : t.kind === 'staged'
          ? `staged wg ${t.wg} bk ${t.bk}`
          : `blocked ${t.tm}x${t.tn} wg ${t.wgx}x${t.wgy}`;
    if (only && !label.includes(only)) continue;
    rows.push([label, gflops(s, await timeMatmul(device, s, t))]);
  }
  rows.sort((a, b) => b[1] - a[1]);
  console.log(
    name,
    rows
      .slice(0, 6)
      .map(([l, g]) => `${l}: ${g.toFixed(2)}`)
      .join(' | '),
  );
}
process.exit(0);
