/**
 * Split reductions, for occupancy: a reduction kernel runs one invocation per output, so a bias
 * gradient or a BatchNorm statistic (a few dozen outputs over megabytes of input) runs as one
 * workgroup and leaves the rest of the adapter idle. Written as a rewrite to ordinary nodes, so
 * every target renders it with the kernels it has:
 *
 *   sum(x[pre, R, post], R)  →  sum(sum(reshape(x, [pre, S, R/S, post]), R/S), S)
 *
 * The inner sum (the partial pass, S times as many outputs) keeps the prologue that computes x;
 * the outer one (small) keeps the epilogue, such as the optimizer update of a bias.
 * The same two passes serve the other long reductions with small outputs:
 *  - split-K of a matmul: `matmul(A, B)` → `sum(matmul(A_s, B_s), s)`, where A_s and B_s are the
 *    K-slices of the operands as views (a reshape, or a transpose of one, that the matmul kernel
 *    reads in place with a batch stride);
 *  - the filter gradient of a convolution: `conv2d_filter_grad(x, g)` with `slices` S computes S
 *    partial filters over ranges of (image, output row) pairs, of any length, then a sum.
 * Every partial is summed in a fixed order over fixed slices, and the final sum adds partials
 * 0, 1, … in order: the result does not depend on timing.
 * The split depends on the adapter profile the plan is made for (its workgroups at once), and
 * the plan stays one for every target: the wasm target renders the same two passes (a sliced
 * filter gradient as its slices' GEMMs one after another, each shared over the threads). The
 * default profile, lavapipe's 16, is also the wasm target's thread limit (WASM_MAX_THREADS).
 */
import { ELEMENTWISE_OPS, type Graph, type Node, sizeOf } from '../graph.js';
import { matmulGeometry } from '../ops/matmul.js';
import { type Rewriter, keep, rewrite } from './rewrite.js';

export interface Occupancy {
  /** Workgroups the adapter runs at once. */
  readonly concurrentWorkgroups: number;
  /** Invocations per workgroup of a reduction kernel (one per output). */
  readonly workgroupSize: number;
  /** Reductions reading fewer bytes than this are left alone: splitting them costs a dispatch. */
  readonly minBytes: number;
  /**
   * The partials a final pass reads stay within this many bytes: more, and the final pass would
   * itself be a long reduction with few outputs.
   */
  readonly maxPartialBytes: number;
  /** Workgroups a matmul kernel launches for an m×n product (the targets' tiling). */
  readonly matmulWorkgroups: (m: number, n: number) => number;
  /** Workgroups a convolution GEMM launches for m×n outputs (a filter gradient: taps × channels). */
  readonly convWorkgroups: (m: number, n: number) => number;
}

/** Each partial product of a split-K matmul sums at least this many terms. */
const MIN_SLICE_K = 16;

/** Each partial sum reads at least this many elements, so the final pass stays small. */
const MIN_PARTIAL = 32;

/**
 * The number of partial sums for a reduction of `extent` elements into `outputs` values: enough
 * workgroups to fill the adapter, a divisor of `extent` (so the split is a reshape), 1 when no
 * divisor helps.
 */
export function splitCount(outputs: number, extent: number, occupancy: Occupancy): number {
  const most = Math.min(Math.floor(extent / MIN_PARTIAL), partialsAtMost(outputs, occupancy));
  return divisorSplit(extent, most, occupancy.concurrentWorkgroups, (s) => groups(outputs * s, occupancy));
}

/**
 * Partials of a reduction over ranges of any length: the fewest that fill the adapter, each at
 * least MIN_PARTIAL elements long, within what the final pass may read.
 */
export function raggedSlices(outputs: number, extent: number, occupancy: Occupancy): number {
  const wanted = Math.ceil((occupancy.concurrentWorkgroups * occupancy.workgroupSize) / outputs);
  const s = Math.min(wanted, Math.floor(extent / MIN_PARTIAL), partialsAtMost(outputs, occupancy));
  return groups(outputs * s, occupancy) >= 2 * groups(outputs, occupancy) ? s : 1;
}

/** The most partials of `outputs` values each that the final pass may read. */
function partialsAtMost(outputs: number, occupancy: Occupancy): number {
  return Math.floor(occupancy.maxPartialBytes / (4 * outputs));
}

/**
 * The fewest slices s (a divisor of `extent`, at most `most`) whose `workgroups(s)` fill the
 * adapter; else the divisor launching the most; 1 when no divisor at least doubles the workgroups.
 */
function divisorSplit(
  extent: number,
  most: number,
  concurrent: number,
  workgroups: (s: number) => number,
): number {
  if (workgroups(1) >= concurrent) return 1;
  let best = 1;
  for (let s = 2; s <= most; s++) {
    if (extent % s !== 0) continue;
    best = s;
    if (workgroups(s) >= concurrent) break;
  }
  // A split gaining less than twice the workgroups is not worth its extra dispatch.
  return best >= 2 && workgroups(best) >= 2 * workgroups(1) ? best : 1;
}

/**
 * Slices of a split filter gradient over its `pairs` (image, output row) pairs: the fewest that
 * fill the adapter (any count: slices may differ by a pair), at most one per pair; 1 when a
 * split would not at least double the workgroups.
 */
export function filterGradSlices(
  pairs: number,
  workgroups: number,
  concurrent: number,
  most: number,
): number {
  const s = Math.min(pairs, most, Math.ceil(concurrent / workgroups));
  return s >= 2 ? s : 1;
}

function groups(invocations: number, occupancy: Occupancy): number {
  return Math.ceil(invocations / occupancy.workgroupSize);
}

/**
 * Bytes a reduction of `x` reads once fusion makes x's elementwise producers its prologue
 * (src/ir/passes/fuse.ts): the values under the elementwise ops of x's size, each once. A
 * BatchNorm gradient's `sum(g · x̂)` reads both tensors.
 */
function prologueReads(g: Graph, x: Node, readers: readonly number[]): number {
  const size = sizeOf(x.shape as number[]);
  const seen = new Set<number>();
  let bytes = 0;
  const visit = (id: number) => {
    if (seen.has(id)) return;
    seen.add(id);
    const v = g.nodes[id]!;
    if (v.op === 'const') return;
    // A value with other readers is stored: the reduction reads it rather than its sources.
    const inPrologue = ELEMENTWISE_OPS.has(v.op) && sizeOf(v.shape as number[]) === size && readers[id] === 1;
    if (inPrologue) return v.srcs.forEach(visit);
    bytes += 4 * sizeOf(v.shape as number[]);
  };
  visit(x.id);
  return bytes;
}

/** The reduced axes as one contiguous run [from, to), or undefined when they are not. */
function contiguousRun(axes: readonly number[]): [number, number] | undefined {
  const sorted = [...axes].sort((a, b) => a - b);
  return sorted.every((a, i) => a === sorted[0]! + i) ? [sorted[0]!, sorted[0]! + sorted.length] : undefined;
}

/** Splits every long reduction with too few outputs to fill the adapter (see the file comment). */
export function splitReductions(occupancy: Occupancy): (g: Graph) => Graph {
  return (g) => {
    const readers = g.nodes.map(() => 0);
    for (const n of g.nodes) for (const s of n.srcs) readers[s]!++;
    for (const o of g.outputs) readers[o.node]!++;
    return rewrite(g, (n, r) => {
      const bytesRead = () => 4 * n.srcs.reduce((a, src) => a + sizeOf(g.nodes[src]!.shape as number[]), 0);
      if (n.op === 'matmul' && bytesRead() >= occupancy.minBytes)
        return splitMatmul(g, n, r, occupancy) ?? keep(n, r);
      if (n.op === 'conv2d_filter_grad' && bytesRead() >= occupancy.minBytes)
        return splitFilterGrad(g, n, r, occupancy) ?? keep(n, r);
      if (n.op !== 'sum' && n.op !== 'reduce_max') return keep(n, r);
      const { axes, keepDims, slices: sliced } = n.params;
      if (sliced !== undefined) return keep(n, r);
      const x = g.nodes[n.srcs[0]!]!;
      const shape = x.shape as number[];
      const run = axes.length > 0 ? contiguousRun(axes) : undefined;
      if (!run || prologueReads(g, x, readers) < occupancy.minBytes) return keep(n, r);
      const extent = sizeOf(shape.slice(run[0], run[1]));
      const outputs = sizeOf(shape) / extent;
      const emitNode = (op: Node['op'], src: number, nodeShape: number[], params: object) =>
        r.emit({ ...n, op, srcs: [src], shape: nodeShape, params } as Omit<Node, 'id'>);
      // The final pass: the partials (axis `at`) reduced in order, reshaped back when keepDims.
      const finalPass = (partial: number, at: number) => {
        const total = emitNode(n.op, partial, [...shape.slice(0, at), ...shape.slice(run[1])], {
          axes: [at],
          keepDims: false,
        });
        if (!keepDims) return total;
        const kept = n.shape as number[];
        return emitNode('reshape', total, kept, { shape: kept });
      };
      if (groups(outputs, occupancy) >= occupancy.concurrentWorkgroups) return keep(n, r);
      const s = splitCount(outputs, extent, occupancy);
      // No divisor fills the adapter (a prime extent, or divisors that miss): partials over
      // ranges of any length, `slices` of them.
      if (s === 1 || groups(outputs * s, occupancy) < occupancy.concurrentWorkgroups) {
        const slices = raggedSlices(outputs, extent, occupancy);
        if (slices > s) {
          const partial = r.emit({
            ...n,
            srcs: [r.map(x.id)],
            shape: [...shape.slice(0, run[0]), slices, ...shape.slice(run[1])],
            params: { axes: n.params.axes, keepDims: false, slices },
          } as Omit<Node, 'id'>);
          return finalPass(partial, run[0]);
        }
      }
      if (s === 1) return keep(n, r);
      const pre = shape.slice(0, run[0]);
      const post = shape.slice(run[1]);
      const at = pre.length;
      const grouped = [...pre, s, extent / s, ...post];
      const view = emitNode('reshape', r.map(x.id), grouped, { shape: grouped });
      const partial = emitNode(n.op, view, [...pre, s, ...post], { axes: [at + 1], keepDims: false });
      return finalPass(partial, at);
    });
  };
}

/**
 * Split-K of a rank-2 matmul whose output launches too few workgroups: S partial products over
 * K-slices (S divides K), read as views of the stored operands, and their sum. An operand stored
 * with K as its rows (`[K, ·]`) is sliced by a reshape; one with K as its columns by a transpose
 * of a reshape, `[R, S, K/S] → [S, R, K/S]`, which the matmul reads with a row stride of K.
 */
function splitMatmul(g: Graph, n: Node<'matmul'>, r: Rewriter, occupancy: Occupancy): number | undefined {
  const [a, b] = n.srcs.map((s) => g.nodes[s]!) as [Node, Node];
  if (a.shape.length !== 2 || b.shape.length !== 2) return undefined;
  const { transA, transB } = n.params;
  const { m, n: cols, k } = matmulGeometry(a.shape as number[], b.shape as number[], n.params);
  const one = occupancy.matmulWorkgroups(m, cols);
  if (one >= occupancy.concurrentWorkgroups) return undefined;
  const most = Math.min(Math.floor(k / MIN_SLICE_K), partialsAtMost(m * cols, occupancy));
  const s = divisorSplit(k, most, occupancy.concurrentWorkgroups, (s) => s * one);
  if (s === 1) return undefined;
  const emit = (op: Node['op'], srcs: number[], shape: number[], params: object) =>
    r.emit({ ...n, op, srcs, shape, params } as Omit<Node, 'id'>);
  // A reshape's source is read at the same offsets: slice it directly.
  const storedSource = (x: Node): number => (x.op === 'reshape' ? storedSource(g.nodes[x.srcs[0]!]!) : x.id);
  const slice = (x: Node, kRows: boolean): number => {
    const src = r.map(storedSource(x));
    const [rows, columns] = x.shape as [number, number];
    if (kRows) return emit('reshape', [src], [s, rows / s, columns], { shape: [s, rows / s, columns] });
    const grouped = emit('reshape', [src], [rows, s, columns / s], { shape: [rows, s, columns / s] });
    return emit('transpose', [grouped], [s, rows, columns / s], { perm: [1, 0, 2] });
  };
  const partial = emit('matmul', [slice(a, transA), slice(b, !transB)], [s, m, cols], { transA, transB });
  return emit('sum', [partial], [m, cols], { axes: [0], keepDims: false });
}

/** The filter gradient as `slices` partial filters and their sum, when it launches too few workgroups. */
function splitFilterGrad(
  g: Graph,
  n: Node<'conv2d_filter_grad'>,
  r: Rewriter,
  occupancy: Occupancy,
): number | undefined {
  if (n.params.slices !== undefined) return undefined;
  const [x, dy] = n.srcs.map((s) => g.nodes[s]!) as [Node, Node];
  const [kh, kw, c, o] = n.shape as [number, number, number, number];
  const one = occupancy.convWorkgroups(kh * kw * c, o);
  if (one >= occupancy.concurrentWorkgroups) return undefined;
  const pairs = (dy.shape[0] as number) * (dy.shape[1] as number);
  const most = partialsAtMost(kh * kw * c * o, occupancy);
  const slices = filterGradSlices(pairs, one, occupancy.concurrentWorkgroups, most);
  if (slices === 1) return undefined;
  const partial = r.emit({
    ...n,
    srcs: [r.map(x.id), r.map(dy.id)],
    shape: [slices, kh, kw, c, o],
    params: { ...n.params, slices },
  } as Omit<Node, 'id'>);
  return r.emit({
    ...n,
    op: 'sum',
    srcs: [partial],
    shape: [kh, kw, c, o],
    params: { axes: [0], keepDims: false },
  } as Omit<Node, 'id'>);
}
