import { describe, expect, it } from 'vitest';
import { deriveSeed, hashString, Rng } from '../../src/runtime/rng.js';

function draws(rng: Rng, count: number, draw: (rng: Rng) => number): number[] {
  return Array.from({ length: count }, () => draw(rng));
}

function meanAndStd(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}

describe('Rng', () => {
  it('gives the same stream for the same seed and different streams for different seeds', () => {
    const first = draws(new Rng(42), 100, (rng) => rng.nextUint32());
    expect(draws(new Rng(42), 100, (rng) => rng.nextUint32())).toEqual(first);
    expect(draws(new Rng(43), 100, (rng) => rng.nextUint32())).not.toEqual(first);
    expect(draws(new Rng(42 + 2 ** 32), 100, (rng) => rng.nextUint32())).not.toEqual(first);
  });

  // Values from an independent Python splitmix32 + xoshiro128** implementation.
  it('pins the stream of seed 0, so that checkpoints and shuffles stay reproducible across versions', () => {
    expect(draws(new Rng(0), 4, (rng) => rng.nextUint32())).toMatchInlineSnapshot(`
      [
        3809008728,
        1133695204,
        53579671,
        2891528803,
      ]
    `);
  });

  it('draws uniforms in [0, 1) with mean 1/2 and variance 1/12', () => {
    const values = draws(new Rng(1), 50_000, (rng) => rng.uniform());
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const { mean, std } = meanAndStd(values);
    expect(mean).toBeCloseTo(0.5, 2);
    expect(std).toBeCloseTo(Math.sqrt(1 / 12), 2);
  });

  it('draws normals with the requested mean and deviation', () => {
    const values = draws(new Rng(2), 50_000, (rng) => rng.normal(3, 2));
    const { mean, std } = meanAndStd(values);
    expect(Math.abs(mean - 3)).toBeLessThan(0.05);
    expect(Math.abs(std - 2)).toBeLessThan(0.05);
    expect(values.every(Number.isFinite)).toBe(true);
  });

  it('shuffles into a permutation, deterministically', () => {
    const shuffled = new Rng(3).shuffle(Uint32Array.from({ length: 50 }, (_, i) => i));
    expect([...shuffled].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(shuffled).toEqual(new Rng(3).shuffle(Uint32Array.from({ length: 50 }, (_, i) => i)));
    expect([...shuffled]).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('rejects seeds that are not safe integers', () => {
    expect(() => new Rng(0.5)).toThrow('seed must be a safe integer, got 0.5');
  });
});

describe('deriveSeed', () => {
  it('gives each label its own stream under a seed', () => {
    expect(deriveSeed(0, 'dense/kernel')).toBe(deriveSeed(0, 'dense/kernel'));
    expect(deriveSeed(0, 'dense/kernel')).not.toBe(deriveSeed(0, 'dense/bias'));
    expect(deriveSeed(0, 'dense/kernel')).not.toBe(deriveSeed(1, 'dense/kernel'));
  });

  it('hashes strings with FNV-1a', () => {
    expect(hashString('')).toBe(0x811c9dc5);
    expect(hashString('a')).toBe(0xe40c292c);
  });
});
