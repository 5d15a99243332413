/**
 * One WGSL generator per kernel kind: `map` (elementwise ops and the layout ops broadcast,
 * reshape and transpose, all as out[i] = f(loads)), `reduce`, and a tiled `matmul`. Scalar
 * constants are inlined as literals, so they never occupy a buffer.
 */
import { type Graph, type Node, isBinary, isUnary, sizeOf } from '../ir/graph.js';
import { BINARY, UNARY } from '../ir/ops.js';
import { broadcastStrides } from '../ir/tensor.js';
import {
  type Binding,
  bindingDecls,
  contiguousStrides,
  f32Literal,
  grid1d,
  indent,
  main1d,
  offsetExpr,
} from './wgsl.js';

export interface GeneratedKernel {
  readonly name: string;
  readonly wgsl: string;
  /** Buffer ids in binding order. */
  readonly buffers: readonly number[];
  readonly workgroups: readonly [number, number, number];
}

/** Maps each source to a WGSL reader: a literal for constants, else a binding. */
class Operands {
  readonly bindings: Binding[] = [];
  readonly buffers: number[] = [];
  private readonly names: (string | undefined)[] = [];

  constructor(
    readonly g: Graph,
    readonly node: Node,
    bufferOf: ReadonlyMap<number, number>,
  ) {
    const out = bufferOf.get(node.id)!;
    node.srcs.forEach((s, k) => {
      if (g.nodes[s]!.op === 'const') return;
      const buffer = bufferOf.get(s)!;
      // A source in the output's own buffer (an in-place update) is read through the output binding.
      if (buffer === out) return void (this.names[k] = 'out');
      const existing = this.buffers.indexOf(buffer);
      if (existing >= 0) return void (this.names[k] = this.bindings[existing]!.name);
      this.names[k] = `in${this.bindings.length}`;
      this.bindings.push({ name: this.names[k]!, writable: false });
      this.buffers.push(buffer);
    });
    this.bindings.push({ name: 'out', writable: true });
    this.buffers.push(out);
  }

  shape(k: number): number[] {
    return this.g.nodes[this.node.srcs[k]!]!.shape as number[];
  }

  /** Reads source `k` at a u32 offset expression. */
  load(k: number, offset: string): string {
    const src = this.g.nodes[this.node.srcs[k]!]!;
    if (src.op === 'const') return f32Literal((src as Node<'const'>).params.value);
    return `${this.names[k]}[${offset}]`;
  }

  header(): string {
    return bindingDecls(this.bindings);
  }
}

function shapeOf(n: Node): number[] {
  return n.shape as number[];
}

/** out[i] = f(srcs read through strides over the output index). */
function mapKernel(ops: Operands, node: Node): GeneratedKernel {
  const out = shapeOf(node);
  const n = sizeOf(out);
  const read = (k: number, strides: number[]) => ops.load(k, offsetExpr(out, strides, 'i'));
  let lets: string[];
  let value: string;
  if (isUnary(node.op)) {
    lets = [`let a = ${read(0, broadcastStrides(ops.shape(0), out))};`];
    value = UNARY[node.op].wgsl('a');
  } else if (isBinary(node.op)) {
    lets = [
      `let a = ${read(0, broadcastStrides(ops.shape(0), out))};`,
      `let b = ${read(1, broadcastStrides(ops.shape(1), out))};`,
    ];
    value = BINARY[node.op].wgsl('a', 'b');
  } else if (node.op === 'broadcast') {
    lets = [];
    value = read(0, broadcastStrides(ops.shape(0), out));
  } else if (node.op === 'reshape') {
    lets = [];
    value = ops.load(0, 'i');
  } else if (node.op === 'transpose') {
    const own = contiguousStrides(ops.shape(0));
    lets = [];
    value = read(
      0,
      (node as Node<'transpose'>).params.perm.map((p) => own[p]!),
    );
  } else {
    throw new Error(`internal: ${node.op} is not a map kernel`);
  }
  const { workgroups, strideX } = grid1d(n);
  const wgsl =
    [ops.header(), '', main1d(n, strideX, [...lets, `out[i] = ${value};`].join('\n'))].join('\n') + '\n';
  return { name: node.op, wgsl, buffers: ops.buffers, workgroups };
}

/** One invocation per output element, looping over the reduced axes. */
function reduceKernel(ops: Operands, node: Node<'sum' | 'reduce_max'>): GeneratedKernel {
  const inShape = ops.shape(0);
  const inStrides = contiguousStrides(inShape);
  const { axes } = node.params;
  const kept = inShape.map((_, d) => d).filter((d) => !axes.includes(d));
  const keptShape = kept.map((d) => inShape[d]!);
  const n = sizeOf(keptShape);
  const base = offsetExpr(
    keptShape,
    kept.map((d) => inStrides[d]!),
    'i',
  );
  // max starts from the first element: -inf is not a valid WGSL constant.
  const [init, combine] =
    node.op === 'sum'
      ? ['0.0', (x: string) => `acc + ${x}`]
      : [ops.load(0, 'base'), (x: string) => `max(acc, ${x})`];
  const reduced = axes.filter((d) => inShape[d]! > 1);
  let body = `acc = ${combine(ops.load(0, ['base', ...reduced.map((d) => (inStrides[d] === 1 ? `r${d}` : `r${d} * ${inStrides[d]}u`))].join(' + ')))};`;
  for (const d of [...reduced].reverse()) {
    body = [`for (var r${d} = 0u; r${d} < ${inShape[d]}u; r${d}++) {`, indent(body, 2), '}'].join('\n');
  }
  const { workgroups, strideX } = grid1d(n);
  const code = [`let base = ${base};`, `var acc = ${init};`, body, 'out[i] = acc;'].join('\n');
  const wgsl = [ops.header(), '', main1d(n, strideX, code)].join('\n') + '\n';
  return { name: node.op, wgsl, buffers: ops.buffers, workgroups };
}

const TILE = 16;

/** C = op(A)·op(B), 16×16 output tiles staged through workgroup memory; edges are masked. */
function matmulKernel(ops: Operands, node: Node<'matmul'>): GeneratedKernel {
  const { transA, transB } = node.params;
  const [m, n] = shapeOf(node) as [number, number];
  const k = transA ? ops.shape(0)[0]! : ops.shape(0)[1]!;
  const aAt = (r: string, c: string) => ops.load(0, transA ? `${c} * ${m}u + ${r}` : `${r} * ${k}u + ${c}`);
  const bAt = (r: string, c: string) => ops.load(1, transB ? `${c} * ${k}u + ${r}` : `${r} * ${n}u + ${c}`);
  const wgsl = `${ops.header()}

var<workgroup> tileA: array<array<f32, ${TILE}>, ${TILE}>;
var<workgroup> tileB: array<array<f32, ${TILE}>, ${TILE}>;

@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wg.y * ${TILE}u + lid.y;
  let col = wg.x * ${TILE}u + lid.x;
  var acc = 0.0;
  for (var t = 0u; t < ${k}u; t += ${TILE}u) {
    let ak = t + lid.x;
    let bk = t + lid.y;
    tileA[lid.y][lid.x] = select(0.0, ${aAt('row', 'ak')}, row < ${m}u && ak < ${k}u);
    tileB[lid.y][lid.x] = select(0.0, ${bAt('bk', 'col')}, bk < ${k}u && col < ${n}u);
    workgroupBarrier();
    for (var j = 0u; j < ${TILE}u; j++) {
      acc += tileA[lid.y][j] * tileB[j][lid.x];
    }
    workgroupBarrier();
  }
  if (row < ${m}u && col < ${n}u) {
    out[row * ${n}u + col] = acc;
  }
}
`;
  return {
    name: `matmul${transA ? '_tA' : ''}${transB ? '_tB' : ''}`,
    wgsl,
    buffers: ops.buffers,
    workgroups: [Math.ceil(n / TILE), Math.ceil(m / TILE), 1],
  };
}

/** The kernel computing `node`, given where every value lives. */
export function generateKernel(g: Graph, node: Node, bufferOf: ReadonlyMap<number, number>): GeneratedKernel {
  const ops = new Operands(g, node, bufferOf);
  switch (node.op) {
    case 'matmul':
      return matmulKernel(ops, node as Node<'matmul'>);
    case 'sum':
    case 'reduce_max':
      return reduceKernel(ops, node as Node<'sum' | 'reduce_max'>);
    case 'input':
    case 'const':
    case 'dimsize':
      throw new Error(`internal: ${node.op} runs no kernel`);
    default:
      return mapKernel(ops, node);
  }
}
