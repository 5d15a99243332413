/** The initializers the layer library added: constant, random_normal/uniform, lecun_normal, orthogonal. */
import { describe, expect, it } from 'vitest';
import { fillInitializer } from '../../src/runtime/init.js';
import { Rng } from '../../src/runtime/rng.js';
import type { InitializerSpec } from '../../src/runtime/spec.js';

function moments(values: Float32Array): { mean: number; std: number; min: number; max: number } {
  const mean = values.reduce((a, v) => a + v, 0) / values.length;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance), min: Math.min(...values), max: Math.max(...values) };
}

const fill = (
  init: Partial<InitializerSpec> & Pick<InitializerSpec, 'kind'>,
  count: number,
  shape?: number[],
) => fillInitializer({ fanIn: 100, fanOut: 10, ...init }, count, new Rng(9), shape);

describe('layer-library initializers', () => {
  it('constant fills its value', () => {
    expect(Array.from(fill({ kind: 'constant', value: 0.25 }, 5))).toEqual([0.25, 0.25, 0.25, 0.25, 0.25]);
  });
  it('random_normal has Keras’ default deviation 0.05, or the one given', () => {
    const m = moments(fill({ kind: 'random_normal' }, 20_000));
    expect(Math.abs(m.mean)).toBeLessThan(0.002);
    expect(m.std).toBeCloseTo(0.05, 2);
    const shifted = moments(fill({ kind: 'random_normal', value: 1, scale: 0.5 }, 20_000));
    expect(shifted.mean).toBeCloseTo(1, 1);
    expect(shifted.std).toBeCloseTo(0.5, 1);
  });
  it('random_uniform draws from [value − scale, value + scale]', () => {
    const m = moments(fill({ kind: 'random_uniform', value: 2, scale: 0.5 }, 20_000));
    expect(m.min).toBeGreaterThanOrEqual(1.5);
    expect(m.max).toBeLessThanOrEqual(2.5);
    expect(m.mean).toBeCloseTo(2, 1);
  });
  it('lecun_normal has deviation √(1/fan_in), truncated at two deviations', () => {
    const m = moments(fill({ kind: 'lecun_normal', fanIn: 25 }, 40_000));
    expect(m.std).toBeCloseTo(0.2, 2);
    expect(Math.max(-m.min, m.max)).toBeLessThanOrEqual((2 * 0.2) / 0.8796256610342398 + 1e-6);
  });
  it.each([
    [6, 4],
    [3, 5],
  ])('orthogonal [%i, %i] has orthonormal columns (or rows) times the gain', (rows, cols) => {
    const gain = 1.5;
    const w = fill({ kind: 'orthogonal', scale: gain }, rows * cols, [rows, cols]);
    const [n, k] = rows >= cols ? [rows, cols] : [cols, rows];
    const at = (i: number, j: number) => (rows >= cols ? w[i * cols + j]! : w[j * cols + i]!);
    for (let a = 0; a < k; a++)
      for (let b = 0; b < k; b++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += at(i, a) * at(i, b);
        expect(dot).toBeCloseTo(a === b ? gain * gain : 0, 5);
      }
  });
});
