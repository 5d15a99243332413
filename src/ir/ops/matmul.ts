/**
 * `matmul`: C = op(A)·op(B) over the last two axes, where `op` transposes when its flag is set,
 * batched over any leading axes. Both operands have the same leading (batch) axes, or one of
 * them is rank 2 and is shared by every batch element — Dense on `[B, T, F]` is
 * `matmul([B,T,F], [F,U])`, attention's scores `matmul([B,H,T,d], [B,H,T,d], transB)`.
 */
import type { GraphBuilder } from '../builder.js';
import { type Node, type OpParams, type Shape, sameShape, shapeToString } from '../graph.js';
import { type DType, type Tensor, allocate } from '../tensor.js';

type MatmulParams = OpParams['matmul'];

/** The sizes of one matmul: `batch` products of m×k by k×n; an unbatched operand is shared. */
export interface MatmulGeometry {
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** Whether each operand has its own matrix per batch element (else it is shared). */
  readonly batchedA: boolean;
  readonly batchedB: boolean;
}

export function matmulShape([a, b]: readonly Shape[], p: MatmulParams): Shape | { error: string } {
  if (a!.length < 2 || b!.length < 2)
    return {
      error: `matmul needs operands of rank 2 or more, got ${shapeToString(a!)} and ${shapeToString(b!)}`,
    };
  const [batchA, batchB] = [a!.slice(0, -2), b!.slice(0, -2)];
  if (batchA.length > 0 && batchB.length > 0 && !sameShape(batchA, batchB))
    return {
      error: `matmul batch dimensions differ: ${shapeToString(a!)} and ${shapeToString(b!)} (the leading dimensions must be equal, or one operand of rank 2)`,
    };
  const [ra, ca] = a!.slice(-2) as [Shape[0], Shape[0]];
  const [rb, cb] = b!.slice(-2) as [Shape[0], Shape[0]];
  const [m, k1] = p.transA ? [ca, ra] : [ra, ca];
  const [k2, n] = p.transB ? [cb, rb] : [rb, cb];
  if (k1 !== k2)
    return {
      error: `matmul inner dimensions differ: ${shapeToString(a!)} has ${k1} columns but ${shapeToString(b!)} has ${k2} rows`,
    };
  return [...(batchA.length > 0 ? batchA : batchB), m, n];
}

/** The geometry of a matmul node whose shapes are bound. */
export function matmulGeometry(a: readonly number[], b: readonly number[], p: MatmulParams): MatmulGeometry {
  const batchedA = a.length > 2;
  const batchedB = b.length > 2;
  const lead = (batchedA ? a : b).slice(0, -2);
  const [ra, ca] = a.slice(-2) as [number, number];
  const [rb, cb] = b.slice(-2) as [number, number];
  return {
    batch: lead.reduce((x, y) => x * y, 1),
    m: p.transA ? ca : ra,
    k: p.transA ? ra : ca,
    n: p.transB ? rb : cb,
    batchedA,
    batchedB,
  };
}

export function matmulReference(
  [a, b]: readonly Tensor[],
  node: Node<'matmul'>,
  outShape: number[],
  dtype: DType,
): Tensor {
  const { transA, transB } = node.params;
  const { batch, m, n, k, batchedA, batchedB } = matmulGeometry(a!.shape, b!.shape, node.params);
  const out = allocate(dtype, batch * m * n);
  for (let z = 0; z < batch; z++) {
    const [oa, ob, oc] = [batchedA ? z * m * k : 0, batchedB ? z * k * n : 0, z * m * n];
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) {
          const av = transA ? a!.data[oa + p * m + i]! : a!.data[oa + i * k + p]!;
          const bv = transB ? b!.data[ob + j * k + p]! : b!.data[ob + p * n + j]!;
          acc += av * bv;
        }
        out[oc + i * n + j] = acc;
      }
    }
  }
  return { shape: outShape, data: out };
}

/**
 * C = op(A)·op(B): dop(A) = G·op(B)ᵀ and dop(B) = op(A)ᵀ·G, folded into transpose flags. A
 * shared operand's gradient is the batch of per-element products summed over the batch.
 */
export function matmulVjp(b: GraphBuilder, node: Node<'matmul'>, g: number): (number | null)[] {
  const [a, w] = node.srcs as [number, number];
  const { transA, transB } = node.params;
  const ga = transA ? b.matmul(w, g, transB, true) : b.matmul(g, w, false, !transB);
  const gw = transB ? b.matmul(g, a, true, transA) : b.matmul(a, g, !transA, false);
  return [b.sumToShape(ga, b.shapeOf(a)), b.sumToShape(gw, b.shapeOf(w))];
}
