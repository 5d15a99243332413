/**
 * The initializers the layer library added: constant, random_normal/uniform, lecun_normal,
 * orthogonal, and PyTorch's default (pytorch_uniform).
 */
import { describe, expect, it } from 'vitest';
import { fillInitializer } from '../../src/runtime/init.js';
import { Rng } from '../../src/runtime/rng.js';
import type { InitializerSpec } from '../../src/runtime/spec.js';
import { initialParameterValues } from '../../src/runtime/init.js';
import { compile } from '../../src/compile.js';

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

  it('pytorch_uniform is kaiming_uniform(a = √5): U(±1/√fan_in), deviation 1/√(3·fan_in)', () => {
    const bound = 1 / Math.sqrt(64);
    const m = moments(fill({ kind: 'pytorch_uniform', fanIn: 64 }, 40_000));
    expect(m.min).toBeGreaterThanOrEqual(-bound);
    expect(m.max).toBeLessThanOrEqual(bound);
    // The extremes come close to the bound: not a narrower draw.
    expect(m.max).toBeGreaterThan(0.99 * bound);
    expect(m.min).toBeLessThan(-0.99 * bound);
    expect(Math.abs(m.mean)).toBeLessThan(0.002);
    expect(m.std).toBeCloseTo(bound / Math.sqrt(3), 3);
  });
});

describe("PyTorch's default initialisation on Dense and Conv2D", () => {
  const text = `model Net(x: [6, 6, 3]) -> (y: [5]) {
  c = Conv2D(4, [3, 2], kernel_initializer: pytorch_uniform, bias_initializer: pytorch_uniform)(x)
  y = Dense(5, init: pytorch_uniform, bias_initializer: pytorch_uniform)(Flatten()(c))
}
train Net { data: xor, loss: mse }
`;
  const { compiled, diagnostics } = compile(text, { path: 'm.nnx' });
  it('compiles', () => expect(diagnostics).toEqual([]));
  // fan_in: Conv2D kh·kw·cin = 3·2·3 = 18; Dense the 4·5·4 = 80 flattened features.
  it.each([
    ['conv2d_1/kernel', 18],
    ['conv2d_1/bias', 18],
    ['dense_1/kernel', 80],
    ['dense_1/bias', 80],
  ])('%s draws from U(±1/√%i)', (name, fanIn) => {
    const param = compiled!.spec.params.find((p) => p.name === name)!;
    expect(param.init).toMatchObject({ kind: 'pytorch_uniform', fanIn });
    const values = initialParameterValues(param, 3);
    const bound = 1 / Math.sqrt(fanIn);
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(bound);
    // Widest draw of n uniforms is within bound·(1 − 5/n) almost surely; not all zeros or tiny.
    expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(bound * (1 - 5 / values.length));
  });
});
