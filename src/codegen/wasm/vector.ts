/**
 * A fused epilogue four elements at a time: the roots of a kernel at output elements
 * idx … idx + 3, which lie in one row of the output (the matmul writes it for four consecutive
 * columns of a full register tile). Each value is an f32x4 local whose lanes are either four
 * consecutive elements of its node (lane stride 1: one v128 load) or one element for all four
 * (stride 0: a broadcast along the last axis, one load32_splat). The scalar index arithmetic of
 * FusedWriter is reused for lane 0 and done once per four elements. Every lane computes the same
 * IEEE operation as the scalar writer, so both give the same bits.
 */
import { type Graph, isBinary, isUnary } from '../../ir/graph.js';
import type { FusedKernel } from '../../ir/passes/fuse.js';
import { broadcastStrides } from '../../ir/tensor.js';
import { V128 } from './encoder.js';
import { WASM_VECTOR_BINARY, WASM_VECTOR_UNARY, pushSplat } from './ops.js';
import { type FusedWriter, type Index, Scope, pushByteOffset } from './writer.js';

type Lanes = 0 | 1;

const lastDim = (shape: readonly number[]) => shape[shape.length - 1] ?? 1;
const lastStride = (src: readonly number[], shape: readonly number[]): Lanes =>
  shape.length > 0 && (broadcastStrides([...src], [...shape]).at(-1) ?? 0) !== 0 ? 1 : 0;

/**
 * Whether node `id` of `k` can be computed four lanes at a time when lane 0 is an element of a
 * row (last axis `n`) at a multiple of 4 columns with 4 columns to spare.
 */
export function fourLanesFit(g: Graph, k: FusedKernel, id: number, n: number): boolean {
  // Four consecutive elements of a node stay in one row of it: its rows are the output's, or
  // both are whole vectors long.
  const rowsHold = (shape: readonly number[]) =>
    lastDim(shape) === n || (n % 4 === 0 && lastDim(shape) % 4 === 0);
  const fits = (id: number, lanes: Lanes): boolean => {
    const node = g.nodes[id]!;
    const shape = node.shape as number[];
    if (lanes === 1 && !rowsHold(shape)) return false;
    if (id === k.anchor) return lanes === 1;
    if (node.op === 'const' || !k.members.has(id)) return true;
    const src = (i: number) => g.nodes[node.srcs[i]!]!;
    const through = (i: number) =>
      fits(src(i).id, (lanes && lastStride(src(i).shape as number[], shape)) as Lanes);
    if (node.op === 'reshape') return fits(src(0).id, lanes);
    if (node.op === 'broadcast') return through(0);
    if (isUnary(node.op)) return WASM_VECTOR_UNARY[node.op] !== undefined && through(0);
    if (isBinary(node.op)) return through(0) && through(1);
    return false;
  };
  return fits(id, 1);
}

/** Whether every root of `k` can be computed four lanes at a time (see {@link fourLanesFit}). */
export function vectorEpilogueFits(g: Graph, k: FusedKernel, n: number): boolean {
  return k.roots.every((r) => fourLanesFit(g, k, r, n));
}

/** Writes the roots of a kernel (one that {@link vectorEpilogueFits}) for four elements at a time. */
export class VectorEpilogue {
  constructor(private readonly w: FusedWriter) {}

  /**
   * Computes and stores every root at elements `index` … `index` + 3, the anchor's four values
   * in `anchor` (a kernel without an anchor, a map, has none).
   */
  storeRoots(anchor: number | undefined, index: Index): void {
    const scope = new Scope();
    const { k } = this.w;
    const values = k.roots.map((r) => this.valueAt(r, index, 1, anchor, scope));
    k.roots.forEach((r, i) => {
      pushByteOffset(this.w.f, index.local).get(values[i]!).storeV128(this.w.addressOf(r));
    });
  }

  /** An f32x4 local holding node `id` (a member or an input, not the anchor) at elements `index` … `index` + 3. */
  value(id: number, index: Index, scope: Scope): number {
    return this.valueAt(id, index, 1, undefined, scope);
  }

  private valueAt(id: number, index: Index, lanes: Lanes, anchor: number | undefined, scope: Scope): number {
    const { f, g, k } = this.w;
    if (id === k.anchor && anchor !== undefined) return anchor;
    const key = `x${lanes}v${id}@${index.key}`;
    const hit = scope.cache.get(key);
    if (hit !== undefined) return hit;
    const node = g.nodes[id]!;
    const shape = node.shape as number[];
    const local = f.local(V128);
    const through = (i: number) => {
      const src = g.nodes[node.srcs[i]!]!;
      const strides = broadcastStrides(src.shape as number[], shape);
      const at = this.w.offset(shape, strides, index, scope);
      return this.valueAt(
        src.id,
        at,
        (lanes && lastStride(src.shape as number[], shape)) as Lanes,
        anchor,
        scope,
      );
    };
    if (node.op === 'const') {
      pushSplat(f, node.params.value).set(local);
    } else if (!k.members.has(id)) {
      pushByteOffset(f, index.local);
      if (lanes === 1) f.loadV128(this.w.addressOf(id));
      else f.loadSplat(this.w.addressOf(id));
      f.set(local);
    } else if (node.op === 'reshape') {
      return this.valueAt(node.srcs[0]!, index, lanes, anchor, scope);
    } else if (node.op === 'broadcast') {
      return through(0);
    } else if (isUnary(node.op)) {
      const x = through(0);
      WASM_VECTOR_UNARY[node.op]!(f, x).set(local);
    } else if (isBinary(node.op)) {
      const a = through(0);
      WASM_VECTOR_BINARY[node.op](f, a, through(1)).set(local);
    } else {
      throw new Error(`internal: ${node.op} has no four-lane form`);
    }
    scope.cache.set(key, local);
    return local;
  }
}

/**
 * The kernel at `at` (one node, its only root) and the map kernel after it as one kernel
 * anchored at that node, whose roots the map's: when the map reads the node at its own
 * elements only (same shape, no layout op between) and every op of it has a four-lane form
 * over the node's last axis. The caller's kernel then computes the map's roots four elements
 * at a time from the node's values ({@link VectorEpilogue}) while they are at hand.
 */
export function mapEpilogue(g: Graph, kernels: readonly FusedKernel[], at: number): FusedKernel | undefined {
  const [first, next] = [kernels[at], kernels[at + 1]];
  if (!first || !next || next.anchor !== undefined || next.rows || first.roots.length !== 1) return undefined;
  const node = g.nodes[first.roots[0]!]!;
  if (!first.members.has(node.id) || first.members.size !== 1) return undefined;
  const shape = node.shape as number[];
  const sameShape = (id: number) => (g.nodes[id]!.shape as number[]).join() === shape.join();
  if (!next.roots.every(sameShape)) return undefined;
  let reads = false;
  for (const m of next.members) {
    const member = g.nodes[m]!;
    if (!member.srcs.includes(node.id)) continue;
    if (!sameShape(m) || member.op === 'reshape' || member.op === 'broadcast') return undefined;
    reads = true;
  }
  if (!reads) return undefined;
  const merged: FusedKernel = {
    roots: next.roots,
    anchor: node.id,
    members: new Set([...next.members, node.id]),
    prologue: new Set(),
  };
  return lastDim(shape) % 4 === 0 && vectorEpilogueFits(g, merged, lastDim(shape)) ? merged : undefined;
}
