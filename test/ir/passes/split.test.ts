/**
 * Split reductions (#16): a long reduction with few outputs becomes a partial reduction over
 * many workgroups and a small final one. The rewritten graph runs on the adapter and must equal
 * the interpreter running the original, on extents that are not multiples of the workgroup.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { type Graph, sizeOf, sliceOf, sliceStart } from '../../../src/ir/graph.js';
import { interpret } from '../../../src/ir/interpret.js';
import { type Occupancy, splitCount, splitReductions } from '../../../src/ir/passes/split.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { verifyGraph } from '../../../src/ir/verify.js';
import { randomArray, seededRandom } from '../random.js';
import { runGraphOnGpu } from '../../gpu.js';
import { runGraphOnWasm } from '../../wasm.js';
import { eliminateDeadCode } from '../../../src/ir/passes/index.js';
import { matmulWorkgroups } from '../../../src/codegen/wgsl/matmul.js';
import { convWorkgroups } from '../../../src/codegen/wgsl/conv2d.js';

// Every reduction counts as long here, and the adapter as wide, so that small tensors split.
const WIDE: Occupancy = {
  concurrentWorkgroups: 64,
  workgroupSize: 64,
  minBytes: 0,
  maxPartialBytes: Infinity,
  matmulWorkgroups,
  convWorkgroups,
};

function build(shapes: number[][], f: (b: GraphBuilder, xs: number[]) => number): Graph {
  const b = new GraphBuilder();
  const xs = shapes.map((s, i) => b.input(`x${i}`, 'data', s));
  b.output('y', f(b, xs), 'prediction');
  return b.build();
}

/** Reductions and the partial passes of a split: sums, maxima, matmuls and filter gradients. */
const reductions = (g: Graph) =>
  g.nodes.filter((n) => n.op === 'sum' || n.op === 'reduce_max').length +
  g.nodes.filter((n) => n.op === 'matmul' || n.op === 'conv2d_filter_grad').length;

async function checkSplit(
  shapes: number[][],
  f: (b: GraphBuilder, xs: number[]) => number,
  seed = 1,
  target: 'gpu' | 'wasm' = 'gpu',
  occupancy: Occupancy = WIDE,
) {
  const g = build(shapes, f);
  const split = eliminateDeadCode(splitReductions(occupancy)(g));
  expect(verifyGraph(split)).toEqual([]);
  expect(reductions(split)).toBe(2 * reductions(g));
  const rand = seededRandom(seed);
  const values = new Map(
    shapes.map((s, i) => [`x${i}`, Float32Array.from(randomArray(rand, sizeOf(s), -2, 2))]),
  );
  const tensors = new Map<string, Tensor>(
    [...values].map(([k, v], i) => [k, { shape: shapes[i]!, data: Float64Array.from(v) }]),
  );
  const want = interpret(g, tensors, { dtype: 'f64' })[g.outputs[0]!.node]!;
  const got = (target === 'gpu' ? await runGraphOnGpu(split, values) : runGraphOnWasm(split, values)).get(
    'y',
  )!;
  expect(got.length).toBe(want.data.length);
  for (let i = 0; i < got.length; i++)
    expect(Math.abs(got[i]! - want.data[i]!)).toBeLessThan(2e-5 * Math.max(1, Math.abs(want.data[i]!)));
}

describe('split reductions', () => {
  it('chooses a divisor of the extent that multiplies the workgroups, or no split', () => {
    const occupancy: Occupancy = { ...WIDE, concurrentWorkgroups: 16 };
    expect(splitCount(32, 43264, occupancy)).toBe(32); // 43264 = 2⁸·13²: 32 partials of 1352
    expect(splitCount(10, 4001, occupancy)).toBe(1); // 4001 is prime
    expect(splitCount(2048, 1000, occupancy)).toBe(1); // already 32 workgroups
    expect(1000 % splitCount(7, 1000, occupancy)).toBe(0);
    // The CNN's first bias gradient (20 channels over 64·24·24): the fewest partials that fill
    // 16 workgroups (64: 20 workgroups), not the most below (48: 15 workgroups).
    expect(splitCount(20, 36864, occupancy)).toBe(64);
  });

  it('a bias gradient: sum over the rows of [2220, 5] (2220 = 60·37)', () =>
    checkSplit([[2220, 5]], (b, [x]) => b.sum(x!, [0])));

  it('a conv bias gradient with its prologue: sum over N, H, W of relu(x)·y on [6, 13, 11, 3]', () =>
    checkSplit(
      [
        [6, 13, 11, 3],
        [6, 13, 11, 3],
      ],
      (b, [x, y]) => b.sum(b.mul(b.unary('relu', x!), y!), [0, 1, 2]),
    ));

  it('kept dimensions and an epilogue: BatchNorm-style mean over [0, 1] of [35, 18, 4], keepDims', () =>
    checkSplit([[35, 18, 4]], (b, [x]) => b.mul(b.sum(x!, [0, 1], true), b.constant(1 / 630))));

  it('inner axes and reduce_max: max over axis 1 of [3, 3900, 2]', () =>
    checkSplit([[3, 3900, 2]], (b, [x]) => b.reduceMax(x!, [1])));

  it('a whole-tensor sum (a loss mean) of [10010]', () => checkSplit([[10010]], (b, [x]) => b.sum(x!, [0])));

  it('a prime extent: sum over the 4001 rows of [4001, 3], in slices of 32 or 33 rows', async () => {
    const g = build([[4001, 3]], (b, [x]) => b.sum(x!, [0]));
    const partial = splitReductions(WIDE)(g).nodes.find(
      (n) => n.op === 'sum' && n.params.slices !== undefined,
    );
    expect(partial?.shape).toEqual([125, 3]); // 4001 / 125: slices of 32 and 33 rows
    await checkSplit([[4001, 3]], (b, [x]) => b.sum(x!, [0]));
  });

  it('a prime extent inside: reduce_max over axis 1 of [2, 1009, 5], then an epilogue', () =>
    checkSplit([[2, 1009, 5]], (b, [x]) => b.unary('exp', b.reduceMax(x!, [1]))));

  it('one output over a prime extent with a prologue: sum of x² over [10007], kept as [1]', () =>
    checkSplit([[10007]], (b, [x]) => b.sum(b.mul(x!, x!), [0], true)));

  it('leaves alone short reductions, wide ones and axes that are not contiguous', () => {
    const narrow = { ...WIDE, minBytes: 1 << 20 };
    const short = build([[222, 5]], (b, [x]) => b.sum(x!, [0]));
    expect(reductions(splitReductions(narrow)(short))).toBe(1);
    const wide = build([[64, 4096]], (b, [x]) => b.sum(x!, [0]));
    expect(reductions(splitReductions(WIDE)(wide))).toBe(1);
    const apart = build([[40, 3, 40]], (b, [x]) => b.sum(x!, [0, 2]));
    expect(reductions(splitReductions(WIDE)(apart))).toBe(1);
  });
});

// Few outputs on a wide adapter: every case below splits.
const NARROW_OUTPUT: Occupancy = { ...WIDE, concurrentWorkgroups: 48 };

const VALID = { strides: [1, 1] as const, dilation: [1, 1] as const, pad: [0, 0, 0, 0] as const };

describe.each(['gpu', 'wasm'] as const)('split-K and split filter gradients (%s)', (target) => {
  it('a matmul with K = 7·48 (A stored [M, K]: a slice view) plus bias and relu', () =>
    checkSplit(
      [[13, 336], [336, 9], [9]],
      (b, [x, w, bias]) => b.unary('relu', b.add(b.matmul(x!, w!), bias!)),
      2,
      target,
      NARROW_OUTPUT,
    ));

  it('a weight gradient xᵀ·g (transposed A, K rows) over K = 5·37', () =>
    checkSplit(
      [
        [185, 6],
        [185, 11],
      ],
      (b, [x, g]) => b.matmul(x!, g!, true, false),
      3,
      target,
      NARROW_OUTPUT,
    ));

  it('an input gradient g·wᵀ (transposed B, a slice view of its rows) over K = 2·3·17', () =>
    checkSplit(
      [
        [3, 102],
        [5, 102],
      ],
      (b, [g, w]) => b.matmul(g!, w!, false, true),
      4,
      target,
      NARROW_OUTPUT,
    ));

  it('a sum over a prime extent (sliced partials): BatchNorm-style mean over [0, 1] of [1, 3001, 4]', () =>
    checkSplit([[1, 3001, 4]], (b, [x]) => b.mul(b.sum(x!, [0, 1], true), b.constant(1 / 3001)), 7, target));

  it('a filter gradient over 3 images of 9 output rows: slices that do not divide the 27 pairs', () =>
    checkSplit(
      [
        [3, 11, 10, 2],
        [3, 9, 8, 5],
      ],
      (b, [x, g]) => b.emit('conv2d_filter_grad', [x!, g!], { ...VALID, kernelHW: [3, 3] }),
      5,
      target,
      NARROW_OUTPUT,
    ));

  it('a padded filter gradient with one output channel, its result scaled (the epilogue)', () =>
    checkSplit(
      [
        [2, 7, 7, 3],
        [2, 7, 7, 1],
      ],
      (b, [x, g]) =>
        b.mul(
          b.emit('conv2d_filter_grad', [x!, g!], { ...VALID, pad: [1, 1, 1, 1] as const, kernelHW: [3, 3] }),
          b.constant(0.5),
        ),
      6,
      target,
      NARROW_OUTPUT,
    ));
});

describe('slices of a split', () => {
  it('cover every pair once, in order, differing by at most one pair', () => {
    for (const [pairs, slices] of [
      [27, 5],
      [27, 27],
      [1536, 16],
      [7, 2],
    ] as const) {
      const seen = Array.from({ length: pairs }, (_, t) => sliceOf(t, pairs, slices));
      for (let s = 0; s < slices; s++) {
        const [from, to] = [sliceStart(s, pairs, slices), sliceStart(s + 1, pairs, slices)];
        expect(to - from).toBeGreaterThanOrEqual(Math.floor(pairs / slices));
        expect(to - from).toBeLessThanOrEqual(Math.ceil(pairs / slices));
        for (let t = from; t < to; t++) expect(seen[t]).toBe(s);
      }
    }
  });
});
