/**
 * The inference graph of a model as an ONNX file (opset 17). The primitive IR is lowered op by
 * op into ONNX nodes, so every layer the compiler can lower exports without a rule of its own;
 * each node keeps its layer path as its name. nnx's tensors are NHWC and its filters HWIO, so
 * a convolution or pooling is wrapped in the transposes ONNX's NCHW ops need. The batch is the
 * file's symbolic dimension `B`; shapes that mention it are built from the input's shape.
 */
import {
  BATCH,
  BINARY_OPS,
  type Graph,
  type Node,
  type Op,
  type Pool2dParams,
  type Shape,
  UNARY_OPS,
  inputsOf,
} from '../ir/graph.js';
import { type Diagnostic, error } from '../util/diagnostics.js';
import {
  ONNX_FLOAT,
  ONNX_INT64,
  type OnnxAttribute,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
  encodeOnnxModel,
} from './onnx-proto.js';
import type { ExportModel, Weights } from './weights.js';

export const ONNX_OPSET = 17;

export interface OnnxExport {
  readonly bytes?: Uint8Array;
  readonly diagnostics: readonly Diagnostic[];
}

/** Writes `model`'s inference graph with `weights` embedded as initializers. */
export function exportOnnx(model: ExportModel, weights: Weights): OnnxExport {
  // Ops without a rule first: they are the user's to change, a missing weight is not.
  const unexpressible = model.graph.nodes.filter((n) => n.op !== 'input' && !RULES[n.op]);
  const once = new Map(unexpressible.map((n) => [`${n.label}:${n.op}`, n]));
  const diagnostics = [...once.values()].map((n) => cannotExport(n, model.name));
  if (diagnostics.length > 0) return { diagnostics };
  const e = new OnnxEmitter(model.graph);
  for (const node of model.graph.nodes) {
    if (node.op === 'input') {
      emitInput(e, node, weights, diagnostics);
      continue;
    }
    const rule = RULES[node.op] as Rule<typeof node.op>;
    const srcs = node.srcs.map((s) => e.valueOf(s));
    if (srcs.some((s) => s === undefined)) continue;
    e.current = node;
    const shapes = node.srcs.map((s) => model.graph.nodes[s]!.shape);
    e.values[node.id] = rule(e, srcs as string[], node as never, shapes);
  }
  if (diagnostics.length > 0) return { diagnostics };
  const outputs: OnnxValueInfo[] = model.graph.outputs
    .filter((o) => o.role === 'prediction')
    .map((o) => {
      e.nodes.push({
        op: 'Identity',
        inputs: [e.valueOf(o.node)!],
        outputs: [o.name],
        name: `output/${o.name}`,
      });
      return { name: o.name, type: ONNX_FLOAT, dims: model.graph.nodes[o.node]!.shape };
    });
  const bytes = encodeOnnxModel({
    opset: ONNX_OPSET,
    producer: 'nnxc',
    producerVersion: '0.1.0',
    graph: {
      name: model.name,
      nodes: e.nodes,
      initializers: e.initializers,
      inputs: e.inputs,
      outputs,
      doc: `${model.name}, exported by nnxc export --to onnx (NHWC tensors, as in the .nnx file)`,
    },
  });
  return { bytes, diagnostics };
}

function cannotExport(node: Node, model: string): Diagnostic {
  const layer = node.label ? `layer \`${node.label}\`` : `model ${model}`;
  return error(
    'E0701',
    node.span ?? { start: 0, end: 0 },
    `${layer} computes \`${node.op}\`, which the ONNX export cannot express`,
  );
}

function emitInput(e: OnnxEmitter, node: Node<'input'>, weights: Weights, diagnostics: Diagnostic[]): void {
  const { name, role } = node.params;
  if (role === 'data') {
    e.inputs.push({ name, type: ONNX_FLOAT, dims: node.shape });
    e.values[node.id] = name;
    return;
  }
  const data = weights.get(name);
  if (!data || role === 'target') {
    diagnostics.push(
      error('E0701', node.span ?? { start: 0, end: 0 }, `no value for \`${name}\` to embed in the ONNX file`),
    );
    return;
  }
  e.initializers.push({ name, dims: node.shape as number[], type: ONNX_FLOAT, data });
  e.values[node.id] = name;
}

type Rule<P extends Op> = (
  e: OnnxEmitter,
  srcs: readonly string[],
  node: Node<P>,
  /** The sources' shapes. */
  shapes: readonly Shape[],
) => string;

/** Builds the node list: fresh value names, cached constants, the batch size as a tensor. */
class OnnxEmitter {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  readonly inputs: OnnxValueInfo[] = [];
  /** The ONNX value holding each IR node's result, by node id. */
  readonly values: (string | undefined)[] = [];
  /** The IR node being lowered: it names the ONNX nodes made for it. */
  current?: Node;
  private counter = 0;
  private readonly constants = new Map<string, string>();
  private batch?: string;

  constructor(private readonly graph: Graph) {}

  valueOf(id: number): string | undefined {
    return this.values[id];
  }

  /** Adds a node of `op` and returns its (first) output's name. */
  add(op: string, inputs: readonly string[], attributes?: Record<string, OnnxAttribute>): string {
    const label = this.current ? `${this.current.label ?? this.current.op}/%${this.current.id}` : 'nnx';
    const output = `${label}/${op}_${this.counter++}`;
    this.nodes.push({ op, inputs, outputs: [output], name: output, ...(attributes && { attributes }) });
    return output;
  }

  /** A float constant (a scalar, broadcast by ONNX's elementwise ops). */
  scalar(value: number): string {
    return this.constant(`f:${value}`, { dims: [], type: ONNX_FLOAT, data: Float32Array.of(value) });
  }

  /** An int64 vector constant (axes, shapes, pads). */
  ints(values: readonly number[]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    return this.constant(`i:${values.join(',')}`, { dims: [values.length], type: ONNX_INT64, data });
  }

  floats(shape: readonly number[], data: Float32Array): string {
    return this.constant(`t:${this.counter}`, { dims: shape, type: ONNX_FLOAT, data });
  }

  private constant(key: string, t: Omit<OnnxTensor, 'name'>): string {
    const known = this.constants.get(key);
    if (known) return known;
    const name = `const_${this.constants.size}`;
    this.initializers.push({ ...t, name });
    this.constants.set(key, name);
    return name;
  }

  /** The batch size as an int64 vector of one element, from the first data input's shape. */
  batchSize(): string {
    if (this.batch) return this.batch;
    const input = inputsOf(this.graph, 'data').find((n) => n.shape[0] === BATCH);
    if (!input) throw new Error('internal: a shape mentions the batch but no input has one');
    const saved = this.current;
    this.current = undefined;
    const shape = this.add('Shape', [input.params.name]);
    this.batch = this.add('Slice', [shape, this.ints([0]), this.ints([1])]);
    this.current = saved;
    return this.batch;
  }

  /** A shape as an int64 tensor: a constant, or pieces joined around the batch size. */
  shape(shape: Shape): string {
    if (shape.every((d) => typeof d === 'number')) return this.ints(shape as number[]);
    const pieces: string[] = [];
    let run: number[] = [];
    for (const d of shape) {
      if (typeof d === 'number') {
        run.push(d);
        continue;
      }
      if (d !== BATCH) throw new Error(`internal: dimension '${d}' is not bound`);
      if (run.length) pieces.push(this.ints(run));
      run = [];
      pieces.push(this.batchSize());
    }
    if (run.length) pieces.push(this.ints(run));
    return pieces.length === 1 ? pieces[0]! : this.add('Concat', pieces, { axis: int(0) });
  }

  /** 0/1 floats from a boolean tensor. */
  toFloat(x: string): string {
    return this.add('Cast', [x], { to: int(ONNX_FLOAT) });
  }

  /** Indices held as floats, rounded to the nearest integer as the IR reads them, as int64. */
  toIndex(x: string): string {
    const rounded = this.add('Floor', [this.add('Add', [x, this.scalar(0.5)])]);
    return this.add('Cast', [rounded], { to: int(ONNX_INT64) });
  }

  transpose(x: string, perm: readonly number[]): string {
    return this.add('Transpose', [x], { perm: ints(perm) });
  }
}

const int = (value: number): OnnxAttribute => ({ kind: 'int', value });
const ints = (value: readonly number[]): OnnxAttribute => ({ kind: 'ints', value });
const float = (value: number): OnnxAttribute => ({ kind: 'float', value });

/** Swaps the last two axes of a tensor of rank `rank`. */
function swapLast(rank: number): number[] {
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
  return perm;
}

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];
/** HWIO (nnx's filters) to OIHW (ONNX's). */
const HWIO_TO_OIHW = [3, 2, 0, 1];

const UNARY_ONNX: Partial<Record<string, string>> = {
  neg: 'Neg',
  exp: 'Exp',
  log: 'Log',
  sqrt: 'Sqrt',
  abs: 'Abs',
  sign: 'Sign',
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  softplus: 'Softplus',
  erf: 'Erf',
  sin: 'Sin',
  cos: 'Cos',
  floor: 'Floor',
};

const BINARY_ONNX = { add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div', max: 'Max', min: 'Min' } as const;

function unaryRule(e: OnnxEmitter, [x]: readonly string[], node: Node): string {
  const op = UNARY_ONNX[node.op];
  if (op) return e.add(op, [x!]);
  switch (node.op) {
    case 'elu':
      return e.add('Elu', [x!], { alpha: float(1) });
    case 'gelu': {
      // opset 17 has no Gelu: the exact form, x·½(1 + erf(x/√2)).
      const cdf = e.add('Add', [e.scalar(1), e.add('Erf', [e.add('Mul', [x!, e.scalar(Math.SQRT1_2)])])]);
      return e.add('Mul', [e.add('Mul', [x!, e.scalar(0.5)]), cdf]);
    }
    case 'swish':
      return e.add('Mul', [x!, e.add('Sigmoid', [x!])]);
  }
  throw new Error(`internal: no ONNX rule for unary op ${node.op}`);
}

function binaryRule(e: OnnxEmitter, [a, b]: readonly string[], node: Node): string {
  if (node.op === 'gt') return e.toFloat(e.add('Greater', [a!, b!]));
  if (node.op === 'eq') return e.toFloat(e.add('Equal', [a!, b!]));
  return e.add(BINARY_ONNX[node.op as keyof typeof BINARY_ONNX], [a!, b!]);
}

/** The rules of the ops an inference graph holds; gradient-only and random ops have none. */
const RULES: { readonly [P in Op]?: Rule<P> } = {
  const: (e, _s, n) => e.scalar(n.params.value),
  dimsize: (e, _s, n) =>
    typeof n.params.dim === 'number'
      ? e.scalar(n.params.dim)
      : e.toFloat(e.add('Reshape', [e.batchSize(), e.ints([])])),
  matmul: (e, [a, b], n, [sa, sb]) => {
    // A rank-2 operand shared by a batch broadcasts in ONNX's MatMul as in nnx's.
    const lhs = n.params.transA ? e.transpose(a!, swapLast(sa!.length)) : a!;
    const rhs = n.params.transB ? e.transpose(b!, swapLast(sb!.length)) : b!;
    return e.add('MatMul', [lhs, rhs]);
  },
  sum: (e, [x], n) =>
    n.params.axes.length === 0
      ? e.add('Identity', [x!])
      : e.add('ReduceSum', [x!, e.ints(n.params.axes)], { keepdims: int(n.params.keepDims ? 1 : 0) }),
  reduce_max: (e, [x], n) =>
    n.params.axes.length === 0
      ? e.add('Identity', [x!])
      : e.add('ReduceMax', [x!], { axes: ints(n.params.axes), keepdims: int(n.params.keepDims ? 1 : 0) }),
  reshape: (e, [x], n) => e.add('Reshape', [x!, e.shape(n.params.shape)]),
  broadcast: (e, [x], n) => e.add('Expand', [x!, e.shape(n.params.shape)]),
  transpose: (e, [x], n) => e.transpose(x!, n.params.perm),
  conv2d: (e, [x, w], n, [, filter]) => {
    const [kh, kw] = filter! as number[];
    const conv = e.add('Conv', [e.transpose(x!, NHWC_TO_NCHW), e.transpose(w!, HWIO_TO_OIHW)], {
      kernel_shape: ints([kh, kw]),
      strides: ints(n.params.strides),
      dilations: ints(n.params.dilation),
      // nnx pads (top, left, bottom, right); ONNX (h begin, w begin, h end, w end): the same order.
      pads: ints(n.params.pad),
    });
    return e.transpose(conv, NCHW_TO_NHWC);
  },
  max_pool2d: (e, [x], n) => pool(e, 'MaxPool', x!, n.params, {}),
  // Padded positions never count in nnx's average, as with count_include_pad = 0.
  avg_pool2d: (e, [x], n) => pool(e, 'AveragePool', x!, n.params, { count_include_pad: int(0) }),
  gather: (e, [table, idx], _n, [tableShape]) => {
    // An index outside the table gives a row of zeros in nnx; ONNX's Gather would fail on it.
    const rows = tableShape![0] as number;
    const i = e.toIndex(idx!);
    const inside = e.add('And', [
      e.add('GreaterOrEqual', [i, e.ints([0])]),
      e.add('Less', [i, e.ints([rows])]),
    ]);
    const safe = e.add('Where', [inside, i, e.ints([0])]);
    const picked = e.add('Gather', [table!, safe], { axis: int(0) });
    const rowRank = tableShape!.length - 1;
    const inRows = e.toFloat(inside);
    const keep = rowRank ? e.add('Unsqueeze', [inRows, e.ints(range(-rowRank, 0))]) : inRows;
    return e.add('Mul', [picked, keep]);
  },
  one_hot: (e, [idx], n) => {
    const classes = e.ints(range(0, n.params.depth));
    const i = e.add('Unsqueeze', [e.toIndex(idx!), e.ints([-1])]);
    return e.toFloat(e.add('Equal', [i, classes]));
  },
  slice: (e, [x], n) => {
    const { axis, start, size } = n.params;
    return e.add('Slice', [x!, e.ints([start]), e.ints([start + size]), e.ints([axis])]);
  },
  concat: (e, srcs, n) => e.add('Concat', srcs, { axis: int(n.params.axis) }),
  pad: (e, [x], n) => {
    const rank = n.shape.length;
    const pads = new Array<number>(2 * rank).fill(0);
    pads[n.params.axis] = n.params.before;
    pads[rank + n.params.axis] = n.params.after;
    return e.add('Pad', [x!, e.ints(pads)]);
  },
  iota: (e, _s, n) => {
    const { shape, axis } = n.params;
    const size = shape[axis] as number;
    const along = e.floats(
      shape.map((d, i) => (i === axis ? size : 1)),
      Float32Array.from(range(0, size)),
    );
    return shape.every((d, i) => d === 1 || i === axis) ? along : e.add('Expand', [along, e.shape(shape)]);
  },
};
for (const op of UNARY_OPS) (RULES as Record<string, Rule<Op>>)[op] = unaryRule;
for (const op of BINARY_OPS) (RULES as Record<string, Rule<Op>>)[op] = binaryRule;

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

function pool(
  e: OnnxEmitter,
  op: 'MaxPool' | 'AveragePool',
  x: string,
  p: Pool2dParams,
  extra: Record<string, OnnxAttribute>,
): string {
  const pooled = e.add(op, [e.transpose(x, NHWC_TO_NCHW)], {
    kernel_shape: ints(p.window),
    strides: ints(p.strides),
    pads: ints(p.pad),
    ...extra,
  });
  return e.transpose(pooled, NCHW_TO_NHWC);
}
