/**
 * The tensor IR: a graph of SSA values over a small set of primitive ops. A node is plain data
 * `{id, op, shape, srcs, params}`; `params` is typed per op through {@link OpParams}, so rule
 * tables keyed by {@link Op} are checked exhaustively by the compiler.
 */
import type { Span } from '../util/diagnostics.js';

/** A dimension: a fixed size or a symbol (`B` is the batch, bound when a graph is specialised). */
export type Dim = number | string;
export type Shape = readonly Dim[];

/** The symbolic batch dimension every model input starts with. */
export const BATCH = 'B';

/** How a parameter is initialised; fan sizes are fixed when the layer is lowered. */
export type InitKind =
  | 'zeros'
  | 'ones'
  | 'constant'
  | 'random_normal'
  | 'random_uniform'
  | 'glorot_uniform'
  | 'glorot_normal'
  | 'he_normal'
  | 'he_uniform'
  | 'lecun_normal'
  | 'pytorch_uniform'
  | 'orthogonal';
export interface InitSpec {
  readonly kind: InitKind;
  readonly fanIn: number;
  readonly fanOut: number;
  /** `constant`: the value; `random_normal`: the mean. */
  readonly value?: number;
  /** `random_normal`: the deviation; `random_uniform`: the half-width; `orthogonal`: the gain. */
  readonly scale?: number;
  /**
   * A statistic of the data (Normalization's mean and variance): set from the training samples
   * of the model input `input` before training, per feature of its last axis; `kind` is its
   * value until then.
   */
  readonly adapt?: AdaptSpec;
}

/**
 * How a state input that older checkpoints lack is rebuilt from the step count when one is
 * restored: Adam's bias correction 1 − βᵗ, by the same f32 recurrence the step runs (see
 * optimizers.ts' correctionStep), so a resumed run stays bit-exact.
 */
export interface StateDerivation {
  /** The state input holding the step count t. */
  readonly steps: string;
  readonly beta: number;
}

/** Which statistic of which model input a parameter holds; see {@link InitSpec.adapt}. */
export interface AdaptSpec {
  readonly input: string;
  readonly statistic: 'mean' | 'variance';
}

/** A penalty on a parameter w added to the loss: l1·Σ|w| + l2·Σw² (Keras' form, no ½). */
export interface Regularization {
  readonly l1: number;
  readonly l2: number;
}

/**
 * What a graph input is: a batch of samples (`data`), the batch's targets (`target`), a trained
 * parameter (`param`), or state carried between steps (optimizer slots, metric accumulators).
 */
export type InputRole = 'data' | 'target' | 'param' | 'state';

export const UNARY_OPS = [
  'neg',
  'exp',
  'log',
  'sqrt',
  'abs',
  'sign',
  'relu',
  'sigmoid',
  'tanh',
  'softplus',
  'elu',
  'gelu',
  'erf',
  'swish',
  'sin',
  'cos',
  'floor',
] as const;
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'max', 'min', 'gt', 'eq'] as const;
export const REDUCE_OPS = ['sum', 'reduce_max'] as const;

export type UnaryOp = (typeof UNARY_OPS)[number];
export type BinaryOp = (typeof BINARY_OPS)[number];
export type ReduceOp = (typeof REDUCE_OPS)[number];

/** Per-op attributes. Adding an op here forces a shape rule, a reference and a VJP for it. */
export interface OpParams extends Record<UnaryOp | BinaryOp, Record<string, never>> {
  input: {
    readonly name: string;
    readonly role: InputRole;
    readonly shape: Shape;
    readonly init?: InitSpec;
    /** For a parameter: the penalty the training step adds to the loss. */
    readonly regularizer?: Regularization;
    /** For state: how to rebuild it when a checkpoint lacks it. */
    readonly derive?: StateDerivation;
  };
  /** A scalar constant (shape `[]`); broadcasts against anything. */
  const: { readonly value: number };
  /** The size of a dimension as a scalar, a constant once symbols are bound. */
  dimsize: { readonly dim: Dim };
  /**
   * `op(a) @ op(b)` over the last two axes, where `op` transposes when the flag is set, batched
   * over equal leading axes (an operand of rank 2 is shared by the batch): see ops/matmul.ts.
   */
  matmul: { readonly transA: boolean; readonly transB: boolean };
  sum: ReduceParams;
  reduce_max: ReduceParams;
  reshape: { readonly shape: Shape };
  /** NumPy-style broadcast to `shape` (size-1 or missing leading dims expand). */
  broadcast: { readonly shape: Shape };
  transpose: { readonly perm: readonly number[] };
  /** NHWC input, HWIO filter; explicit padding (top, left, bottom, right). */
  conv2d: Conv2dParams;
  /** The gradient of conv2d with respect to its input, from (g, filter): a transposed conv. */
  conv2d_input_grad: Conv2dParams & { readonly inputHW: readonly [number, number] };
  /**
   * The gradient of conv2d with respect to its filter, from (x, g). With `slices` S it is the
   * partial pass of a split reduction (src/ir/passes/split.ts): shape [S, kh, kw, c, o], slice s
   * summing the (image, output row) pairs t of T = n·oh with sliceOf(t, T, S) = s.
   */
  conv2d_filter_grad: Conv2dParams & {
    readonly kernelHW: readonly [number, number];
    readonly slices?: number;
  };
  max_pool2d: Pool2dParams;
  /** Routes g back to the first maximum of each window of x, from (x, g). */
  max_pool2d_grad: Pool2dParams;
  avg_pool2d: Pool2dParams;
  /** Spreads g evenly over each window, from (g). */
  avg_pool2d_grad: Pool2dParams & { readonly inputHW: readonly [number, number] };
  /** Rows of a table picked by integer-valued indices, from (table, indices). */
  gather: Record<string, never>;
  /** The adjoint of gather: sums g into `rows` rows by index, from (indices, g). */
  scatter_add: { readonly rows: number };
  /** 1 at the index along a new last axis of size `depth`, 0 elsewhere (and for an index out of range). */
  one_hot: { readonly depth: number };
  /** `size` elements of `axis` from `start`. */
  slice: { readonly axis: number; readonly start: number; readonly size: number };
  /** The sources joined along `axis`. */
  concat: { readonly axis: number };
  /** Zeros around the source along `axis`: `before` of them, then the source, then `after` (slice's adjoint). */
  pad: { readonly axis: number; readonly before: number; readonly after: number };
  /**
   * Uniform numbers in [0, 1) from a counter-based hash of (salt, counter, element index), from
   * (counter, seed), both scalars: the step increments the counter, so masks differ per step.
   */
  random_uniform: { readonly shape: Shape; readonly salt: number };
  /**
   * NHWC images moved by whole pixels and optionally mirrored, from (x, moves): one
   * (dy, dx, flip) row per image, zeros where the source is outside (src/ir/ops/image.ts).
   * `adjoint` computes the transpose, which is the VJP.
   */
  image_shift: { readonly adjoint: boolean };
  /**
   * The index along `axis` at every element of `shape`, as a number (0, 1, 2, …): no sources,
   * computed from the element's own index in whichever kernel reads it (masks, positions).
   */
  iota: { readonly shape: Shape; readonly axis: number };
}

/** The window geometry of conv2d, in NHWC. Padding is explicit: (top, left, bottom, right). */
export interface ReduceParams {
  readonly axes: readonly number[];
  readonly keepDims: boolean;
  /**
   * The partial pass of a split reduction (src/ir/passes/split.ts): the axes, a contiguous run
   * of R elements, become one axis of `slices` S partials, slice s reducing run elements
   * [⌊s·R/S⌋, ⌊(s+1)·R/S⌋) (see {@link sliceStart}); keepDims is false.
   */
  readonly slices?: number;
}

/** The first of `extent` elements slice s of `slices` covers: slices differ by at most one element. */
export function sliceStart(s: number, extent: number, slices: number): number {
  return Math.floor((s * extent) / slices);
}

/**
 * A sliced reduction's input as [pre, run, post]: the reduced axes (one contiguous run, as
 * split.ts makes them) hold `run` elements, `post` apart, in each of `pre` outer blocks.
 */
export function slicedRun(
  inShape: readonly number[],
  axes: readonly number[],
): { pre: number; run: number; post: number } {
  const from = Math.min(...axes);
  const size = (dims: readonly number[]) => dims.reduce((a, d) => a * d, 1);
  return {
    pre: size(inShape.slice(0, from)),
    run: size(axes.map((d) => inShape[d]!)),
    post: size(inShape.slice(from + axes.length)),
  };
}

/** The slice of `slices` that element t of `extent` falls in (the inverse of {@link sliceStart}). */
export function sliceOf(t: number, extent: number, slices: number): number {
  return Math.floor(((t + 1) * slices - 1) / extent);
}

export interface Conv2dParams {
  readonly strides: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly pad: readonly [number, number, number, number];
}

/** The window geometry of pooling, in NHWC. Padded positions never count (see docs/numerics.md). */
export interface Pool2dParams {
  readonly window: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly pad: readonly [number, number, number, number];
}

export type Op = keyof OpParams;

export const ELEMENTWISE_OPS: ReadonlySet<Op> = new Set<Op>([...UNARY_OPS, ...BINARY_OPS]);

export function isUnary(op: Op): op is UnaryOp {
  return (UNARY_OPS as readonly string[]).includes(op);
}
export function isBinary(op: Op): op is BinaryOp {
  return (BINARY_OPS as readonly string[]).includes(op);
}

/** One node of op `P`, its params typed by that op; generic code over any op takes `NodeOf<Op>`. */
export interface NodeOf<P extends Op> {
  readonly id: number;
  readonly op: P;
  readonly shape: Shape;
  readonly srcs: readonly number[];
  readonly params: OpParams[P];
  /** The .nnx source this node was lowered from, for diagnostics and profiles. */
  readonly span?: Span;
  /** The imported file `span` is in (as the compile's sources key it); absent for the main file. */
  readonly file?: string;
  /** The layer path that produced it (`dense_1/kernel`), for readable dumps. */
  readonly label?: string;
}

/**
 * A node, as a union discriminated by `op` (distributed over `P`): testing `node.op` narrows
 * `node.params` to that op's params, with no cast.
 */
export type Node<P extends Op = Op> = { [K in P]: NodeOf<K> }[P];

/**
 * What a graph produces. `update` outputs give the next value of an input (a parameter, an
 * optimizer slot, a metric accumulator); the runtime writes them back in place.
 */
export type OutputRole = 'prediction' | 'loss' | 'update';
export interface GraphOutput {
  readonly name: string;
  readonly node: number;
  readonly role: OutputRole;
  /** For `update`: the input node whose value this replaces. */
  readonly target?: number;
}

/** Nodes are in topological order: every src id is smaller than the node's own id. */
export interface Graph {
  readonly nodes: readonly Node[];
  readonly outputs: readonly GraphOutput[];
}

export function inputsOf(g: Graph, role?: InputRole): Node<'input'>[] {
  return g.nodes.filter(
    (n): n is Node<'input'> => n.op === 'input' && (role === undefined || n.params.role === role),
  );
}

/** The input node `id` of `g`; a node of another op there is a compiler bug. */
export function inputNode(g: Graph, id: number): Node<'input'> {
  const n = g.nodes[id];
  if (n?.op !== 'input') throw new Error(`internal: %${id} is not an input`);
  return n;
}

/** Number of elements of a shape whose dims are all bound. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function shapeToString(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Binds symbolic dims to sizes; throws on an unbound symbol (a compiler bug, not a user error). */
export function bindShape(shape: Shape, dims: Readonly<Record<string, number>>): number[] {
  return shape.map((d) => {
    if (typeof d === 'number') return d;
    const v = dims[d];
    if (v === undefined) throw new Error(`internal: dimension '${d}' is not bound`);
    return v;
  });
}
