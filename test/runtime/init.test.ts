import { describe, expect, it } from 'vitest';
import { fillInitializer, initialParameterValues } from '../../src/runtime/init.js';
import { Rng } from '../../src/runtime/rng.js';
import type { InitializerSpec, ParamSpec } from '../../src/runtime/spec.js';

const COUNT = 40_000;

function stats(values: Float32Array): { mean: number; std: number; maxAbs: number } {
  let sum = 0;
  let maxAbs = 0;
  for (const value of values) {
    sum += value;
    maxAbs = Math.max(maxAbs, Math.abs(value));
  }
  const mean = sum / values.length;
  let squares = 0;
  for (const value of values) squares += (value - mean) ** 2;
  return { mean, std: Math.sqrt(squares / values.length), maxAbs };
}

function fill(kind: InitializerSpec['kind'], fanIn: number, fanOut: number): Float32Array {
  return fillInitializer({ kind, fanIn, fanOut }, COUNT, new Rng(5));
}

describe('initializers', () => {
  it('fills zeros and ones', () => {
    expect(fill('zeros', 0, 0).every((value) => value === 0)).toBe(true);
    expect(fill('ones', 0, 0).every((value) => value === 1)).toBe(true);
  });

  it('glorot_uniform stays within sqrt(6 / (fanIn + fanOut)) with a uniform deviation', () => {
    const limit = Math.sqrt(6 / (30 + 70));
    const { mean, std, maxAbs } = stats(fill('glorot_uniform', 30, 70));
    expect(maxAbs).toBeLessThanOrEqual(limit);
    expect(maxAbs).toBeGreaterThan(0.99 * limit);
    expect(Math.abs(mean)).toBeLessThan(0.01 * limit);
    expect(std).toBeCloseTo(limit / Math.sqrt(3), 2);
  });

  it('he_uniform stays within sqrt(6 / fanIn)', () => {
    const limit = Math.sqrt(6 / 50);
    const { maxAbs, std } = stats(fill('he_uniform', 50, 1000));
    expect(maxAbs).toBeLessThanOrEqual(limit);
    expect(std).toBeCloseTo(limit / Math.sqrt(3), 2);
  });

  it('glorot_normal has deviation sqrt(2 / (fanIn + fanOut)), truncated at two pre-truncation deviations', () => {
    const target = Math.sqrt(2 / (30 + 70));
    const { mean, std, maxAbs } = stats(fill('glorot_normal', 30, 70));
    expect(Math.abs(std / target - 1)).toBeLessThan(0.02);
    expect(Math.abs(mean)).toBeLessThan(0.02 * target);
    expect(maxAbs).toBeLessThanOrEqual((2 * target) / 0.8796256610342398);
  });

  it('he_normal has deviation sqrt(2 / fanIn), truncated', () => {
    const target = Math.sqrt(2 / 50);
    const { std, maxAbs } = stats(fill('he_normal', 50, 1));
    expect(Math.abs(std / target - 1)).toBeLessThan(0.02);
    expect(maxAbs).toBeLessThanOrEqual((2 * target) / 0.8796256610342398);
  });

  it('rejects a missing fan with the initializer named', () => {
    expect(() => fill('he_normal', 0, 1)).toThrow('initializer needs a positive fanIn, got 0');
  });
});

describe('initialParameterValues', () => {
  const kernel: ParamSpec = {
    name: 'dense/kernel',
    shape: [4, 8],
    buffer: 0,
    init: { kind: 'glorot_uniform', fanIn: 4, fanOut: 8 },
  };

  it('is deterministic for a seed and differs across seeds', () => {
    expect(initialParameterValues(kernel, 1)).toEqual(initialParameterValues(kernel, 1));
    expect(initialParameterValues(kernel, 1)).not.toEqual(initialParameterValues(kernel, 2));
    expect(initialParameterValues(kernel, 1)).toHaveLength(32);
  });

  it('draws from a stream named by the parameter, independent of other parameters', () => {
    const renamed = { ...kernel, name: 'dense_2/kernel' };
    expect(initialParameterValues(renamed, 1)).not.toEqual(initialParameterValues(kernel, 1));
  });

  it('names the parameter when its initializer is malformed', () => {
    const bad = { ...kernel, init: { kind: 'glorot_normal', fanIn: 4, fanOut: -1 } } as const;
    expect(() => initialParameterValues(bad, 0)).toThrow(
      "parameter 'dense/kernel': initializer needs a positive fanOut, got -1",
    );
  });
});
