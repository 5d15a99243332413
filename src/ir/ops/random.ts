/**
 * Counter-based random numbers, the same bits on the CPU and in every codegen target: element i of a
 * `random_uniform` node with salt s, reading counter t and seed k, is hash(s ⊕ k, t, i) mapped
 * to [0, 1). Both are GPU state: the training step increments the counter, so each step draws new
 * numbers with no host work, and the runtime writes the model's seed, so seeds draw different
 * streams (seed 0 leaves the salt as it is). A run is reproducible from its checkpoint.
 */
import type { GraphBuilder } from '../builder.js';
import type { Shape } from '../graph.js';
import { type DType, type Tensor, allocate } from '../tensor.js';

/** PCG's output permutation as a u32 → u32 hash (Jarzynski & Olano, "Hash functions for GPU rendering"). */
export function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** The u32 drawn for element `i` at counter `t` under `salt`. */
export function randomBits(salt: number, t: number, i: number): number {
  return pcgHash((i ^ pcgHash((t ^ pcgHash(salt)) >>> 0)) >>> 0);
}

/** The top 24 bits as a float in [0, 1): exact in f32. */
export function bitsToUnit(bits: number): number {
  return (bits >>> 8) / 16777216;
}

/** A salt for a name (a layer path), so layers draw independent streams: FNV-1a, 32 bits. */
export function saltOf(name: string, seed = 0): number {
  let h = (2166136261 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** The counter (or seed) as the u32 the kernel sees: an f32 holding a non-negative integer. */
export function counterValue(v: number): number {
  return Math.max(0, Math.trunc(v)) >>> 0;
}

export function randomUniformShape(srcs: readonly Shape[], p: { shape: Shape }): Shape | { error: string } {
  const [counter, seed] = srcs;
  if (srcs.length !== 2 || counter!.length !== 0 || seed!.length !== 0)
    return {
      error: `random_uniform takes a scalar counter and a scalar seed, got shapes ${srcs.map((s) => `[${s.join(',')}]`).join(', ')}`,
    };
  return p.shape;
}

export function randomUniformReference(
  counter: Tensor,
  seed: Tensor,
  salt: number,
  shape: readonly number[],
  dtype: DType,
): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = allocate(dtype, n);
  const t = counterValue(counter.data[0]!);
  const seeded = (salt ^ counterValue(seed.data[0]!)) >>> 0;
  for (let i = 0; i < n; i++) out[i] = bitsToUnit(randomBits(seeded, t, i));
  return { shape, data: out };
}

/**
 * Box–Muller as IR: a standard normal from two uniform draws in [0, 1) of the same shape
 * (1 − u1 is in (0, 1], so the logarithm is finite). GAN noise and the `noise` augmentation.
 */
export function standardNormal(b: GraphBuilder, u1: number, u2: number): number {
  const radius = b.unary('sqrt', b.mul(b.constant(-2), b.unary('log', b.sub(b.constant(1), u1))));
  return b.mul(radius, b.unary('cos', b.mul(b.constant(2 * Math.PI), u2)));
}
