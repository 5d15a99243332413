/**
 * Every kernel kind against the reference interpreter (f32) on the real adapter, with random
 * inputs and sizes that are not multiples of the workgroup (64) or the matmul tile (16).
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { BINARY_OPS, UNARY_OPS } from '../../src/ir/graph.js';
import { randomInt, seededRandom } from '../ir/random.js';
import { worstErrorOnGpu } from '../gpu.js';
import type { LowerOptions } from '../../src/codegen/spec.js';

const DOMAIN: Record<string, [number, number]> = { log: [0.1, 3], sqrt: [0.1, 3], div: [0.5, 2] };

/** Builds `y = f(x0, x1, …)` with data inputs of the given shapes, runs it on both, compares (f32). */
async function checkAgainstReference(
  shapes: number[][],
  f: (b: GraphBuilder, xs: number[]) => number,
  range: [number, number] = [-3, 3],
  seed = 1,
  options: LowerOptions = {},
) {
  expect(await worstErrorOnGpu(shapes, f, { range, seed, dtype: 'f32', run: options })).toBeLessThan(2e-5);
}

describe('generated kernels match the reference interpreter', () => {
  const rand = seededRandom(99);
  for (const op of UNARY_OPS) {
    it(`unary ${op} on [67, 3]`, () =>
      checkAgainstReference([[67, 3]], (b, [x]) => b.unary(op, x!), DOMAIN[op]));
  }
  for (const op of BINARY_OPS) {
    it(`binary ${op} with broadcasting [13, 7] ∘ [7]`, () =>
      checkAgainstReference([[13, 7], [7]], (b, [x, y]) => b.binary(op, x!, y!), DOMAIN[op]));
    it(`binary ${op} [5, 1] ∘ [1, 9]`, () =>
      checkAgainstReference(
        [
          [5, 1],
          [1, 9],
        ],
        (b, [x, y]) => b.binary(op, x!, y!),
        DOMAIN[op],
      ));
  }
  it('gt and eq on values with ties', () =>
    checkAgainstReference([[70], [70]], (b, [x, y]) =>
      b.add(b.binary('gt', x!, y!), b.binary('eq', b.unary('sign', x!), b.unary('sign', y!))),
    ));
  it('a binary op with a scalar constant inlined', () =>
    checkAgainstReference([[129]], (b, [x]) => b.mul(x!, b.constant(-2.5))));

  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    const [m, k, n] = [randomInt(rand, 17, 40), randomInt(rand, 1, 37), randomInt(rand, 17, 33)];
    it(`matmul ${m}×${k}·${k}×${n} transA=${ta} transB=${tb}`, () =>
      checkAgainstReference([ta ? [k, m] : [m, k], tb ? [n, k] : [k, n]], (b, [x, y]) =>
        b.matmul(x!, y!, ta, tb),
      ));
  }
  for (const tiling of [
    { kind: 'shared', tile: 16 },
    { kind: 'blocked', tm: 4, tn: 8, wgx: 8, wgy: 8 },
  ] as const) {
    it(`matmul 37×45·45×29 (transA) with the ${tiling.kind} tiling`, () =>
      checkAgainstReference(
        [
          [45, 37],
          [45, 29],
        ],
        (b, [x, y]) => b.matmul(x!, y!, true, false),
        [-3, 3],
        1,
        {
          matmulTiling: tiling,
        },
      ));
  }
  // Batched: equal leading dims, or a rank-2 operand shared by the batch (folded into rows
  // when it is B and A is not transposed, as Dense on [B, T, F]).
  for (const [name, a, b, ta, tb] of [
    ['batched 3×(13×7·7×19)', [3, 13, 7], [3, 7, 19], false, false],
    ['batched 2×3×(11×5)ᵀ·(9×5)ᵀ', [2, 3, 5, 11], [2, 3, 9, 5], true, true],
    ['batched 5×(17×6)·(6×9)ᵀ', [5, 17, 6], [5, 9, 6], false, true],
    ['[4,15,6] · shared [6,21]', [4, 15, 6], [6, 21], false, false],
    ['[4,6,15]ᵀ · shared [6,21]', [4, 6, 15], [6, 21], true, false],
    ['shared [13,6] · [3,6,10]', [13, 6], [3, 6, 10], false, false],
  ] as const) {
    it(`matmul ${name}`, () =>
      checkAgainstReference([[...a], [...b]], (bd, [x, y]) => bd.matmul(x!, y!, ta, tb)));
  }
  it('a batched matmul with an epilogue, in the shared tiling', () =>
    checkAgainstReference(
      [
        [3, 10, 4],
        [3, 12, 4],
      ],
      (b, [x, y]) => b.unary('tanh', b.mul(b.matmul(x!, y!, false, true), b.constant(0.5))),
      [-3, 3],
      2,
      { matmulTiling: { kind: 'shared', tile: 16 } },
    ));
  it('matmul with a 1-wide inner dimension', () =>
    checkAgainstReference(
      [
        [3, 1],
        [1, 5],
      ],
      (b, [x, y]) => b.matmul(x!, y!),
    ));

  it('sum over the leading axis of [131, 5]', () =>
    checkAgainstReference([[131, 5]], (b, [x]) => b.sum(x!, [0])));
  it('sum over the last axis with keepDims', () =>
    checkAgainstReference([[9, 70]], (b, [x]) => b.sum(x!, [1], true)));
  it('sum over two axes of [3, 4, 5]', () =>
    checkAgainstReference([[3, 4, 5]], (b, [x]) => b.sum(x!, [0, 2])));
  it('sum over every axis', () => checkAgainstReference([[7, 11]], (b, [x]) => b.sum(x!, [0, 1])));
  it('reduce_max over the middle axis', () =>
    checkAgainstReference([[6, 13, 2]], (b, [x]) => b.reduceMax(x!, [1])));
  // Few outputs of long reductions (a bias gradient over a batch's pixels).
  it('sum of [5, 13, 11, 3] per channel, with prologue and epilogue', () =>
    checkAgainstReference([[5, 13, 11, 3]], (b, [x]) => b.unary('tanh', b.sum(b.mul(x!, x!), [0, 1, 2]))));
  it('reduce_max over the non-adjacent axes 0 and 2 of [37, 3, 29]', () =>
    checkAgainstReference([[37, 3, 29]], (b, [x]) => b.reduceMax(x!, [0, 2]), [-5, -1]));
  it('sum of 1,000 values to one', () => checkAgainstReference([[1000]], (b, [x]) => b.sum(x!, [0])));
  it('broadcast [4, 1] to [3, 4, 66]', () =>
    checkAgainstReference([[4, 1]], (b, [x]) => b.broadcast(x!, [3, 4, 66])));
  it('reshape [6, 10] to [4, 15]', () =>
    checkAgainstReference([[6, 10]], (b, [x]) => b.reshape(x!, [4, 15])));
  it('transpose [5, 7, 3] by [2, 0, 1]', () =>
    checkAgainstReference([[5, 7, 3]], (b, [x]) => b.transpose(x!, [2, 0, 1])));
  it('iota along each axis, fused into a broadcast sum', () =>
    checkAgainstReference([[3, 5, 70]], (b, [x]) =>
      b.add(b.add(x!, b.iota([3, 5, 70], 0)), b.mul(b.iota([5, 70], 0), b.iota([5, 70], 1))),
    ));
  it('iota stored on its own', () => checkAgainstReference([[1]], (b) => b.iota([4, 67], 1)));
  it('a grid larger than 65535 workgroups in x', () =>
    checkAgainstReference([[65535 * 64 + 100]], (b, [x]) => b.unary('neg', x!)));
});
