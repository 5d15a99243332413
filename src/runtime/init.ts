/**
 * Parameter initializers, as Keras defines them (and PyTorch's default, `pytorch_uniform`). Each parameter draws from its own stream, derived
 * from the model seed and the parameter's name, so adding a parameter leaves the others unchanged.
 */

import { deriveSeed, Rng } from './rng.js';
import type { InitializerSpec, ParamSpec, StateSlot } from './spec.js';

/**
 * Keras draws "truncated normal" weights from a normal cut at two standard deviations and divides
 * the target deviation by this, the deviation of a unit normal truncated to [-2, 2], so that the
 * values drawn have the target deviation.
 */
export const TRUNCATED_NORMAL_STD_CORRECTION = 0.8796256610342398;

/** The number of elements of a tensor of this shape. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((count, dim) => count * dim, 1);
}

/**
 * The initial value of a state slot: zeros, or for the seed slot the model's seed modulo 2^24
 * (the integers an f32 holds exactly; the kernels mix it into each random draw's salt).
 */
export function initialStateValues(slot: StateSlot, modelSeed: number): Float32Array {
  const values = new Float32Array(elementCount(slot.shape));
  if (slot.init === 'seed') values.fill(((modelSeed % SEED_MODULUS) + SEED_MODULUS) % SEED_MODULUS);
  return values;
}

const SEED_MODULUS = 1 << 24;

/** The initial values of `param` for a model seeded with `modelSeed`. */
export function initialParameterValues(param: ParamSpec, modelSeed: number): Float32Array {
  const rng = new Rng(deriveSeed(modelSeed, param.name));
  try {
    return fillInitializer(param.init, elementCount(param.shape), rng, param.shape);
  } catch (error) {
    throw new Error(`parameter '${param.name}': ${(error as Error).message}`, { cause: error });
  }
}

/**
 * `count` values drawn as `init` says, from `rng`. `shape` (the parameter's) gives `orthogonal`
 * its matrix: the last dimension is the columns, the rest flattened are the rows (as Keras).
 */
export function fillInitializer(
  init: InitializerSpec,
  count: number,
  rng: Rng,
  shape: readonly number[] = [count],
): Float32Array {
  const values = new Float32Array(count);
  switch (init.kind) {
    case 'zeros':
      return values;
    case 'ones':
      return values.fill(1);
    case 'constant':
      return values.fill(init.value ?? 0);
    case 'random_normal':
      for (let i = 0; i < count; i++) values[i] = rng.normal(init.value ?? 0, init.scale ?? 0.05);
      return values;
    case 'random_uniform':
      fillUniform(values, init.scale ?? 0.05, rng);
      return init.value ? values.map((v) => v + init.value!) : values;
    case 'lecun_normal':
      return fillTruncatedNormal(values, Math.sqrt(1 / positiveFan(init.fanIn, 'fanIn')), rng);
    case 'orthogonal': {
      const cols = shape[shape.length - 1] ?? 1;
      return fillOrthogonal(values, count / cols, cols, init.scale ?? 1, rng);
    }
    case 'glorot_uniform':
      return fillUniform(values, Math.sqrt(6 / fanSum(init)), rng);
    case 'glorot_normal':
      return fillTruncatedNormal(values, Math.sqrt(2 / fanSum(init)), rng);
    case 'he_uniform':
      return fillUniform(values, Math.sqrt(6 / positiveFan(init.fanIn, 'fanIn')), rng);
    case 'he_normal':
      return fillTruncatedNormal(values, Math.sqrt(2 / positiveFan(init.fanIn, 'fanIn')), rng);
    case 'pytorch_uniform':
      // kaiming_uniform(a = √5): gain √(2/(1 + 5)) times √(3/fan_in) is 1/√fan_in; PyTorch
      // draws its biases from the same bound with the layer's fan_in.
      return fillUniform(values, 1 / Math.sqrt(positiveFan(init.fanIn, 'fanIn')), rng);
    default:
      return assertNever(init.kind);
  }
}

function fillUniform(values: Float32Array, limit: number, rng: Rng): Float32Array {
  for (let i = 0; i < values.length; i++) values[i] = rng.uniformIn(-limit, limit);
  return values;
}

/** Normal draws cut at two deviations and redrawn, whose resulting deviation is `targetStd`. */
function fillTruncatedNormal(values: Float32Array, targetStd: number, rng: Rng): Float32Array {
  const std = targetStd / TRUNCATED_NORMAL_STD_CORRECTION;
  for (let i = 0; i < values.length; i++) {
    let draw = rng.normal(0, std);
    while (Math.abs(draw) > 2 * std) draw = rng.normal(0, std);
    values[i] = draw;
  }
  return values;
}

/**
 * A rows×cols matrix with orthonormal columns (or rows, when there are fewer rows than columns)
 * times `gain`: Gram–Schmidt on a normal draw, which equals Keras' QR with the signs of R's
 * diagonal made positive.
 */
function fillOrthogonal(
  values: Float32Array,
  rows: number,
  cols: number,
  gain: number,
  rng: Rng,
): Float32Array {
  const tall = rows >= cols;
  const [n, k] = tall ? [rows, cols] : [cols, rows];
  // k vectors of length n, orthonormalised in turn.
  const q = Array.from({ length: k }, () => Float64Array.from({ length: n }, () => rng.normal(0, 1)));
  for (let j = 0; j < k; j++) {
    const v = q[j]!;
    for (let i = 0; i < j; i++) {
      const u = q[i]!;
      let dot = 0;
      for (let t = 0; t < n; t++) dot += u[t]! * v[t]!;
      for (let t = 0; t < n; t++) v[t]! -= dot * u[t]!;
    }
    let norm = 0;
    for (let t = 0; t < n; t++) norm += v[t]! * v[t]!;
    norm = Math.sqrt(norm);
    for (let t = 0; t < n; t++) v[t]! /= norm;
  }
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) values[r * cols + c] = gain * (tall ? q[c]![r]! : q[r]![c]!);
  return values;
}

function fanSum(init: InitializerSpec): number {
  return positiveFan(init.fanIn, 'fanIn') + positiveFan(init.fanOut, 'fanOut');
}

function positiveFan(fan: number, which: 'fanIn' | 'fanOut'): number {
  if (!(Number.isFinite(fan) && fan > 0)) {
    throw new Error(`initializer needs a positive ${which}, got ${fan}`);
  }
  return fan;
}

function assertNever(kind: never): never {
  throw new Error(`unknown initializer kind '${String(kind)}'`);
}
