/**
 * `image_shift`: moves each image of an NHWC batch by whole pixels and optionally mirrors it,
 * the geometric part of data augmentation. Per sample n, `moves[n] = (dy, dx, flip)`:
 *
 *   out[n, h, w, c] = x[n, h − dy, f(w) − dx, c]   with f(w) = W − 1 − w when flip, else w,
 *
 * and zero where that reads outside the image (the padding of a crop). dy and dx are rounded to
 * the nearest integer (⌊v + ½⌋), and flip is on when its value is at least ½. The op is linear
 * in x; its adjoint (`adjoint: true`) reads out[n, h, w, c] = x[n, h + dy, f(w + dx), c], and
 * each is the other's VJP. The moves get no gradient: they are integers.
 */
import type { GraphBuilder } from '../builder.js';
import { type Node, type Shape, shapeToString } from '../graph.js';
import { type DType, type Tensor, allocate } from '../tensor.js';

type ShapeResult = Shape | { readonly error: string };

/** Columns of a moves row. */
export const MOVE_COLUMNS = 3;

/** x is [N, H, W, C] with H and W fixed; moves is [N, 3]; the result has x's shape. */
export function imageShiftShape([x, moves]: readonly Shape[]): ShapeResult {
  if (x!.length !== 4 || typeof x![1] !== 'number' || typeof x![2] !== 'number')
    return { error: `image_shift needs NHWC images with a fixed height and width, got ${shapeToString(x!)}` };
  if (moves!.length !== 2 || moves![0] !== x![0] || moves![1] !== MOVE_COLUMNS)
    return {
      error: `image_shift needs one (dy, dx, flip) row per image, [${String(x![0])},3], got ${shapeToString(moves!)}`,
    };
  return x!;
}

/** The whole-pixel offset a move value stands for. */
export function movePixels(v: number): number {
  return Math.floor(v + 0.5);
}

/** The definition above, written out: every output pixel reads the one its image's move points at. */
export function imageShiftReference(x: Tensor, moves: Tensor, adjoint: boolean, dtype: DType): Tensor {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const out = allocate(dtype, x.data.length);
  for (let s = 0; s < n; s++) {
    const dy = movePixels(moves.data[s * MOVE_COLUMNS]!);
    const dx = movePixels(moves.data[s * MOVE_COLUMNS + 1]!);
    const flip = moves.data[s * MOVE_COLUMNS + 2]! >= 0.5;
    const mirror = (j: number) => (flip ? w - 1 - j : j);
    for (let i = 0; i < h; i++) {
      const si = adjoint ? i + dy : i - dy;
      if (si < 0 || si >= h) continue;
      for (let j = 0; j < w; j++) {
        const sj = adjoint ? mirror(j + dx) : mirror(j) - dx;
        if (sj < 0 || sj >= w) continue;
        const from = ((s * h + si) * w + sj) * c;
        out.set(x.data.subarray(from, from + c), ((s * h + i) * w + j) * c);
      }
    }
  }
  return { shape: x.shape, data: out };
}

/** Each direction's cotangent goes back through the other: the op is a partial permutation. */
export function imageShiftVjp(b: GraphBuilder, node: Node<'image_shift'>, g: number): (number | null)[] {
  return [b.emit('image_shift', [g, node.srcs[1]!], { adjoint: !node.params.adjoint }), null];
}
