/**
 * A small seeded pseudo-random generator: xoshiro128** seeded through splitmix32. The same seed
 * gives the same stream on every platform, which makes initial weights and shuffles reproducible.
 */

const TWO_POW_32 = 0x1_0000_0000;

/** One step of splitmix32: advances `state` and returns a well-mixed 32-bit value. */
function splitmix32(state: { value: number }): number {
  state.value = (state.value + 0x9e3779b9) | 0;
  let z = state.value;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a hash of a string's UTF-16 code units, as an unsigned 32-bit integer. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  }
  return hash >>> 0;
}

/**
 * A seed for an independent stream named `label` under `seed` (a parameter's name, `shuffle` …):
 * adding a stream never changes the numbers of another.
 */
export function deriveSeed(seed: number, label: string): number {
  const state = { value: (splitmix32({ value: seedLowBits(seed) }) ^ hashString(label)) | 0 };
  return splitmix32(state);
}

// Integer seeds above 2^32 still differ in their high bits, so fold those in too.
function seedLowBits(seed: number): number {
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`seed must be a safe integer, got ${seed}`);
  }
  const high = Math.floor(seed / TWO_POW_32);
  return (seed ^ Math.imul(high, 0x9e3779b1)) | 0;
}

function rotateLeft(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}

/** A seeded xoshiro128** generator with uniform and normal draws. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** The second value of the last Box–Muller pair, not yet returned. */
  private spareNormal: number | undefined;

  /** A generator whose stream is fixed by `seed` (any safe integer). */
  constructor(seed: number) {
    const state = { value: seedLowBits(seed) };
    this.s0 = splitmix32(state);
    this.s1 = splitmix32(state);
    this.s2 = splitmix32(state);
    this.s3 = splitmix32(state);
    // xoshiro must not start from all zeros; splitmix32 makes that practically impossible, but be sure.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The generator's position in its stream (four 32-bit words), as checkpoints record it. */
  state(): [number, number, number, number] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** The next unsigned 32-bit integer of the stream. */
  nextUint32(): number {
    const result = Math.imul(rotateLeft(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotateLeft(this.s3, 11);
    return result;
  }

  /** A uniform draw in [0, 1) with 53 random bits. */
  uniform(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** A uniform draw in [low, high). */
  uniformIn(low: number, high: number): number {
    return low + (high - low) * this.uniform();
  }

  /** A uniform integer in [0, count). */
  integerBelow(count: number): number {
    return Math.floor(this.uniform() * count);
  }

  /** A normal draw with the given mean and standard deviation (Box–Muller, pairs cached). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== undefined) {
      const spare = this.spareNormal;
      this.spareNormal = undefined;
      return mean + std * spare;
    }
    // 1 - u lies in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const angle = 2 * Math.PI * this.uniform();
    this.spareNormal = radius * Math.sin(angle);
    return mean + std * radius * Math.cos(angle);
  }

  /** Shuffles `values` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [index: number]: number }>(values: T): T {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.integerBelow(i + 1);
      const held = values[i]!;
      values[i] = values[j]!;
      values[j] = held;
    }
    return values;
  }
}
