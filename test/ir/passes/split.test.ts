/**
 * Split reductions (#16): a long reduction with few outputs becomes a partial reduction over
 * many workgroups and a small final one. The rewritten graph runs on the adapter and must equal
 * the interpreter running the original, on extents that are not multiples of the workgroup.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { type Graph, sizeOf } from '../../../src/ir/graph.js';
import { interpret } from '../../../src/ir/interpret.js';
import { type Occupancy, splitCount, splitReductions } from '../../../src/ir/passes/split.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { verifyGraph } from '../../../src/ir/verify.js';
import { randomArray, seededRandom } from '../random.js';
import { runGraphOnGpu } from '../../gpu.js';

// Every reduction counts as long here, and the adapter as wide, so that small tensors split.
const WIDE: Occupancy = { concurrentWorkgroups: 64, workgroupSize: 64, minBytes: 0 };

function build(shapes: number[][], f: (b: GraphBuilder, xs: number[]) => number): Graph {
  const b = new GraphBuilder();
  const xs = shapes.map((s, i) => b.input(`x${i}`, 'data', s));
  b.output('y', f(b, xs), 'prediction');
  return b.build();
}

const reductions = (g: Graph) => g.nodes.filter((n) => n.op === 'sum' || n.op === 'reduce_max').length;

async function checkSplit(shapes: number[][], f: (b: GraphBuilder, xs: number[]) => number, seed = 1) {
  const g = build(shapes, f);
  const split = splitReductions(WIDE)(g);
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
  const got = (await runGraphOnGpu(split, values)).get('y')!;
  expect(got.length).toBe(want.data.length);
  for (let i = 0; i < got.length; i++)
    expect(Math.abs(got[i]! - want.data[i]!)).toBeLessThan(2e-5 * Math.max(1, Math.abs(want.data[i]!)));
}

describe('split reductions', () => {
  it('chooses a divisor of the extent that multiplies the workgroups, or no split', () => {
    const occupancy: Occupancy = { concurrentWorkgroups: 16, workgroupSize: 64, minBytes: 0 };
    expect(splitCount(32, 43264, occupancy)).toBe(32); // 43264 = 2⁸·13²: 32 partials of 1352
    expect(splitCount(10, 4001, occupancy)).toBe(1); // 4001 is prime
    expect(splitCount(2048, 1000, occupancy)).toBe(1); // already 32 workgroups
    expect(1000 % splitCount(7, 1000, occupancy)).toBe(0);
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
