/**
 * The kernel kinds of the layer library (conv2d, pool, gather, slice, random, image_shift) against the
 * reference interpreter (f32) on the real adapter, with sizes that divide neither the workgroup
 * (64) nor the conv block (32×32).
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { type Graph, sizeOf } from '../../src/ir/graph.js';
import { interpret } from '../../src/ir/interpret.js';
import { SHAPE_RULES } from '../../src/ir/ops.js';
import type { Tensor } from '../../src/ir/tensor.js';
import { randomArray, seededRandom } from '../ir/random.js';
import { runGraphOnGpu } from '../gpu.js';

interface Operand {
  readonly shape: number[];
  /** Fixed values (indices); random in [-3, 3] when omitted. */
  readonly values?: readonly number[];
}

async function checkAgainstReference(
  operands: Operand[],
  f: (b: GraphBuilder, xs: number[]) => number,
  seed = 1,
) {
  const rand = seededRandom(seed);
  const b = new GraphBuilder();
  const xs = operands.map((o, i) => b.input(`x${i}`, 'data', o.shape));
  b.output('y', f(b, xs), 'prediction');
  const g: Graph = b.build();
  const values = new Map<string, Float32Array>(
    operands.map((o, i) => [
      `x${i}`,
      Float32Array.from(o.values ?? randomArray(rand, sizeOf(o.shape), -3, 3)),
    ]),
  );
  const tensors = new Map<string, Tensor>(
    [...values].map(([k, v], i) => [k, { shape: operands[i]!.shape, data: v }]),
  );
  const want = interpret(g, tensors, { dtype: 'f32' })[g.outputs[0]!.node]!.data;
  const got = (await runGraphOnGpu(g, values)).get('y')!;
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!));
    worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
  }
  expect(worst).toBeLessThan(2e-5);
  return want;
}

const CONVS = [
  {
    name: '5×5 valid on 13×11×3 → 7',
    x: [3, 13, 11, 3],
    w: [5, 5, 3, 7],
    strides: [1, 1],
    dilation: [1, 1],
    pad: [0, 0, 0, 0],
  },
  {
    name: '3×3 same stride 2 on 9×10×5 → 33',
    x: [2, 9, 10, 5],
    w: [3, 3, 5, 33],
    strides: [2, 2],
    dilation: [1, 1],
    pad: [1, 1, 1, 1],
  },
  {
    name: '2×3 dilation 2 stride (1,2) uneven padding',
    x: [2, 7, 6, 2],
    w: [2, 3, 2, 3],
    strides: [1, 2],
    dilation: [2, 2],
    pad: [0, 1, 1, 2],
  },
  {
    name: '3×3 same on 5×6×8 → 5 (channels a multiple of the block)',
    x: [2, 5, 6, 8],
    w: [3, 3, 8, 5],
    strides: [1, 1],
    dilation: [1, 1],
    pad: [1, 1, 1, 1],
  },
] as const;

describe('conv2d kernels match the reference interpreter', () => {
  for (const c of CONVS) {
    const p = { strides: c.strides, dilation: c.dilation, pad: c.pad } as never;
    const y = SHAPE_RULES.conv2d([c.x, c.w], p) as number[];
    it(`conv2d ${c.name}`, () =>
      checkAgainstReference([{ shape: [...c.x] }, { shape: [...c.w] }], (b, [x, w]) =>
        b.emit('conv2d', [x!, w!], p),
      ));
    it(`conv2d_input_grad ${c.name}`, () =>
      checkAgainstReference([{ shape: y }, { shape: [...c.w] }], (b, [g, w]) =>
        b.emit('conv2d_input_grad', [g!, w!], { ...(p as object), inputHW: [c.x[1], c.x[2]] } as never),
      ));
    it(`conv2d_filter_grad ${c.name}`, () =>
      checkAgainstReference([{ shape: [...c.x] }, { shape: y }], (b, [x, g]) =>
        b.emit('conv2d_filter_grad', [x!, g!], { ...(p as object), kernelHW: [c.w[0], c.w[1]] } as never),
      ));
  }
});

const POOLS = [
  {
    name: '2×2 stride 2 on 9×11×67 (odd edges)',
    x: [2, 9, 11, 67],
    window: [2, 2],
    strides: [2, 2],
    pad: [0, 0, 0, 0],
  },
  { name: '3×3 stride 2 same on 7×6×3', x: [3, 7, 6, 3], window: [3, 3], strides: [2, 2], pad: [1, 0, 1, 1] },
] as const;

describe('pooling kernels match the reference interpreter', () => {
  for (const c of POOLS) {
    const p = { window: c.window, strides: c.strides, pad: c.pad } as never;
    const y = SHAPE_RULES.max_pool2d([c.x], p) as number[];
    it(`max_pool2d ${c.name}`, () =>
      checkAgainstReference([{ shape: [...c.x] }], (b, [x]) => b.emit('max_pool2d', [x!], p)));
    it(`avg_pool2d ${c.name}`, () =>
      checkAgainstReference([{ shape: [...c.x] }], (b, [x]) => b.emit('avg_pool2d', [x!], p)));
    it(`max_pool2d_grad ${c.name}`, () =>
      checkAgainstReference([{ shape: [...c.x] }, { shape: y }], (b, [x, g]) =>
        b.emit('max_pool2d_grad', [x!, g!], p),
      ));
    it(`avg_pool2d_grad ${c.name}`, () =>
      checkAgainstReference([{ shape: y }], (b, [g]) =>
        b.emit('avg_pool2d_grad', [g!], { ...(p as object), inputHW: [c.x[1], c.x[2]] } as never),
      ));
  }
  it('max_pool2d_grad sends a tie to the first maximum', () =>
    checkAgainstReference(
      [
        { shape: [1, 2, 2, 1], values: [1, 1, 1, 1] },
        { shape: [1, 1, 1, 1], values: [5] },
      ],
      (b, [x, g]) =>
        b.emit('max_pool2d_grad', [x!, g!], { window: [2, 2], strides: [2, 2], pad: [0, 0, 0, 0] }),
    ).then((want) => expect(Array.from(want)).toEqual([5, 0, 0, 0])));
});

describe('gather, slice and random kernels match the reference interpreter', () => {
  // Indices include a rounding case (2.9 → 3) and out-of-range ones (−1, 7 of 7 rows).
  // Rounding cases (2.9 → 3, −0.5 → 0 as ⌊v + ½⌋ gives, 6.49 → 6) and out-of-range ones (−1, 7 of 7).
  const idx = { shape: [5, 3], values: [0, 6, 2.9, 1, -0.5, -1, 7, 5, 4, 6.49, 0, 2, 6, 6, 1] };
  it('gather rows of a [7, 3, 23] table', () =>
    checkAgainstReference([{ shape: [7, 3, 23] }, idx], (b, [t, i]) => b.emit('gather', [t!, i!], {})));
  it('scatter_add into 7 rows', () =>
    checkAgainstReference([idx, { shape: [5, 3, 23] }], (b, [i, g]) =>
      b.emit('scatter_add', [i!, g!], { rows: 7 }),
    ));
  it('one_hot of depth 7', () =>
    checkAgainstReference([idx], (b, [i]) => b.emit('one_hot', [i!], { depth: 7 })));
  it('slice the middle of axis 1', () =>
    checkAgainstReference([{ shape: [3, 29, 5] }], (b, [x]) =>
      b.emit('slice', [x!], { axis: 1, start: 4, size: 13 }),
    ));
  it('slice the last axis', () =>
    checkAgainstReference([{ shape: [67, 8] }], (b, [x]) =>
      b.emit('slice', [x!], { axis: 1, start: 6, size: 2 }),
    ));
  it('pad axis 1 of [3, 29, 5] with 4 before and 2 after', () =>
    checkAgainstReference([{ shape: [3, 29, 5] }], (b, [x]) =>
      b.emit('pad', [x!], { axis: 1, before: 4, after: 2 }),
    ));
  it('pad the last axis at its end only', () =>
    checkAgainstReference([{ shape: [67, 3] }], (b, [x]) =>
      b.emit('pad', [x!], { axis: 1, before: 0, after: 5 }),
    ));
  it('concat three tensors along axis 1', () =>
    checkAgainstReference([{ shape: [3, 2, 5] }, { shape: [3, 7, 5] }, { shape: [3, 1, 5] }], (b, xs) =>
      b.emit('concat', xs, { axis: 1 }),
    ));
  it('concat along axis 0 and of a single tensor', () =>
    checkAgainstReference([{ shape: [2, 33] }, { shape: [3, 33] }], (b, [x, y]) =>
      b.emit('concat', [b.emit('concat', [x!, y!], { axis: 0 })], { axis: 1 }),
    ));
  // Per image (dy, dx, flip): plain moves, a mirror, moves past the edge, values that round
  // (0.6 → 1, −1.4 → −1) and a flip flag just under ½.
  const moves = {
    shape: [6, 3],
    values: [0, 0, 0, 2, -1, 0, 0, 0, 1, -3, 4, 1, 0.6, -1.4, 0.49, 9, 0, 0],
  };
  it('image_shift moves and mirrors 6 images of 7×5×3', () =>
    checkAgainstReference([{ shape: [6, 7, 5, 3] }, moves], (b, [x, m]) =>
      b.emit('image_shift', [x!, m!], { adjoint: false }),
    ));
  it('image_shift adjoint', () =>
    checkAgainstReference([{ shape: [6, 7, 5, 3] }, moves], (b, [x, m]) =>
      b.emit('image_shift', [x!, m!], { adjoint: true }),
    ));
  it('random_uniform draws the same bits as the reference', async () => {
    const want = await checkAgainstReference(
      [
        { shape: [], values: [12] },
        { shape: [], values: [0] },
      ],
      (b, [t, seed]) => b.emit('random_uniform', [t!, seed!], { shape: [3, 100], salt: 0xdeadbeef }),
    );
    // A model seed (up to 2^24 − 1, exact in f32) draws another stream, the same on both sides.
    const seeded = await checkAgainstReference(
      [
        { shape: [], values: [12] },
        { shape: [], values: [16777215] },
      ],
      (b, [t, seed]) => b.emit('random_uniform', [t!, seed!], { shape: [3, 100], salt: 0xdeadbeef }),
    );
    expect(Array.from(seeded).filter((v, i) => v === want[i]).length).toBeLessThan(5);
    const mean = Array.from(want).reduce((a, v) => a + v, 0) / want.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.06);
    expect(Math.min(...Array.from(want))).toBeGreaterThanOrEqual(0);
    expect(Math.max(...Array.from(want))).toBeLessThan(1);
  });
  it('random_uniform fused into the ops that read it: per-row draws broadcast, and own draws', () =>
    checkAgainstReference(
      [{ shape: [], values: [7] }, { shape: [], values: [3] }, { shape: [5, 100] }],
      (b, [t, seed, x]) => {
        const perRow = b.emit('random_uniform', [t!, seed!], { shape: [5, 1], salt: 0x1234 });
        const keep = b.binary('gt', b.broadcast(perRow, [5, 100]), b.constant(0.3));
        const own = b.emit('random_uniform', [t!, seed!], { shape: [5, 100], salt: 0x99 });
        return b.mul(b.mul(x!, keep), own);
      },
    ));
});
