/**
 * Primitive IR as PyTorch: each node of a graph becomes one Python statement over torch
 * tensors, in the graph's order. Scalar constants are inlined as Python floats (folded when all
 * their sources are constants), so they broadcast and promote as nnx's do. nnx's layouts are
 * kept (NHWC images, HWIO filters): a convolution or pooling permutes to NCHW around torch's
 * op and pads explicitly first, which is how TF's asymmetric "same" padding with strides is
 * expressed exactly. Helpers the statements call (`_conv2d`, `_gather`, …) are in
 * {@link TORCH_HELPERS}, written once into model.py.
 */
import { BATCH, BINARY_OPS, type Graph, type Node, type Op, type Shape, UNARY_OPS } from '../ir/graph.js';
import { BINARY, UNARY } from '../ir/ops.js';
import { type Diagnostic, error } from '../util/diagnostics.js';

/** How the emitted code reads a graph input: a Python expression, or a constant. */
export type InputBinding = { readonly expr: string } | { readonly constant: number };

export interface TorchCode {
  /** Statements, one per node (comments mark where a layer starts). */
  readonly lines: readonly string[];
  /** The Python expression holding each node's value, by node id. */
  readonly values: ReadonlyMap<number, string>;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Translates the nodes of `g` that `roots` depend on. `bind` says how each input is read;
 * `like` is an expression of a tensor whose dtype and device new tensors take, and `batch`
 * one that holds the batch size.
 */
export function translateGraph(
  g: Graph,
  roots: readonly number[],
  bind: (input: Node<'input'>) => InputBinding,
  context: { readonly like: string; readonly batch: string; readonly model: string },
): TorchCode {
  const needed = ancestors(g, roots);
  const values = new Map<number, string>();
  const constants = new Map<number, number>();
  const lines: string[] = [];
  const diagnostics: Diagnostic[] = [];
  let layer: string | undefined;
  for (const n of g.nodes) {
    if (!needed.has(n.id)) continue;
    if (n.op === 'input') {
      const b = bind(n);
      if ('constant' in b) constants.set(n.id, b.constant);
      else values.set(n.id, b.expr);
      continue;
    }
    const folded = fold(n, constants);
    if (folded !== undefined) {
      constants.set(n.id, folded);
      continue;
    }
    const rule = RULES[n.op] as Rule<Op> | undefined;
    if (!rule) {
      diagnostics.push(
        error(
          'E0701',
          n.span ?? { start: 0, end: 0 },
          `${n.label ? `layer \`${n.label}\`` : `model ${context.model}`} computes \`${n.op}\`, which the PyTorch export cannot express`,
        ),
      );
      continue;
    }
    const srcs = n.srcs.map((s) => (constants.has(s) ? pyFloat(constants.get(s)!) : values.get(s)!));
    const srcConst = n.srcs.map((s) => constants.has(s));
    const shapes = n.srcs.map((s) => g.nodes[s]!.shape);
    if (n.label !== layer && n.label) lines.push(`# ${n.label}`);
    layer = n.label;
    const name = `v${n.id}`;
    const ctx: RuleContext = { ...context, srcConst, shapes, shape: (s) => pyShape(s, context.batch) };
    lines.push(`${name} = ${rule(srcs, n, ctx)}`);
    values.set(n.id, name);
  }
  for (const [id, v] of constants) values.set(id, pyFloat(v));
  return { lines, values, diagnostics: dedupeByLayer(diagnostics) };
}

function dedupeByLayer(diagnostics: Diagnostic[]): Diagnostic[] {
  return [...new Map(diagnostics.map((d) => [d.message, d])).values()];
}

/** The node ids `roots` depend on, themselves included. */
function ancestors(g: Graph, roots: readonly number[]): Set<number> {
  const seen = new Set<number>();
  const stack = [...roots];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...g.nodes[id]!.srcs);
  }
  return seen;
}

/** A scalar whose sources are all known scalars, computed now. */
function fold(n: Node, constants: ReadonlyMap<number, number>): number | undefined {
  if (n.op === 'const') return n.params.value;
  if (n.op === 'dimsize') {
    const dim = n.params.dim;
    return typeof dim === 'number' ? dim : undefined;
  }
  if (!n.srcs.every((s) => constants.has(s)) || n.shape.length !== 0) return undefined;
  const [a, b] = n.srcs.map((s) => constants.get(s)!);
  if ((UNARY_OPS as readonly string[]).includes(n.op)) return UNARY[n.op as (typeof UNARY_OPS)[number]].f(a!);
  if ((BINARY_OPS as readonly string[]).includes(n.op))
    return BINARY[n.op as (typeof BINARY_OPS)[number]].f(a!, b!);
  return undefined;
}

/** A number as Python source. */
export function pyFloat(v: number): string {
  if (Number.isNaN(v)) return "float('nan')";
  if (!Number.isFinite(v)) return v > 0 ? "float('inf')" : "-float('inf')";
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** A shape as a Python tuple, the batch read from `batch`. */
function pyShape(shape: Shape, batch: string): string {
  const dims = shape.map((d) => (d === BATCH ? batch : String(d)));
  return `(${dims.join(', ')}${dims.length === 1 ? ',' : ''})`;
}

interface RuleContext {
  readonly like: string;
  readonly batch: string;
  /** Which sources are inlined constants (Python floats rather than tensors). */
  readonly srcConst: readonly boolean[];
  readonly shapes: readonly Shape[];
  readonly shape: (s: Shape) => string;
}

type Rule<P extends Op> = (srcs: readonly string[], node: Node<P>, ctx: RuleContext) => string;

const UNARY_TORCH: Readonly<Record<(typeof UNARY_OPS)[number], (x: string) => string>> = {
  neg: (x) => `-${x}`,
  exp: (x) => `torch.exp(${x})`,
  log: (x) => `torch.log(${x})`,
  sqrt: (x) => `torch.sqrt(${x})`,
  abs: (x) => `torch.abs(${x})`,
  sign: (x) => `torch.sign(${x})`,
  relu: (x) => `torch.relu(${x})`,
  sigmoid: (x) => `torch.sigmoid(${x})`,
  tanh: (x) => `torch.tanh(${x})`,
  // torch's threshold (x above 20 returns x) is where log1p(e^-x) is below f32's resolution.
  softplus: (x) => `F.softplus(${x})`,
  elu: (x) => `F.elu(${x})`,
  gelu: (x) => `F.gelu(${x})`,
  erf: (x) => `torch.erf(${x})`,
  swish: (x) => `F.silu(${x})`,
  sin: (x) => `torch.sin(${x})`,
  cos: (x) => `torch.cos(${x})`,
  floor: (x) => `torch.floor(${x})`,
};

function binaryRule([a, b]: readonly string[], n: Node, ctx: RuleContext): string {
  const [ca, cb] = ctx.srcConst;
  switch (n.op) {
    case 'add':
      return `${a} + ${b}`;
    case 'sub':
      return `${a} - ${b}`;
    case 'mul':
      return `${a} * ${b}`;
    case 'div':
      return `${a} / ${b}`;
    case 'max':
      return cb
        ? `torch.clamp(${a}, min=${b})`
        : ca
          ? `torch.clamp(${b}, min=${a})`
          : `torch.maximum(${a}, ${b})`;
    case 'min':
      return cb
        ? `torch.clamp(${a}, max=${b})`
        : ca
          ? `torch.clamp(${b}, max=${a})`
          : `torch.minimum(${a}, ${b})`;
    case 'gt':
      return `(${a} > ${b}).to(${ctx.like}.dtype)`;
    case 'eq':
      return `(${a} == ${b}).to(${ctx.like}.dtype)`;
  }
  throw new Error(`internal: no torch rule for ${n.op}`);
}

const tuple = (xs: readonly number[]) => `(${xs.join(', ')}${xs.length === 1 ? ',' : ''})`;

const RULES: { readonly [P in Op]?: Rule<P> } = {
  dimsize: (_s, _n, ctx) => `float(${ctx.batch})`,
  matmul: ([a, b], n) => {
    const lhs = n.params.transA ? `${a}.transpose(-1, -2)` : a;
    const rhs = n.params.transB ? `${b}.transpose(-1, -2)` : b;
    return `torch.matmul(${lhs}, ${rhs})`;
  },
  sum: ([x], n) =>
    n.params.axes.length === 0
      ? x!
      : `torch.sum(${x}, dim=${tuple(n.params.axes)}, keepdim=${py(n.params.keepDims)})`,
  reduce_max: ([x], n) =>
    n.params.axes.length === 0
      ? x!
      : `torch.amax(${x}, dim=${tuple(n.params.axes)}, keepdim=${py(n.params.keepDims)})`,
  reshape: ([x], n, ctx) => `${x}.reshape(${ctx.shape(n.params.shape)})`,
  broadcast: ([x], n, ctx) =>
    ctx.srcConst[0]
      ? `torch.full(${ctx.shape(n.params.shape)}, ${x}, dtype=${ctx.like}.dtype, device=${ctx.like}.device)`
      : `${x}.expand(${ctx.shape(n.params.shape)})`,
  transpose: ([x], n) => `${x}.permute${tuple(n.params.perm)}`,
  conv2d: ([x, w], n) =>
    `_conv2d(${x}, ${w}, strides=${tuple(n.params.strides)}, dilation=${tuple(n.params.dilation)}, pad=${tuple(n.params.pad)})`,
  max_pool2d: ([x], n) =>
    `_max_pool2d(${x}, window=${tuple(n.params.window)}, strides=${tuple(n.params.strides)}, pad=${tuple(n.params.pad)})`,
  avg_pool2d: ([x], n) =>
    `_avg_pool2d(${x}, window=${tuple(n.params.window)}, strides=${tuple(n.params.strides)}, pad=${tuple(n.params.pad)})`,
  gather: ([table, idx]) => `_gather(${table}, ${idx})`,
  one_hot: ([idx], n) => `_one_hot(${idx}, ${n.params.depth})`,
  slice: ([x], n) => `${x}.narrow(${n.params.axis}, ${n.params.start}, ${n.params.size})`,
  concat: (srcs, n) => `torch.cat([${srcs.join(', ')}], dim=${n.params.axis})`,
  pad: ([x], n, ctx) => {
    // F.pad lists (before, after) pairs from the last axis backwards.
    const rank = ctx.shapes[0]!.length;
    const pairs: number[] = [];
    for (let axis = rank - 1; axis >= n.params.axis; axis--) {
      pairs.push(axis === n.params.axis ? n.params.before : 0, axis === n.params.axis ? n.params.after : 0);
    }
    return `F.pad(${x}, ${tuple(pairs)})`;
  },
  iota: (_s, n, ctx) => `_iota(${ctx.shape(n.params.shape)}, ${n.params.axis}, ${ctx.like})`,
  // nnx draws from a counter-based hash; torch from its own generator: the same distribution.
  random_uniform: (_s, n, ctx) =>
    `torch.rand(${ctx.shape(n.params.shape)}, dtype=${ctx.like}.dtype, device=${ctx.like}.device)`,
};
for (const op of UNARY_OPS) {
  (RULES as Record<string, Rule<Op>>)[op] = ([x]) => UNARY_TORCH[op](x!);
}
for (const op of BINARY_OPS) (RULES as Record<string, Rule<Op>>)[op] = binaryRule;

const py = (b: boolean) => (b ? 'True' : 'False');

/** The functions the statements call, in model.py once. */
export const TORCH_HELPERS = `def _conv2d(x, w, strides, dilation, pad):
    """NHWC x, HWIO w (nnx's layouts) with explicit (top, left, bottom, right) padding."""
    top, left, bottom, right = pad
    x = F.pad(x.permute(0, 3, 1, 2), (left, right, top, bottom))
    y = F.conv2d(x, w.permute(3, 2, 0, 1), stride=strides, dilation=dilation)
    return y.permute(0, 2, 3, 1)


def _max_pool2d(x, window, strides, pad):
    """Padded positions never win: they are -inf."""
    top, left, bottom, right = pad
    x = F.pad(x.permute(0, 3, 1, 2), (left, right, top, bottom), value=float('-inf'))
    return F.max_pool2d(x, window, strides).permute(0, 2, 3, 1)


def _avg_pool2d(x, window, strides, pad):
    """The mean over each window's in-bounds positions only (padding never counts, as in nnx and Keras)."""
    top, left, bottom, right = pad
    nchw = x.permute(0, 3, 1, 2)
    ones = torch.ones_like(nchw[:1, :1])
    total = F.avg_pool2d(F.pad(nchw, (left, right, top, bottom)), window, strides, divisor_override=1)
    count = F.avg_pool2d(F.pad(ones, (left, right, top, bottom)), window, strides, divisor_override=1)
    return (total / count).permute(0, 2, 3, 1)


def _index(idx, size):
    """Indices held as floats, rounded as nnx reads them, and whether each is in [0, size)."""
    i = torch.floor(idx + 0.5).long()
    inside = (i >= 0) & (i < size)
    return torch.where(inside, i, torch.zeros_like(i)), inside


def _gather(table, idx):
    """Rows of table; an index outside it gives a row of zeros, as in nnx."""
    i, inside = _index(idx, table.shape[0])
    rows = table[i]
    return rows * inside.reshape(inside.shape + (1,) * (table.dim() - 1)).to(table.dtype)


def _one_hot(idx, depth):
    i, inside = _index(idx, depth)
    return F.one_hot(i, depth).to(idx.dtype) * inside.unsqueeze(-1).to(idx.dtype)


def _iota(shape, axis, like):
    """The index along axis at every element of shape."""
    along = torch.arange(shape[axis], dtype=like.dtype, device=like.device)
    view = [1] * len(shape)
    view[axis] = shape[axis]
    return along.reshape(view).expand(shape)
`;
