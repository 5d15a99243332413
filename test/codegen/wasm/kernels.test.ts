/**
 * Every wasm kernel kind against the reference interpreter (f32), with random inputs and sizes
 * that are not multiples of the SIMD width (4) or the matmul register tile (4×8): the wasm twin
 * of test/codegen/kernels.test.ts. Buffers start as NaN, so an element a kernel skips fails.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { BINARY_OPS, type Graph, UNARY_OPS, sizeOf } from '../../../src/ir/graph.js';
import { interpret } from '../../../src/ir/interpret.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { randomArray, randomInt, seededRandom } from '../../ir/random.js';
import { runGraphOnWasm, runGraphOnWasmThreads } from '../../wasm.js';
import { worstErrorAgainstInterpreter } from '../../kernel-oracle.js';

const DOMAIN: Record<string, [number, number]> = { log: [0.1, 3], sqrt: [0.1, 3], div: [0.5, 2] };

/** Builds `y = f(x0, x1, …)` with data inputs of the given shapes, runs it on both, compares. */
async function checkAgainstReference(
  shapes: number[][],
  f: (b: GraphBuilder, xs: number[]) => number,
  range: [number, number] = [-3, 3],
  seed = 1,
  tolerance = 2e-5,
  threads = 1,
) {
  const run = (g: Graph, values: Map<string, Float32Array>) =>
    threads === 1 ? runGraphOnWasm(g, values) : runGraphOnWasmThreads(g, values, threads);
  expect(await worstErrorAgainstInterpreter(shapes, f, run, { range, seed, dtype: 'f32' })).toBeLessThan(
    tolerance,
  );
}

/** As above, with the leading operands' values given (counters, seeds), and bit-exact. */
function checkAgainstExact(
  shapes: number[][],
  fixed: (number[] | undefined)[],
  f: (b: GraphBuilder, xs: number[]) => number,
) {
  const rand = seededRandom(3);
  const b = new GraphBuilder();
  const xs = shapes.map((s, i) => b.input(`x${i}`, 'data', s));
  b.output('y', f(b, xs), 'prediction');
  const g = b.build();
  const values = new Map<string, Float32Array>(
    shapes.map((s, i) => [`x${i}`, Float32Array.from(fixed[i] ?? randomArray(rand, sizeOf(s), -3, 3))]),
  );
  const tensors = new Map<string, Tensor>(
    [...values].map(([k, v], i) => [k, { shape: shapes[i]!, data: v }]),
  );
  const want = interpret(g, tensors, { dtype: 'f32' })[g.outputs[0]!.node]!.data;
  expect(Array.from(runGraphOnWasm(g, values).get('y')!)).toEqual(Array.from(want));
}

describe('wasm kernels match the reference interpreter', () => {
  const rand = seededRandom(99);
  for (const op of UNARY_OPS) {
    it(`unary ${op} on [67, 3]`, () =>
      checkAgainstReference([[67, 3]], (b, [x]) => b.unary(op, x!), DOMAIN[op]));
  }
  it('unary ops at large |x| stay finite where the reference is', () =>
    checkAgainstReference(
      [[41]],
      (b, [x]) =>
        b.add(
          b.add(b.unary('sigmoid', x!), b.unary('softplus', x!)),
          b.add(b.unary('tanh', x!), b.unary('elu', b.neg(x!))),
        ),
      [-90, 90],
    ));
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
  // Every remainder of the 4×8 tile: m mod 4 and n mod 8 all differ from zero.
  for (const [m, k, n] of [
    [1, 1, 1],
    [3, 5, 7],
    [5, 9, 9],
    [2, 3, 15],
    [7, 130, 13],
    [130, 67, 71],
  ] as const) {
    it(`matmul ${m}×${k}·${k}×${n} (tile remainders)`, () =>
      checkAgainstReference(
        [
          [m, k],
          [k, n],
        ],
        (b, [x, y]) => b.matmul(x!, y!),
        [-3, 3],
        m + n,
        1e-4,
      ));
  }
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
  it('a batched matmul with an epilogue', () =>
    checkAgainstReference(
      [
        [3, 10, 4],
        [3, 12, 4],
      ],
      (b, [x, y]) => b.unary('tanh', b.mul(b.matmul(x!, y!, false, true), b.constant(0.5))),
      [-3, 3],
      2,
    ));
  it('a dense layer: matmul, bias broadcast and relu in one kernel', () =>
    checkAgainstReference([[9, 21], [21, 11], [11]], (b, [x, w, bias]) =>
      b.unary('relu', b.add(b.matmul(x!, w!), b.broadcast(bias!, [9, 11]))),
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
  it('sum of [5, 13, 11, 3] per channel, with prologue and epilogue', () =>
    checkAgainstReference([[5, 13, 11, 3]], (b, [x]) => b.unary('tanh', b.sum(b.mul(x!, x!), [0, 1, 2]))));
  it('reduce_max over the non-adjacent axes 0 and 2 of [37, 3, 29]', () =>
    checkAgainstReference([[37, 3, 29]], (b, [x]) => b.reduceMax(x!, [0, 2]), [-5, -1]));
  it('sum of 1,000 values to one', () => checkAgainstReference([[1000]], (b, [x]) => b.sum(x!, [0])));
  it('softmax over the last axis: max, exp, sum, div', () =>
    checkAgainstReference([[7, 13]], (b, [x]) => {
      const e = b.unary('exp', b.sub(x!, b.broadcast(b.reduceMax(x!, [1], true), [7, 13])));
      return b.div(e, b.broadcast(b.sum(e, [1], true), [7, 13]));
    }));
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
  it('random_uniform draws the same bits as the reference', () =>
    checkAgainstExact([[], []], [[12], [16777215]], (b, [t, seed]) =>
      b.emit('random_uniform', [t!, seed!], { shape: [3, 101], salt: 0xdeadbeef }),
    ));
  it('random_uniform fused into the ops that read it: per-row draws broadcast, and own draws', () =>
    checkAgainstExact([[], [], [5, 99]], [[7], [3]], (b, [t, seed, x]) => {
      const perRow = b.emit('random_uniform', [t!, seed!], { shape: [5, 1], salt: 0x1234 });
      const keep = b.binary('gt', b.broadcast(perRow, [5, 99]), b.constant(0.3));
      const own = b.emit('random_uniform', [t!, seed!], { shape: [5, 99], salt: 0x99 });
      return b.mul(b.mul(x!, keep), own);
    }));
  // Indices with rounding cases (2.9 → 3, −0.5 → 0, 6.49 → 6) and out-of-range ones (−1, 7 of 7 rows).
  const idx = [0, 6, 2.9, 1, -0.5, -1, 7, 5, 4, 6.49, 0, 2, 6, 6, 1];
  it('gather rows of a [7, 3, 23] table', () =>
    checkAgainstExact(
      [
        [7, 3, 23],
        [5, 3],
      ],
      [undefined, idx],
      (b, [t, i]) => b.emit('gather', [t!, i!], {}),
    ));
  it('scatter_add into 7 rows', () =>
    checkAgainstExact(
      [
        [5, 3],
        [5, 3, 23],
      ],
      [idx],
      (b, [i, g]) => b.emit('scatter_add', [i!, g!], { rows: 7 }),
    ));
  it('one_hot of depth 7', () =>
    checkAgainstExact([[5, 3]], [idx], (b, [i]) => b.emit('one_hot', [i!], { depth: 7 })));
  it('slice the middle of axis 1', () =>
    checkAgainstExact([[3, 29, 5]], [], (b, [x]) => b.emit('slice', [x!], { axis: 1, start: 4, size: 13 })));
  it('slice the last axis', () =>
    checkAgainstExact([[67, 8]], [], (b, [x]) => b.emit('slice', [x!], { axis: 1, start: 6, size: 2 })));
  it('pad axis 1 of [3, 29, 5] with 4 before and 2 after', () =>
    checkAgainstExact([[3, 29, 5]], [], (b, [x]) => b.emit('pad', [x!], { axis: 1, before: 4, after: 2 })));
  it('pad the last axis at its end only', () =>
    checkAgainstExact([[67, 3]], [], (b, [x]) => b.emit('pad', [x!], { axis: 1, before: 0, after: 5 })));
  it('concat three tensors along axis 1', () =>
    checkAgainstExact(
      [
        [3, 2, 5],
        [3, 7, 5],
        [3, 1, 5],
      ],
      [],
      (b, xs) => b.emit('concat', xs, { axis: 1 }),
    ));
  it('concat along axis 0 and of a single tensor', () =>
    checkAgainstExact(
      [
        [2, 33],
        [3, 33],
      ],
      [],
      (b, [x, y]) => b.emit('concat', [b.emit('concat', [x!, y!], { axis: 0 })], { axis: 1 }),
    ));
  it('iota stored on its own', () => checkAgainstReference([[1]], (b) => b.iota([4, 67], 1)));
});

describe('wasm map kernels four elements at a time match the reference interpreter', () => {
  // Last axes that are multiples of 4 take the four-lane path where every op has a four-lane
  // form; the others (exp, log, tanh, …) fall back to one element at a time.
  for (const op of UNARY_OPS)
    it(`unary ${op} on [9, 12]`, () =>
      checkAgainstReference([[9, 12]], (b, [x]) => b.unary(op, x!), DOMAIN[op]));
  for (const op of BINARY_OPS) {
    it(`binary ${op} [6, 5, 8] ∘ [8] (the row read four lanes at a time)`, () =>
      checkAgainstReference([[6, 5, 8], [8]], (b, [x, y]) => b.binary(op, x!, y!), DOMAIN[op]));
    it(`binary ${op} [6, 5, 4] ∘ [6, 5, 1] (one element splat to four lanes)`, () =>
      checkAgainstReference(
        [
          [6, 5, 4],
          [6, 5, 1],
        ],
        (b, [x, y]) => b.binary(op, x!, y!),
        DOMAIN[op],
      ));
  }
  for (const threads of [1, 2, 3]) {
    it(`a conv's bias and relu on [3, 7, 5, 12] (${threads} threads)`, () =>
      checkAgainstReference(
        [[3, 7, 5, 12], [12]],
        (b, [x, bias]) => b.unary('relu', b.add(x!, b.broadcast(bias!, [3, 7, 5, 12]))),
        [-3, 3],
        1,
        2e-5,
        threads,
      ));
    it(`relu's gradient mask on [5, 9, 8] (${threads} threads)`, () =>
      checkAgainstReference(
        [
          [5, 9, 8],
          [5, 9, 8],
        ],
        (b, [g, x]) => b.mul(g!, b.binary('gt', x!, b.constant(0))),
        [-3, 3],
        2,
        2e-5,
        threads,
      ));
  }
  it('a middle-axis broadcast [4, 1, 8] to [4, 3, 8], then a constant', () =>
    checkAgainstReference(
      [
        [4, 3, 8],
        [4, 1, 8],
      ],
      (b, [x, y]) => b.mul(b.sub(x!, b.broadcast(y!, [4, 3, 8])), b.constant(0.25)),
    ));
  it('a reshape whose source rows are not four-aligned ([10, 6] to [5, 12]) takes the scalar path', () =>
    checkAgainstReference([[10, 6], [12]], (b, [x, y]) =>
      b.add(b.reshape(x!, [5, 12]), b.broadcast(y!, [5, 12])),
    ));
});

describe('wasm reductions four outputs at a time match the reference interpreter', () => {
  // The last axis is kept and a multiple of 4: four outputs per step, their epilogue four lanes
  // at a time where its ops allow, else lane by lane.
  it('sum over the leading axis of [131, 8]', () =>
    checkAgainstReference([[131, 8]], (b, [x]) => b.sum(x!, [0])));
  it('reduce_max over the leading axis of [37, 12]', () =>
    checkAgainstReference([[37, 12]], (b, [x]) => b.reduceMax(x!, [0]), [-5, -1]));
  it('sum over axes 0 and 1 of [3, 4, 12] with keepDims', () =>
    checkAgainstReference([[3, 4, 12]], (b, [x]) => b.sum(x!, [0, 1], true)));
  it('sum over the middle axis of [3, 7, 8]', () =>
    checkAgainstReference([[3, 7, 8]], (b, [x]) => b.sum(x!, [1])));
  it('a bias gradient with a broadcast prologue and a four-lane epilogue', () =>
    checkAgainstReference([[6, 8], [8]], (b, [x, y]) =>
      b.mul(b.unary('sqrt', b.unary('abs', b.sum(b.mul(x!, b.broadcast(y!, [6, 8])), [0]))), b.constant(0.5)),
    ));
  it('a prologue without a four-lane form (exp) sums one output at a time', () =>
    checkAgainstReference([[9, 8]], (b, [x]) => b.sum(b.unary('exp', x!), [0])));
  for (const threads of [1, 2, 3])
    it(`sum of [5, 13, 11, 8] per channel, with prologue and a lane-by-lane epilogue (${threads} threads)`, () =>
      checkAgainstReference(
        [[5, 13, 11, 8]],
        (b, [x]) => b.unary('tanh', b.sum(b.mul(x!, x!), [0, 1, 2])),
        [-3, 3],
        1,
        2e-5,
        threads,
      ));
});
