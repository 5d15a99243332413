/**
 * What every wasm kernel is written with: the module context (where each buffer lives in linear
 * memory, the helper functions), the kernel's output type, and the writer of a fused kernel's
 * member expressions into f32 locals, the wasm twin of the WGSL `KernelWriter`.
 */
import { type Graph, type Node, isBinary, isUnary } from '../../ir/graph.js';
import type { FusedKernel } from '../../ir/passes/fuse.js';
import { broadcastStrides } from '../../ir/tensor.js';
import { contiguousStrides } from '../wgsl/builder.js';
import { F32, FunctionBody, I32 } from './encoder.js';
import { WASM_BINARY, WASM_UNARY } from './ops.js';

/** Where things are in the module being written. */
export interface WasmContext {
  /** Byte address of each buffer in linear memory. */
  readonly address: (buffer: number) => number;
  /** Byte address of the scratch region kernels may use while they run (packed operands). */
  readonly scratch: number;
  /** Function index of `random_unit(salt, t, i) -> f32`. */
  readonly randomUnit: number;
  /** Adds a kernel phase `(thread, threads)` to the module (once per distinct body); its function index. */
  readonly phaseFunction: (body: FunctionBody) => number;
}

/**
 * A kernel as wasm functions `(thread, threads)`, run in order with a barrier between them
 * (a matmul packs its B operand, then multiplies). Each splits its work by the thread index.
 */
export interface WasmKernel {
  readonly name: string;
  readonly phases: readonly FunctionBody[];
  /** Bytes of scratch the kernel needs. */
  readonly scratchBytes: number;
}

/** The parameters of every kernel phase: the thread index and the thread count. */
export const THREAD = 0;
export const THREADS = 1;
export function kernelFunction(): FunctionBody {
  return new FunctionBody([I32, I32]);
}

/**
 * Sets `lo` and `hi` to this thread's share of `0..n`: equal chunks of `n / threads` rounded up
 * to a multiple of `align`, the last shorter.
 */
export function threadRange(f: FunctionBody, n: number, lo: number, hi: number, align = 1): void {
  const chunk = f.local(I32);
  // chunk = ceil(ceil(n / align) / threads) · align
  f.i32(Math.ceil(n / align))
    .get(THREADS)
    .op(0x6a)
    .i32(1)
    .op(0x6b)
    .get(THREADS)
    .op(0x6e);
  f.i32(align).op(0x6c).set(chunk);
  minI32(f, () => f.get(THREAD).get(chunk).op(0x6c), n).set(lo);
  minI32(f, () => f.get(lo).get(chunk).op(0x6a), n).set(hi);
}

/** Loops `index` over this thread's share of 0..n (see {@link threadRange}), running `body` for each. */
export function forThreadShare(f: FunctionBody, n: number, index: number, body: () => void): void {
  const [lo, hi] = [f.local(I32), f.local(I32)];
  threadRange(f, n, lo, hi);
  f.forRange(
    index,
    () => f.get(lo),
    () => f.get(hi),
    body,
  );
}

/** Pushes min(value(), limit) as unsigned i32. */
function minI32(f: FunctionBody, value: () => void, limit: number): FunctionBody {
  value();
  const v = f.local(I32);
  f.tee(v).i32(limit).get(v).i32(limit).op(0x49 /* lt_u */).select();
  return f;
}

/** Values and indices already computed in one block, by key. */
export class Scope {
  readonly cache: Map<string, number>;
  constructor(outer?: Scope) {
    this.cache = new Map(outer?.cache);
  }
}

/** An i32 local holding an element index, with a key naming what it computes (for caching). */
export interface Index {
  readonly local: number;
  readonly key: string;
}

/** Pushes the byte address of element `index` (an i32 local) of a buffer: the address is the memarg offset. */
export function pushByteOffset(f: FunctionBody, index: number): FunctionBody {
  return f.get(index).i32(2).op(0x74 /* shl */);
}

/** Emits a fused kernel's member expressions and stores into one function. */
export class FusedWriter {
  /** The f32 local holding the anchor's value once computed, while emitting its epilogue. */
  anchorValue: number | undefined;

  constructor(
    readonly f: FunctionBody,
    readonly g: Graph,
    readonly k: FusedKernel,
    readonly bufferOf: ReadonlyMap<number, number>,
    readonly ctx: WasmContext,
  ) {}

  /** Byte address of the buffer holding stored value `id`. */
  addressOf(id: number): number {
    return this.ctx.address(this.bufferOf.get(id)!);
  }

  /** An index local for element `index` of a source read with `strides` over `outShape`. */
  offset(outShape: readonly number[], strides: readonly number[], index: Index, scope: Scope): Index {
    const own = contiguousStrides(outShape);
    if (strides.every((s, d) => s === own[d] || outShape[d] === 1)) return index;
    const key = `${index.key}|${outShape.join(',')}|${strides.join(',')}`;
    const hit = scope.cache.get(key);
    if (hit !== undefined) return { local: hit, key };
    const f = this.f;
    const local = f.local(I32);
    f.i32(0);
    outShape.forEach((size, d) => {
      const s = strides[d]!;
      if (s === 0 || size === 1) return;
      f.get(index.local);
      if (own[d] !== 1) f.i32(own[d]!).op(0x6e /* div_u */);
      if (d !== 0) f.i32(size).op(0x70 /* rem_u */);
      if (s !== 1) f.i32(s).op(0x6c);
      f.op(0x6a);
    });
    f.set(local);
    scope.cache.set(key, local);
    return { local, key };
  }

  /** An index local holding `base + delta` (a constant), cached. */
  shifted(index: Index, delta: number, scope: Scope): Index {
    if (delta === 0) return index;
    const key = `${index.key}+${delta}`;
    const hit = scope.cache.get(key);
    if (hit !== undefined) return { local: hit, key };
    const local = this.f.local(I32);
    this.f.get(index.local).i32(delta).op(0x6a).set(local);
    scope.cache.set(key, local);
    return { local, key };
  }

  /** An f32 local holding the value of node `id` at element `index` of its own shape. */
  valueAt(id: number, index: Index, scope: Scope): number {
    const n = this.g.nodes[id]!;
    const f = this.f;
    if (id === this.k.anchor && this.anchorValue !== undefined) return this.anchorValue;
    const key = `v${id}@${index.key}`;
    const hit = scope.cache.get(key);
    if (hit !== undefined) return hit;
    if (n.op === 'const') {
      const local = f.local(F32);
      f.f32(n.params.value).set(local);
      scope.cache.set(key, local);
      return local;
    }
    if (!this.k.members.has(id)) {
      const local = f.local(F32);
      pushByteOffset(f, index.local).loadF32(this.addressOf(id)).set(local);
      scope.cache.set(key, local);
      return local;
    }
    const remapped = this.remap(n, index, scope);
    if (remapped !== undefined) return remapped;
    this.pushComputed(n, index, scope);
    const local = f.local(F32);
    f.set(local);
    scope.cache.set(key, local);
    return local;
  }

  /** Index remaps are reads elsewhere: the source's value at the remapped index. */
  private remap(n: Node, index: Index, scope: Scope): number | undefined {
    const shape = n.shape as number[];
    const src = this.g.nodes[n.srcs[0]!]!;
    switch (n.op) {
      case 'broadcast':
        return this.valueAt(
          src.id,
          this.offset(shape, broadcastStrides(src.shape as number[], shape), index, scope),
          scope,
        );
      case 'reshape':
        return this.valueAt(src.id, index, scope);
      case 'transpose': {
        const own = contiguousStrides(src.shape as number[]);
        const strides = n.params.perm.map((p) => own[p]!);
        return this.valueAt(src.id, this.offset(shape, strides, index, scope), scope);
      }
      default:
        return undefined;
    }
  }

  private pushComputed(n: Node, index: Index, scope: Scope): void {
    const f = this.f;
    const shape = n.shape as number[];
    const broadcastSrc = (k: number) => {
      const s = this.g.nodes[n.srcs[k]!]!;
      return this.valueAt(
        s.id,
        this.offset(shape, broadcastStrides(s.shape as number[], shape), index, scope),
        scope,
      );
    };
    if (isUnary(n.op)) return void WASM_UNARY[n.op](f, broadcastSrc(0));
    if (isBinary(n.op)) {
      const a = broadcastSrc(0);
      return void WASM_BINARY[n.op](f, a, broadcastSrc(1));
    }
    switch (n.op) {
      case 'random_uniform': {
        // Counter and seed are scalars; same bits as the reference and the WGSL kernel.
        const counter = broadcastSrc(0);
        const seed = broadcastSrc(1);
        f.i32(n.params.salt);
        pushCounterValue(f, seed).op(0x73 /* xor */);
        pushCounterValue(f, counter);
        f.get(index.local).call(this.ctx.randomUnit);
        return;
      }
      case 'iota': {
        const { axis } = n.params;
        const stride = contiguousStrides(shape)[axis]!;
        f.get(index.local).i32(stride).op(0x6e).i32(shape[axis]!).op(0x70).op(0xb3 /* f32.convert_i32_u */);
        return;
      }
      default:
        throw new Error(`internal: ${n.op} cannot be computed inside a fused kernel`);
    }
  }

  /** Computes every root at `index` (in a fresh scope inside `outer`), then stores them. */
  storeRoots(index: Index, outer?: Scope): void {
    const scope = new Scope(outer);
    const values = this.k.roots.map((r) => this.valueAt(r, index, scope));
    this.k.roots.forEach((r, i) => {
      pushByteOffset(this.f, index.local).get(values[i]!).storeF32(this.addressOf(r));
    });
  }
}

/** Pushes the counter (or seed) stored as an f32 holding a non-negative integer, as an i32. */
export function pushCounterValue(f: FunctionBody, v: number): FunctionBody {
  return f.get(v).f32(0).op(0x97 /* max */).op(0xfc, 0x01 /* i32.trunc_sat_f32_u */);
}
