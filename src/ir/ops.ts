/**
 * Every primitive op, defined once: its shape rule, its reference implementation (the oracle,
 * in f64 or f32) and its vector-Jacobian product written as IR ops. Adding an op to `OpParams`
 * fails to compile until each table here has its entry (and each codegen target's lowering
 * table, in src/codegen/<target>/, has one too).
 */
import type { GraphBuilder } from './builder.js';
import {
  type BinaryOp,
  type Dim,
  type Node,
  type Op,
  type OpParams,
  type ReduceParams,
  type Shape,
  type UnaryOp,
  bindShape,
  shapeToString,
  sliceOf,
  slicedRun,
} from './graph.js';
import { type DType, type Tensor, allocate, broadcastStrides, forEachIndex, stridesOf } from './tensor.js';
import * as image from './ops/image.js';
import * as indexing from './ops/indexing.js';
import * as matmulOps from './ops/matmul.js';
import * as random from './ops/random.js';
import * as window from './ops/window.js';

/** A shape rule returns the output shape, or a message saying what is wrong. */
export type ShapeResult = Shape | { readonly error: string };
export type ShapeRule<P extends Op> = (srcs: readonly Shape[], params: OpParams[P]) => ShapeResult;

export interface EvalContext {
  readonly dtype: DType;
  readonly dims: Readonly<Record<string, number>>;
}
export type Reference<P extends Op> = (srcs: readonly Tensor[], node: Node<P>, ctx: EvalContext) => Tensor;

/** Returns one cotangent node per source (null where the op has no gradient for it). */
export type VjpRule<P extends Op> = (b: GraphBuilder, node: Node<P>, g: number) => (number | null)[];

// ---------------------------------------------------------------------------------------------
// Elementwise ops: scalar function and local derivative side by side.

interface UnaryDef {
  readonly f: (x: number) => number;
  /** d/dx as IR, given the input `x`, the output `y` and the cotangent `g`. */
  readonly vjp: ((b: GraphBuilder, x: number, y: number, g: number) => number) | null;
}

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/**
 * erf to double precision: 2/√π · e^{−x²} · Σ (2x²)ⁿ x / (1·3·…·(2n+1)), a series of positive
 * terms (no cancellation); beyond |x| = 6, erf is ±1 in f64.
 */
export function erf(x: number): number {
  if (Math.abs(x) >= 6) return Math.sign(x);
  let term = x;
  let sum = x;
  for (let n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export const UNARY: { readonly [P in UnaryOp]: UnaryDef } = {
  neg: { f: (x) => -x, vjp: (b, _x, _y, g) => b.neg(g) },
  exp: { f: Math.exp, vjp: (b, _x, y, g) => b.mul(g, y) },
  log: { f: Math.log, vjp: (b, x, _y, g) => b.div(g, x) },
  sqrt: { f: Math.sqrt, vjp: (b, _x, y, g) => b.div(g, b.mul(y, b.constant(2))) },
  abs: { f: Math.abs, vjp: (b, x, _y, g) => b.mul(g, b.unary('sign', x)) },
  sign: { f: Math.sign, vjp: null },
  relu: {
    f: (x) => (x > 0 ? x : 0),
    vjp: (b, x, _y, g) => b.mul(g, b.binary('gt', x, b.constant(0))),
  },
  sigmoid: {
    f: sigmoid,
    vjp: (b, _x, y, g) => b.mul(g, b.mul(y, b.sub(b.constant(1), y))),
  },
  tanh: {
    f: Math.tanh,
    vjp: (b, _x, y, g) => b.mul(g, b.sub(b.constant(1), b.mul(y, y))),
  },
  softplus: {
    f: softplus,
    vjp: (b, x, _y, g) => b.mul(g, b.unary('sigmoid', x)),
  },
  // ELU with α = 1 (Keras' and PyTorch's default); d/dx = exp(min(x, 0)), which is 1 for x > 0.
  elu: {
    f: (x) => (x > 0 ? x : Math.expm1(x)),
    vjp: (b, x, _y, g) => b.mul(g, b.unary('exp', b.binary('min', x, b.constant(0)))),
  },
  // The exact GELU, x·Φ(x) with Φ the normal CDF (Keras' and PyTorch's default, not the tanh form).
  gelu: {
    f: (x) => 0.5 * x * (1 + erf(x * SQRT1_2)),
    // d/dx = Φ(x) + x·φ(x)
    vjp: (b, x, _y, g) => {
      const c = (v: number) => b.constant(v);
      const cdf = b.mul(c(0.5), b.add(c(1), b.unary('erf', b.mul(x, c(SQRT1_2)))));
      const pdf = b.mul(c(INV_SQRT_2PI), b.unary('exp', b.mul(c(-0.5), b.mul(x, x))));
      return b.mul(g, b.add(cdf, b.mul(x, pdf)));
    },
  },
  erf: {
    f: erf,
    vjp: (b, x, _y, g) =>
      b.mul(g, b.mul(b.constant(2 / Math.sqrt(Math.PI)), b.unary('exp', b.neg(b.mul(x, x))))),
  },
  // swish (SiLU): x·σ(x); d/dx = σ + x·σ·(1 − σ) = σ + y·(1 − σ).
  swish: {
    f: (x) => x * sigmoid(x),
    vjp: (b, x, y, g) => {
      const s = b.unary('sigmoid', x);
      return b.mul(g, b.add(s, b.mul(y, b.sub(b.constant(1), s))));
    },
  },
  sin: { f: Math.sin, vjp: (b, x, _y, g) => b.mul(g, b.unary('cos', x)) },
  cos: { f: Math.cos, vjp: (b, x, _y, g) => b.neg(b.mul(g, b.unary('sin', x))) },
  // Piecewise constant: no gradient (learning-rate schedules use it on the step count).
  floor: { f: Math.floor, vjp: null },
};

interface BinaryDef {
  readonly f: (a: number, b: number) => number;
  /** Cotangents for (a, b) before they are summed back to each operand's shape. */
  readonly vjp:
    | ((b: GraphBuilder, x: number, y: number, out: number, g: number) => [number | null, number | null])
    | null;
}

export const BINARY: { readonly [P in BinaryOp]: BinaryDef } = {
  add: { f: (a, b) => a + b, vjp: (_b, _x, _y, _o, g) => [g, g] },
  sub: { f: (a, b) => a - b, vjp: (b, _x, _y, _o, g) => [g, b.neg(g)] },
  mul: {
    f: (a, b) => a * b,
    vjp: (b, x, y, _o, g) => [b.mul(g, y), b.mul(g, x)],
  },
  div: {
    f: (a, b) => a / b,
    // d(x/y)/dy = -(x/y)/y, reusing the output.
    vjp: (b, _x, y, out, g) => [b.div(g, y), b.neg(b.div(b.mul(g, out), y))],
  },
  max: {
    f: Math.max,
    // Ties send the whole gradient to the first operand.
    vjp: (b, x, y, _o, g) => {
      const toY = b.binary('gt', y, x);
      return [b.mul(g, b.sub(b.constant(1), toY)), b.mul(g, toY)];
    },
  },
  min: {
    f: Math.min,
    vjp: (b, x, y, _o, g) => {
      const toY = b.binary('gt', x, y);
      return [b.mul(g, b.sub(b.constant(1), toY)), b.mul(g, toY)];
    },
  },
  gt: { f: (a, b) => (a > b ? 1 : 0), vjp: null },
  eq: { f: (a, b) => (a === b ? 1 : 0), vjp: null },
};

// ---------------------------------------------------------------------------------------------
// Shape rules.

/** NumPy broadcasting of two shapes; a symbol only matches itself or 1. */
export function broadcastShapes(a: Shape, b: Shape): ShapeResult {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else
      return {
        error: `shapes ${shapeToString(a)} and ${shapeToString(b)} do not broadcast: dimension ${i} is ${da} in one and ${db} in the other`,
      };
  }
  return out;
}

function reduceShape(x: Shape, p: ReduceParams): ShapeResult {
  for (const a of p.axes)
    if (a < 0 || a >= x.length)
      return { error: `axis ${a} is out of range for a tensor of shape ${shapeToString(x)}` };
  if (p.slices !== undefined) {
    const from = Math.min(...p.axes);
    if (p.keepDims || p.axes.some((a) => a >= from + p.axes.length))
      return { error: 'a sliced reduction reduces a contiguous run of axes, without keepDims' };
    return [...x.slice(0, from), p.slices, ...x.slice(from + p.axes.length)];
  }
  return p.keepDims ? x.map((d, i) => (p.axes.includes(i) ? 1 : d)) : x.filter((_, i) => !p.axes.includes(i));
}

/** Element count as a product of numbers times a sorted list of symbols, for symbolic equality. */
function symbolicSize(shape: Shape): string {
  let n = 1;
  const syms: string[] = [];
  for (const d of shape) {
    if (typeof d === 'number') n *= d;
    else syms.push(d);
  }
  return [n, ...syms.sort()].join('*');
}

const elementwiseUnaryShape: ShapeRule<UnaryOp> = ([x]) => x!;
const elementwiseBinaryShape: ShapeRule<BinaryOp> = ([a, b]) => broadcastShapes(a!, b!);

function unaryTable<T>(v: T): { [P in UnaryOp]: T } {
  return Object.fromEntries(Object.keys(UNARY).map((k) => [k, v])) as { [P in UnaryOp]: T };
}
function binaryTable<T>(v: T): { [P in BinaryOp]: T } {
  return Object.fromEntries(Object.keys(BINARY).map((k) => [k, v])) as { [P in BinaryOp]: T };
}

export const SHAPE_RULES: { readonly [P in Op]: ShapeRule<P> } = {
  ...unaryTable(elementwiseUnaryShape),
  ...binaryTable(elementwiseBinaryShape),
  input: (_s, p) => p.shape,
  const: () => [],
  dimsize: () => [],
  matmul: matmulOps.matmulShape,
  sum: ([x], p) => reduceShape(x!, p),
  reduce_max: ([x], p) => reduceShape(x!, p),
  reshape: ([x], p) =>
    symbolicSize(x!) === symbolicSize(p.shape)
      ? p.shape
      : {
          error: `cannot reshape ${shapeToString(x!)} to ${shapeToString(p.shape)}: the element counts differ`,
        },
  broadcast: ([x], p) => {
    const r = broadcastShapes(x!, p.shape);
    if ('error' in r) return r;
    return r.length === p.shape.length && r.every((d, i) => d === p.shape[i])
      ? p.shape
      : { error: `cannot broadcast ${shapeToString(x!)} to ${shapeToString(p.shape)}` };
  },
  transpose: ([x], p) => {
    const ok = p.perm.length === x!.length && [...p.perm].sort().every((d, i) => d === i);
    return ok
      ? p.perm.map((i) => x![i]!)
      : { error: `permutation [${p.perm}] does not fit a tensor of rank ${x!.length}` };
  },
  conv2d: window.conv2dShape,
  conv2d_input_grad: window.conv2dInputGradShape,
  conv2d_filter_grad: window.conv2dFilterGradShape,
  max_pool2d: window.poolShape('max_pool2d'),
  max_pool2d_grad: window.maxPoolGradShape,
  avg_pool2d: window.poolShape('avg_pool2d'),
  avg_pool2d_grad: window.avgPoolGradShape,
  gather: indexing.gatherShape,
  scatter_add: indexing.scatterAddShape,
  one_hot: indexing.oneHotShape,
  slice: indexing.sliceShape,
  concat: indexing.concatShape,
  pad: indexing.padShape,
  random_uniform: random.randomUniformShape,
  image_shift: image.imageShiftShape,
  iota: (_s, p) =>
    p.axis >= 0 && p.axis < p.shape.length
      ? p.shape
      : { error: `axis ${p.axis} is out of range for a tensor of shape ${shapeToString(p.shape)}` },
};

// ---------------------------------------------------------------------------------------------
// Reference implementations (the oracle). Plain loops, written for clarity, not speed.

function outShapeOf(node: Node, ctx: EvalContext): number[] {
  return bindShape(node.shape, ctx.dims);
}

function unaryReference(f: (x: number) => number): Reference<UnaryOp> {
  return ([x], node, ctx) => {
    const out = allocate(ctx.dtype, x!.data.length);
    for (let i = 0; i < out.length; i++) out[i] = f(x!.data[i]!);
    return { shape: outShapeOf(node, ctx), data: out };
  };
}

function binaryReference(f: (a: number, b: number) => number): Reference<BinaryOp> {
  return ([a, b], node, ctx) => {
    const shape = outShapeOf(node, ctx);
    const out = allocate(
      ctx.dtype,
      shape.reduce((p, q) => p * q, 1),
    );
    const sa = broadcastStrides(a!.shape, shape);
    const sb = broadcastStrides(b!.shape, shape);
    forEachIndex(shape, [sa, sb], (i, [oa, ob]) => {
      out[i] = f(a!.data[oa!]!, b!.data[ob!]!);
    });
    return { shape, data: out };
  };
}

function reduceReference(
  init: number,
  combine: (acc: number, x: number) => number,
): Reference<'sum' | 'reduce_max'> {
  return ([x], node, ctx) => {
    const shape = outShapeOf(node, ctx);
    const out = allocate(
      ctx.dtype,
      shape.reduce((p, q) => p * q, 1),
    ).fill(init);
    const { slices, axes } = node.params;
    if (slices !== undefined) {
      // [pre, R, post] → [pre, S, post]: element r of the run goes to partial sliceOf(r).
      const { pre, run, post } = slicedRun(x!.shape, axes);
      for (let i = 0; i < pre; i++)
        for (let r = 0; r < run; r++) {
          const o = (i * slices + sliceOf(r, run, slices)) * post;
          for (let j = 0; j < post; j++)
            out[o + j] = combine(out[o + j]!, x!.data[(i * run + r) * post + j]!);
        }
      return { shape, data: out };
    }
    // Walk the input; map each element to its output slot via strides that are 0 on reduced axes.
    const keptShape = x!.shape.map((d, i) => (node.params.axes.includes(i) ? 1 : d));
    const outStrides = broadcastStrides(keptShape, x!.shape);
    forEachIndex(x!.shape, [outStrides], (i, [o]) => {
      out[o!] = combine(out[o!]!, x!.data[i]!);
    });
    return { shape, data: out };
  };
}

/** Splits are made after autodiff, for occupancy: a sliced reduction is never differentiated. */
function noSlices(node: Node<'sum' | 'reduce_max'>): void {
  if (node.params.slices !== undefined) throw new Error(`internal: a sliced ${node.op} has no gradient`);
}

function copyReference(x: Tensor, shape: number[], ctx: EvalContext): Tensor {
  const out = allocate(ctx.dtype, x.data.length);
  out.set(x.data);
  return { shape, data: out };
}

export const REFERENCE: { readonly [P in Op]: Reference<P> } = {
  ...(Object.fromEntries(Object.entries(UNARY).map(([k, d]) => [k, unaryReference(d.f)])) as {
    [P in UnaryOp]: Reference<P>;
  }),
  ...(Object.fromEntries(Object.entries(BINARY).map(([k, d]) => [k, binaryReference(d.f)])) as {
    [P in BinaryOp]: Reference<P>;
  }),
  input: () => {
    throw new Error('internal: inputs are supplied by the interpreter, not computed');
  },
  const: (_s, node, ctx) => ({ shape: [], data: allocate(ctx.dtype, 1).fill(node.params.value) }),
  dimsize: (_s, node, ctx) => ({
    shape: [],
    data: allocate(ctx.dtype, 1).fill(bindShape([node.params.dim], ctx.dims)[0]!),
  }),
  matmul: (srcs, node, ctx) => matmulOps.matmulReference(srcs, node, outShapeOf(node, ctx), ctx.dtype),
  sum: reduceReference(0, (acc, x) => acc + x),
  reduce_max: reduceReference(-Infinity, (acc, x) => Math.max(acc, x)),
  reshape: ([x], node, ctx) => copyReference(x!, outShapeOf(node, ctx), ctx),
  broadcast: ([x], node, ctx) => {
    const shape = outShapeOf(node, ctx);
    const out = allocate(
      ctx.dtype,
      shape.reduce((p, q) => p * q, 1),
    );
    forEachIndex(shape, [broadcastStrides(x!.shape, shape)], (i, [o]) => {
      out[i] = x!.data[o!]!;
    });
    return { shape, data: out };
  },
  transpose: ([x], node, ctx) => {
    const shape = outShapeOf(node, ctx);
    const own = stridesOf(x!.shape);
    const permuted = node.params.perm.map((p) => own[p]!);
    const out = allocate(ctx.dtype, x!.data.length);
    forEachIndex(shape, [permuted], (i, [o]) => {
      out[i] = x!.data[o!]!;
    });
    return { shape, data: out };
  },
  conv2d: ([x, w], node, ctx) => window.conv2dReference(x!, w!, node.params, outShapeOf(node, ctx), ctx),
  conv2d_input_grad: ([g, w], node, ctx) =>
    window.conv2dInputGradReference(g!, w!, node.params, outShapeOf(node, ctx), ctx),
  conv2d_filter_grad: ([x, g], node, ctx) =>
    window.conv2dFilterGradReference(x!, g!, node.params, outShapeOf(node, ctx), ctx),
  max_pool2d: ([x], node, ctx) => window.maxPoolReference(x!, node.params, outShapeOf(node, ctx), ctx),
  max_pool2d_grad: ([x, g], node, ctx) => window.maxPoolGradReference(x!, g!, node.params, ctx),
  avg_pool2d: ([x], node, ctx) => window.avgPoolReference(x!, node.params, outShapeOf(node, ctx), ctx),
  avg_pool2d_grad: ([g], node, ctx) =>
    window.avgPoolGradReference(g!, node.params, outShapeOf(node, ctx), ctx),
  gather: ([table, idx], _node, ctx) => indexing.gatherReference(table!, idx!, ctx),
  scatter_add: ([idx, g], node, ctx) => indexing.scatterAddReference(idx!, g!, node.params.rows, ctx),
  one_hot: ([idx], node, ctx) => indexing.oneHotReference(idx!, node.params.depth, ctx),
  slice: ([x], node, ctx) => indexing.sliceReference(x!, node.params, ctx),
  concat: (srcs, node, ctx) => indexing.concatReference(srcs, node.params.axis, ctx),
  pad: ([x], node, ctx) => indexing.padReference(x!, node.params, ctx),
  random_uniform: ([t, seed], node, ctx) =>
    random.randomUniformReference(t!, seed!, node.params.salt, outShapeOf(node, ctx), ctx.dtype),
  image_shift: ([x, moves], node, ctx) =>
    image.imageShiftReference(x!, moves!, node.params.adjoint, ctx.dtype),
  iota: (_s, node, ctx) => {
    const shape = outShapeOf(node, ctx);
    const stride = stridesOf(shape)[node.params.axis]!;
    const size = shape[node.params.axis]!;
    const out = allocate(
      ctx.dtype,
      shape.reduce((p, q) => p * q, 1),
    );
    for (let i = 0; i < out.length; i++) out[i] = Math.floor(i / stride) % size;
    return { shape, data: out };
  },
};

// ---------------------------------------------------------------------------------------------
// Vector-Jacobian products, as IR built with the same builder the lowering uses.

function unaryVjp(op: UnaryOp): VjpRule<UnaryOp> {
  const rule = UNARY[op].vjp;
  return (b, node, g) => [rule ? rule(b, node.srcs[0]!, node.id, g) : null];
}

function binaryVjp(op: BinaryOp): VjpRule<BinaryOp> {
  const rule = BINARY[op].vjp;
  return (b, node, g) => {
    if (!rule) return [null, null];
    const [x, y] = node.srcs as [number, number];
    const [gx, gy] = rule(b, x, y, node.id, g);
    // Undo broadcasting: sum the cotangent back to each operand's shape.
    return [
      gx === null ? null : b.sumToShape(gx, b.shapeOf(x)),
      gy === null ? null : b.sumToShape(gy, b.shapeOf(y)),
    ];
  };
}

/** `[2,3]` reduced over axis 1 without keepDims is `[2]`; this gives `[2,1]` for re-broadcasting. */
function keptShape(x: Shape, axes: readonly number[]): Shape {
  return x.map((d, i) => (axes.includes(i) ? 1 : d));
}

export const VJP: { readonly [P in Op]: VjpRule<P> } = {
  ...(Object.fromEntries(Object.keys(UNARY).map((k) => [k, unaryVjp(k as UnaryOp)])) as {
    [P in UnaryOp]: VjpRule<P>;
  }),
  ...(Object.fromEntries(Object.keys(BINARY).map((k) => [k, binaryVjp(k as BinaryOp)])) as {
    [P in BinaryOp]: VjpRule<P>;
  }),
  input: () => [],
  const: () => [],
  dimsize: () => [],
  matmul: matmulOps.matmulVjp,
  sum: (b, node, g) => {
    noSlices(node);
    const x = node.srcs[0]!;
    const kept = node.params.keepDims ? g : b.reshape(g, keptShape(b.shapeOf(x), node.params.axes));
    return [b.broadcast(kept, b.shapeOf(x))];
  },
  reduce_max: (b, node, g) => {
    noSlices(node);
    const x = node.srcs[0]!;
    const shape = b.shapeOf(x);
    const kept = (n: number) => (node.params.keepDims ? n : b.reshape(n, keptShape(shape, node.params.axes)));
    // The gradient flows to every element equal to the maximum.
    const mask = b.binary('eq', x, b.broadcast(kept(node.id), shape));
    return [b.mul(mask, b.broadcast(kept(g), shape))];
  },
  reshape: (b, node, g) => [b.reshape(g, b.shapeOf(node.srcs[0]!))],
  broadcast: (b, node, g) => [b.sumToShape(g, b.shapeOf(node.srcs[0]!))],
  transpose: (b, node, g) => {
    const inverse = node.params.perm.map((_, i) => node.params.perm.indexOf(i));
    return [b.transpose(g, inverse)];
  },
  conv2d: window.conv2dVjp,
  conv2d_input_grad: window.conv2dInputGradVjp,
  conv2d_filter_grad: window.conv2dFilterGradVjp,
  max_pool2d: window.maxPoolVjp,
  max_pool2d_grad: window.maxPoolGradVjp,
  avg_pool2d: window.avgPoolVjp,
  avg_pool2d_grad: window.avgPoolGradVjp,
  gather: indexing.gatherVjp,
  scatter_add: indexing.scatterAddVjp,
  // Indices and random numbers are not differentiable.
  one_hot: () => [null],
  slice: indexing.sliceVjp,
  concat: indexing.concatVjp,
  pad: indexing.padVjp,
  random_uniform: () => [null, null],
  image_shift: image.imageShiftVjp,
  iota: () => [],
};
