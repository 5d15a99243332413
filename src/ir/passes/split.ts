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
 */
import { type Graph, type Node, sizeOf } from '../graph.js';
import { keep, rewrite } from './rewrite.js';

export interface Occupancy {
  /** Workgroups the adapter runs at once. */
  readonly concurrentWorkgroups: number;
  /** Invocations per workgroup of a reduction kernel (one per output). */
  readonly workgroupSize: number;
  /** Reductions reading fewer bytes than this are left alone: splitting them costs a dispatch. */
  readonly minBytes: number;
}

/** Each partial sum reads at least this many elements, so the final pass stays small. */
const MIN_PARTIAL = 32;

/**
 * The number of partial sums for a reduction of `extent` elements into `outputs` values: enough
 * workgroups to fill the adapter, a divisor of `extent` (so the split is a reshape), 1 when no
 * divisor helps.
 */
export function splitCount(outputs: number, extent: number, occupancy: Occupancy): number {
  const wanted = Math.ceil((occupancy.concurrentWorkgroups * occupancy.workgroupSize) / outputs);
  const most = Math.min(wanted, Math.floor(extent / MIN_PARTIAL));
  let best = 1;
  for (let s = 2; s <= most; s++) if (extent % s === 0) best = s;
  // A split gaining less than twice the workgroups is not worth its extra dispatch.
  return best >= 2 && groups(outputs * best, occupancy) >= 2 * groups(outputs, occupancy) ? best : 1;
}

function groups(invocations: number, occupancy: Occupancy): number {
  return Math.ceil(invocations / occupancy.workgroupSize);
}

/** The reduced axes as one contiguous run [from, to), or undefined when they are not. */
function contiguousRun(axes: readonly number[]): [number, number] | undefined {
  const sorted = [...axes].sort((a, b) => a - b);
  return sorted.every((a, i) => a === sorted[0]! + i) ? [sorted[0]!, sorted[0]! + sorted.length] : undefined;
}

/** Splits every long reduction with too few outputs to fill the adapter (see the file comment). */
export function splitReductions(occupancy: Occupancy): (g: Graph) => Graph {
  return (g) =>
    rewrite(g, (n, r) => {
      if (n.op !== 'sum' && n.op !== 'reduce_max') return keep(n, r);
      const { axes, keepDims } = n.params;
      const x = g.nodes[n.srcs[0]!]!;
      const shape = x.shape as number[];
      const run = axes.length > 0 ? contiguousRun(axes) : undefined;
      if (!run || 4 * sizeOf(shape) < occupancy.minBytes) return keep(n, r);
      const extent = sizeOf(shape.slice(run[0], run[1]));
      const outputs = sizeOf(shape) / extent;
      if (groups(outputs, occupancy) >= occupancy.concurrentWorkgroups) return keep(n, r);
      const s = splitCount(outputs, extent, occupancy);
      if (s === 1) return keep(n, r);
      const pre = shape.slice(0, run[0]);
      const post = shape.slice(run[1]);
      const at = pre.length;
      const emitNode = (op: Node['op'], src: number, nodeShape: number[], params: object) =>
        r.emit({ ...n, op, srcs: [src], shape: nodeShape, params } as Omit<Node, 'id'>);
      const grouped = [...pre, s, extent / s, ...post];
      const view = emitNode('reshape', r.map(x.id), grouped, { shape: grouped });
      const partial = emitNode(n.op, view, [...pre, s, ...post], { axes: [at + 1], keepDims: false });
      const total = emitNode(n.op, partial, [...pre, ...post], { axes: [at], keepDims: false });
      if (!keepDims) return total;
      const kept = n.shape as number[];
      return emitNode('reshape', total, kept, { shape: kept });
    });
}
