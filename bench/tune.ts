/** Tries matmul tilings on the MLP's training shapes and prints GFLOP/s per tiling. */
import { requestDevice } from '../src/runtime/index.js';
import type { MatmulShape, MatmulTiling } from '../src/codegen/kernels/matmul.js';
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
tilings.push({ kind: 'shared', tile: 16 }, { kind: 'shared', tile: 8 });
const only = process.argv[2];
for (const [name, s] of shapes) {
  const rows: [string, number][] = [];
  for (const t of tilings) {
    const label = t.kind === 'shared' ? `shared${t.tile}` : `blocked ${t.tm}x${t.tn} wg ${t.wgx}x${t.wgy}`;
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
