/**
 * Appends nodes to a graph, inferring each node's shape with its op's rule. Layer lowering,
 * autodiff and the optimizers all build IR through this one API.
 */
import type { Span } from '../util/diagnostics.js';
import {
  type BinaryOp,
  type Graph,
  type GraphOutput,
  type InitSpec,
  type InputRole,
  type Regularization,
  type Node,
  type Op,
  type OpParams,
  type OutputRole,
  type Shape,
  type StateDerivation,
  type UnaryOp,
  type Dim,
  sameShape,
  shapeToString,
} from './graph.js';
import { SHAPE_RULES, type ShapeRule } from './ops.js';

/** A shape rule rejected a node: the lowering turns this into a diagnostic at the caller's span. */
export class ShapeError extends Error {
  constructor(
    message: string,
    readonly span: Span | undefined,
  ) {
    super(message);
  }
}

/**
 * Kernels index tensors with 32-bit integers, and an empty tensor has nothing to compute: every
 * static dimension is at least 1 and a sample's values fit an i32.
 */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

function sizeError(shape: Shape): string | undefined {
  let elements = 1;
  for (const d of shape) {
    if (typeof d !== 'number') continue;
    if (d < 1) return `a tensor dimension must be at least 1, not ${d} (shape ${shapeToString(shape)})`;
    elements *= d;
  }
  if (elements > MAX_TENSOR_ELEMENTS)
    return `the tensor ${shapeToString(shape)} holds ${elements} values per sample, more than the ${MAX_TENSOR_ELEMENTS} a kernel can index`;
  return undefined;
}

export class GraphBuilder {
  private readonly nodes: Node[];
  private readonly outputs: GraphOutput[];
  /** Span stamped on every node added until it changes: the source construct being lowered. */
  span: Span | undefined;
  /** Label prefix stamped on nodes, e.g. the layer path. */
  label: string | undefined;
  /** The file `span` is in, stamped with it; undefined for the file being compiled. */
  file: string | undefined;

  constructor(from?: Graph) {
    this.nodes = from ? [...from.nodes] : [];
    this.outputs = from ? [...from.outputs] : [];
  }

  /** How many nodes the graph holds: the id the next node gets. */
  get size(): number {
    return this.nodes.length;
  }

  node(id: number): Node {
    const n = this.nodes[id];
    if (!n) throw new Error(`internal: no node %${id}`);
    return n;
  }

  shapeOf(id: number): Shape {
    return this.node(id).shape;
  }

  emit<P extends Op>(op: P, srcs: readonly number[], params: OpParams[P]): number {
    const rule = SHAPE_RULES[op] as ShapeRule<P>;
    const shape = rule(
      srcs.map((s) => this.shapeOf(s)),
      params,
    );
    if ('error' in shape) throw new ShapeError(shape.error, this.span);
    const outOfRange = sizeError(shape);
    if (outOfRange) throw new ShapeError(outOfRange, this.span);
    const id = this.nodes.length;
    const node: Node<P> = {
      id,
      op,
      shape,
      srcs,
      params,
      span: this.span,
      label: this.label,
      ...(this.file !== undefined && { file: this.file }),
    };
    this.nodes.push(node as unknown as Node);
    return id;
  }

  input(
    name: string,
    role: InputRole,
    shape: Shape,
    init?: InitSpec,
    regularizer?: Regularization,
    derive?: StateDerivation,
  ): number {
    return this.emit('input', [], {
      name,
      role,
      shape,
      ...(init ? { init } : {}),
      ...(regularizer ? { regularizer } : {}),
      ...(derive ? { derive } : {}),
    });
  }

  constant(value: number): number {
    return this.emit('const', [], { value });
  }

  dimsize(dim: Dim): number {
    return typeof dim === 'number' ? this.constant(dim) : this.emit('dimsize', [], { dim });
  }

  unary(op: UnaryOp, x: number): number {
    return this.emit(op, [x], {});
  }

  binary(op: BinaryOp, a: number, b: number): number {
    return this.emit(op, [a, b], {});
  }

  neg(x: number): number {
    return this.unary('neg', x);
  }
  add(a: number, b: number): number {
    return this.binary('add', a, b);
  }
  sub(a: number, b: number): number {
    return this.binary('sub', a, b);
  }
  mul(a: number, b: number): number {
    return this.binary('mul', a, b);
  }
  div(a: number, b: number): number {
    return this.binary('div', a, b);
  }

  matmul(a: number, b: number, transA = false, transB = false): number {
    return this.emit('matmul', [a, b], { transA, transB });
  }

  sum(x: number, axes: readonly number[], keepDims = false): number {
    return axes.length === 0 ? x : this.emit('sum', [x], { axes, keepDims });
  }

  reduceMax(x: number, axes: readonly number[], keepDims = false): number {
    return this.emit('reduce_max', [x], { axes, keepDims });
  }

  /** Mean over `axes`: a sum divided by the (possibly symbolic) count of reduced elements. */
  mean(x: number, axes: readonly number[], keepDims = false): number {
    const shape = this.shapeOf(x);
    let count = this.constant(1);
    let fixed = 1;
    for (const a of axes) {
      const d = shape[a]!;
      if (typeof d === 'number') fixed *= d;
      else count = this.mul(count, this.dimsize(d));
    }
    if (fixed !== 1) count = this.mul(count, this.constant(fixed));
    return this.div(this.sum(x, axes, keepDims), count);
  }

  reshape(x: number, shape: Shape): number {
    return sameShape(this.shapeOf(x), shape) ? x : this.emit('reshape', [x], { shape });
  }

  broadcast(x: number, shape: Shape): number {
    return sameShape(this.shapeOf(x), shape) ? x : this.emit('broadcast', [x], { shape });
  }

  transpose(x: number, perm: readonly number[]): number {
    return perm.every((p, i) => p === i) ? x : this.emit('transpose', [x], { perm });
  }

  /** The index along `axis` at each element of a tensor of `shape`. */
  iota(shape: Shape, axis: number): number {
    return this.emit('iota', [], { shape, axis });
  }

  /** Sums a broadcast result back to `shape`: the adjoint of broadcasting. */
  sumToShape(x: number, shape: Shape): number {
    const from = this.shapeOf(x);
    if (sameShape(from, shape)) return x;
    const lead = from.length - shape.length;
    const axes: number[] = [];
    for (let i = 0; i < from.length; i++) {
      if (i < lead || (shape[i - lead] === 1 && from[i] !== 1)) axes.push(i);
    }
    return this.reshape(this.sum(x, axes, false), shape);
  }

  output(name: string, node: number, role: OutputRole, target?: number): void {
    this.outputs.push(target === undefined ? { name, node, role } : { name, node, role, target });
  }

  build(): Graph {
    return { nodes: [...this.nodes], outputs: [...this.outputs] };
  }
}
