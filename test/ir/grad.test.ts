/**
 * Every op's VJP, checked in f64 against central finite differences and by the inner-product
 * identity: for loss = Σ c·op(x), the gradient must equal the numerical derivative.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { BINARY_OPS, type Op, type Shape, UNARY_OPS, sizeOf } from '../../src/ir/graph.js';
import { SHAPE_RULES } from '../../src/ir/ops.js';
import { grad } from '../../src/ir/grad.js';
import { interpret } from '../../src/ir/interpret.js';
import type { Tensor } from '../../src/ir/tensor.js';
import { randomArray, randomInt, seededRandom } from './random.js';

interface Case {
  readonly name: string;
  /** Shapes of the differentiable inputs. */
  readonly shapes: readonly (readonly number[])[];
  /** Builds the op under test from the input nodes. */
  readonly build: (b: GraphBuilder, xs: number[]) => number;
  /** Input range (positive for log/sqrt, away from 0 for div). */
  readonly range?: readonly [number, number];
  /** Non-differentiable data inputs the op reads (indices), by name. */
  readonly data?: Readonly<Record<string, Tensor>>;
}

const DOMAIN: Partial<Record<Op, readonly [number, number]>> = {
  log: [0.5, 2],
  sqrt: [0.5, 2],
  div: [0.5, 2],
};

function cases(rand: () => number): Case[] {
  const dim = () => randomInt(rand, 1, 5);
  const out: Case[] = [];
  for (const op of UNARY_OPS) {
    if (op === 'sign' || op === 'floor') continue; // zero gradient almost everywhere; checked below
    out.push({ name: op, shapes: [[dim(), dim()]], build: (b, [x]) => b.unary(op, x!), range: DOMAIN[op] });
  }
  for (const op of BINARY_OPS) {
    if (op === 'gt' || op === 'eq') continue;
    const [m, n] = [dim() + 1, dim() + 1];
    out.push({
      name: `${op} same shape`,
      shapes: [
        [m, n],
        [m, n],
      ],
      build: (b, [x, y]) => b.binary(op, x!, y!),
      range: DOMAIN[op],
    });
    out.push({
      name: `${op} broadcast row`,
      shapes: [[m, n], [n]],
      build: (b, [x, y]) => b.binary(op, x!, y!),
      range: DOMAIN[op],
    });
    out.push({
      name: `${op} broadcast col`,
      shapes: [
        [m, 1],
        [m, n],
      ],
      build: (b, [x, y]) => b.binary(op, x!, y!),
      range: DOMAIN[op],
    });
  }
  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    const [m, k, n] = [dim(), dim(), dim()];
    out.push({
      name: `matmul transA=${ta} transB=${tb}`,
      shapes: [ta ? [k, m] : [m, k], tb ? [n, k] : [k, n]],
      build: (b, [x, y]) => b.matmul(x!, y!, ta, tb),
    });
  }
  for (const [name, a, b, ta, tb] of [
    ['batched', [2, 3, 4], [2, 4, 2], false, false],
    ['batched, both transposed', [2, 2, 4, 3], [2, 2, 2, 4], true, true],
    ['a batch times a shared matrix', [3, 2, 4], [4, 3], false, false],
    ['a transposed batch times a shared matrix', [3, 4, 2], [4, 3], true, false],
    ['a shared matrix times a transposed batch', [2, 4], [3, 5, 4], false, true],
  ] as const) {
    out.push({
      name: `matmul ${name}`,
      shapes: [a, b],
      build: (bd, [x, y]) => bd.matmul(x!, y!, ta, tb),
    });
  }
  const [p, q, r] = [dim(), dim() + 1, dim()];
  out.push({ name: 'sum axis 1', shapes: [[p, q, r]], build: (b, [x]) => b.sum(x!, [1]) });
  out.push({
    name: 'sum axes 0,2 keepDims',
    shapes: [[p, q, r]],
    build: (b, [x]) => b.sum(x!, [0, 2], true),
  });
  out.push({ name: 'reduce_max axis 2', shapes: [[p, q, r]], build: (b, [x]) => b.reduceMax(x!, [2]) });
  out.push({ name: 'reshape', shapes: [[p, q * r]], build: (b, [x]) => b.reshape(x!, [q, p, r]) });
  out.push({ name: 'broadcast', shapes: [[q, 1]], build: (b, [x]) => b.broadcast(x!, [p, q, r]) });
  out.push({ name: 'transpose', shapes: [[p, q, r]], build: (b, [x]) => b.transpose(x!, [2, 0, 1]) });
  out.push({ name: 'mean', shapes: [[p, q]], build: (b, [x]) => b.mean(x!, [0]) });
  out.push(...windowCases(rand), ...indexingCases());
  return out;
}

const conv = (
  strides: [number, number],
  dilation: [number, number],
  pad: [number, number, number, number],
) => ({
  strides,
  dilation,
  pad,
});
const CONVS = [
  { name: 'valid, stride 1', x: [2, 5, 6, 3], w: [3, 2, 3, 4], p: conv([1, 1], [1, 1], [0, 0, 0, 0]) },
  { name: 'same, stride 2', x: [1, 7, 6, 2], w: [3, 3, 2, 3], p: conv([2, 2], [1, 1], [1, 1, 1, 1]) },
  {
    name: 'dilation 2, uneven padding',
    x: [2, 6, 5, 2],
    w: [2, 3, 2, 2],
    p: conv([1, 2], [2, 2], [0, 1, 1, 2]),
  },
];
const POOLS = [
  { name: '2×2 stride 2', x: [2, 4, 5, 3], p: { window: [2, 2], strides: [2, 2], pad: [0, 0, 0, 1] } },
  { name: '3×3 stride 2, same', x: [1, 5, 5, 2], p: { window: [3, 3], strides: [2, 2], pad: [1, 1, 1, 1] } },
  { name: '3×2 stride 1', x: [2, 4, 4, 1], p: { window: [3, 2], strides: [1, 1], pad: [0, 0, 0, 0] } },
] as const;

/** A convolution and a pooling of random geometry (seeded), besides the fixed ones. */
function randomWindows(rand: () => number): { convs: typeof CONVS; pools: typeof POOLS } {
  const r = (lo: number, hi: number) => randomInt(rand, lo, hi);
  const [kh, kw, s, d] = [r(1, 3), r(1, 3), r(1, 2), r(1, 2)];
  const x = [r(1, 2), r(5, 7), r(5, 7), r(1, 3)]; // ≥ 5: a 3-tap window dilated by 2 fits
  const pad: [number, number, number, number] = [r(0, 1), r(0, 1), r(0, 1), r(0, 1)];
  const conv = {
    name: `random ${kh}×${kw} s${s} d${d}`,
    x,
    w: [kh, kw, x[3]!, r(1, 3)],
    p: conv2(s, d, pad),
  };
  const [ph, pw] = [r(1, 3), r(1, 3)];
  const pool = {
    name: `random ${ph}×${pw}`,
    x,
    p: { window: [ph, pw], strides: [r(1, 2), r(1, 2)], pad: [0, 0, r(0, 1), 0] },
  };
  return { convs: [conv] as unknown as typeof CONVS, pools: [pool] as unknown as typeof POOLS };
}

function conv2(s: number, d: number, pad: [number, number, number, number]) {
  return conv([s, s], [d, d], pad);
}

function windowCases(rand: () => number): Case[] {
  const out: Case[] = [];
  const random = randomWindows(rand);
  for (const c of [...CONVS, ...random.convs]) {
    const y = SHAPE_RULES.conv2d([c.x, c.w], c.p) as number[];
    out.push({
      name: `conv2d ${c.name}`,
      shapes: [c.x, c.w],
      build: (b, [x, w]) => b.emit('conv2d', [x!, w!], c.p),
    });
    out.push({
      name: `conv2d_input_grad ${c.name}`,
      shapes: [y, c.w],
      build: (b, [g, w]) => b.emit('conv2d_input_grad', [g!, w!], { ...c.p, inputHW: [c.x[1]!, c.x[2]!] }),
    });
    out.push({
      name: `conv2d_filter_grad ${c.name}`,
      shapes: [c.x, y],
      build: (b, [x, g]) => b.emit('conv2d_filter_grad', [x!, g!], { ...c.p, kernelHW: [c.w[0]!, c.w[1]!] }),
    });
  }
  for (const c of [...POOLS, ...random.pools]) {
    const y = SHAPE_RULES.max_pool2d([c.x], c.p) as number[];
    out.push({
      name: `max_pool2d ${c.name}`,
      shapes: [c.x],
      build: (b, [x]) => b.emit('max_pool2d', [x!], c.p),
    });
    out.push({
      name: `avg_pool2d ${c.name}`,
      shapes: [c.x],
      build: (b, [x]) => b.emit('avg_pool2d', [x!], c.p),
    });
    out.push({
      name: `avg_pool2d_grad ${c.name}`,
      shapes: [y],
      build: (b, [g]) => b.emit('avg_pool2d_grad', [g!], { ...c.p, inputHW: [c.x[1], c.x[2]] }),
    });
  }
  return out;
}

function indexingCases(): Case[] {
  // Index 5 is out of range for 5 rows: it reads zeros and receives no gradient.
  const idx: Tensor = { shape: [2, 3], data: Float64Array.from([0, 3, 3, 4, 5, 1]) };
  const index = (b: GraphBuilder) => b.input('idx', 'data', [2, 3]);
  return [
    {
      name: 'gather',
      shapes: [[5, 2, 2]],
      build: (b, [t]) => b.emit('gather', [t!, index(b)], {}),
      data: { idx },
    },
    {
      name: 'scatter_add',
      shapes: [[2, 3, 4]],
      build: (b, [g]) => b.emit('scatter_add', [index(b), g!], { rows: 5 }),
      data: { idx },
    },
    {
      name: 'slice axis 1',
      shapes: [[3, 6, 2]],
      build: (b, [x]) => b.emit('slice', [x!], { axis: 1, start: 2, size: 3 }),
    },
    {
      name: 'slice at the start',
      shapes: [[4, 3]],
      build: (b, [x]) => b.emit('slice', [x!], { axis: 0, start: 0, size: 2 }),
    },
    {
      name: 'pad axis 1',
      shapes: [[2, 3, 2]],
      build: (b, [x]) => b.emit('pad', [x!], { axis: 1, before: 2, after: 1 }),
    },
    {
      name: 'concat axis 1',
      shapes: [
        [2, 1, 3],
        [2, 4, 3],
        [2, 2, 3],
      ],
      build: (b, xs) => b.emit('concat', xs, { axis: 1 }),
    },
  ];
}

/** loss = Σ c ⊙ f(xs) with a fixed random c, so every output element matters. */
function lossGraph(c: Case, rand: () => number) {
  const b = new GraphBuilder();
  const xs = c.shapes.map((s, i) => b.input(`x${i}`, 'param', s));
  const y = c.build(b, xs);
  const cNode = b.input('c', 'data', b.shapeOf(y));
  const loss = b.sum(
    b.mul(y, cNode),
    b.shapeOf(y).map((_, i) => i),
  );
  const yShape = b.shapeOf(y) as number[];
  const cValue: Tensor = { shape: yShape, data: randomArray(rand, sizeOf(yShape)) };
  return { graph: b.build(), xs, loss, cValue };
}

describe('VJP rules against central finite differences (f64)', () => {
  const rand = seededRandom(1234);
  for (const c of cases(rand)) {
    it(c.name, () => {
      const { graph, xs, loss, cValue } = lossGraph(c, rand);
      const { graph: withGrads, grads } = grad(graph, loss, xs);
      const [lo, hi] = c.range ?? [-1, 1];
      const inputs = new Map<string, Tensor>([['c', cValue], ...Object.entries(c.data ?? {})]);
      c.shapes.forEach((s, i) =>
        inputs.set(`x${i}`, { shape: s, data: randomArray(rand, sizeOf(s), lo, hi) }),
      );
      const values = interpret(withGrads, inputs);
      const lossAt = (ins: Map<string, Tensor>) => interpret(graph, ins)[loss]!.data[0]!;
      const h = 1e-6;
      xs.forEach((x, i) => {
        const analytic = values[grads.get(x)!]!.data;
        const base = inputs.get(`x${i}`)!;
        for (let k = 0; k < base.data.length; k++) {
          const plus = Float64Array.from(base.data);
          const minus = Float64Array.from(base.data);
          plus[k]! += h;
          minus[k]! -= h;
          const fp = lossAt(new Map(inputs).set(`x${i}`, { shape: base.shape, data: plus }));
          const fm = lossAt(new Map(inputs).set(`x${i}`, { shape: base.shape, data: minus }));
          const numeric = (fp - fm) / (2 * h);
          expect(Math.abs(analytic[k]! - numeric)).toBeLessThan(1e-6 * Math.max(1, Math.abs(numeric)));
        }
      });
    });
  }

  it('sign, gt and eq have no gradient', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'param', [3]);
    const y = b.add(
      b.unary('sign', x),
      b.add(b.binary('gt', x, b.constant(0)), b.binary('eq', x, b.constant(0))),
    );
    const loss = b.sum(y, [0]);
    const { graph, grads } = grad(b.build(), loss, [x]);
    const values = interpret(graph, new Map([['x', { shape: [3], data: Float64Array.from([-1, 0.5, 2]) }]]));
    expect(Array.from(values[grads.get(x)!]!.data)).toEqual([0, 0, 0]);
  });

  it('sums the cotangents of a value used twice', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'param', [2]);
    const loss = b.sum(b.mul(x, x), [0]); // d/dx Σx² = 2x
    const { graph, grads } = grad(b.build(), loss, [x]);
    const values = interpret(graph, new Map([['x', { shape: [2], data: Float64Array.from([3, -4]) }]]));
    expect(Array.from(values[grads.get(x)!]!.data)).toEqual([6, -8]);
  });
});

describe('shape rules', () => {
  const shapeError = (build: (b: GraphBuilder) => void) => {
    try {
      build(new GraphBuilder());
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };
  const input = (b: GraphBuilder, s: Shape) => b.input('x', 'data', s);

  it('reject operands that do not broadcast, naming both shapes', () => {
    expect(shapeError((b) => b.add(input(b, ['B', 3]), input(b, ['B', 4])))).toBe(
      'shapes [B,3] and [B,4] do not broadcast: dimension 1 is 3 in one and 4 in the other',
    );
  });
  it('reject a matmul with mismatched inner dimensions', () => {
    expect(shapeError((b) => b.matmul(input(b, ['B', 3]), input(b, [4, 2])))).toBe(
      'matmul inner dimensions differ: [B,3] has 3 columns but [4,2] has 4 rows',
    );
  });
  it('reject a batched matmul whose batch dimensions differ', () => {
    expect(shapeError((b) => b.matmul(input(b, ['B', 3, 4]), input(b, [2, 4, 5])))).toBe(
      'matmul batch dimensions differ: [B,3,4] and [2,4,5] (the leading dimensions must be equal, or one operand of rank 2)',
    );
  });
  it('keep the batch dimension symbolic', () => {
    const b = new GraphBuilder();
    const y = b.matmul(b.input('x', 'data', ['B', 3]), b.input('w', 'param', [3, 5]));
    expect(b.shapeOf(y)).toEqual(['B', 5]);
    expect(b.shapeOf(b.mean(y, [0]))).toEqual([5]);
  });
  it('reject a reshape that changes the element count', () => {
    expect(shapeError((b) => b.reshape(input(b, ['B', 6]), ['B', 4]))).toBe(
      'cannot reshape [B,6] to [B,4]: the element counts differ',
    );
  });
});
