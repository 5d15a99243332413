/** Host tensors for the reference interpreter: a bound shape and a flat row-major array. */

export type DType = 'f32' | 'f64';
export type TensorData = Float32Array | Float64Array;

export interface Tensor {
  readonly shape: readonly number[];
  readonly data: TensorData;
}

export function allocate(dtype: DType, size: number): TensorData {
  return dtype === 'f64' ? new Float64Array(size) : new Float32Array(size);
}

export function tensor(shape: readonly number[], data: ArrayLike<number>, dtype: DType = 'f64'): Tensor {
  const out = allocate(dtype, data.length);
  out.set(data);
  return { shape, data: out };
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/**
 * Strides to read a tensor of `shape` as if broadcast to `outShape` (NumPy rules: missing
 * leading dims and size-1 dims get stride 0).
 */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = stridesOf(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((_, i) => {
    const j = i - offset;
    return j < 0 || shape[j] === 1 ? 0 : own[j]!;
  });
}

/** Calls `visit(outIndex, srcOffsets)` for every element of `outShape`. */
export function forEachIndex(
  outShape: readonly number[],
  srcStrides: readonly number[][],
  visit: (i: number, offs: number[]) => void,
): void {
  const rank = outShape.length;
  const size = outShape.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(rank).fill(0);
  const offs = srcStrides.map(() => 0);
  for (let i = 0; i < size; i++) {
    visit(i, offs);
    // Increment the multi-index, updating each source offset incrementally.
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      for (let s = 0; s < offs.length; s++) offs[s]! += srcStrides[s]![d]!;
      if (idx[d]! < outShape[d]!) break;
      for (let s = 0; s < offs.length; s++) offs[s]! -= srcStrides[s]![d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
}
