/**
 * The noise a GAN's steps draw on the GPU: normal by Box–Muller from two counter-based uniforms
 * (or uniform in [−1, 1)), the same numbers on the adapter as in the interpreter, with the
 * moments of the distribution it claims, and new numbers when the counter or the model's seed moves.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { interpretOutputs } from '../../../src/ir/interpret.js';
import { drawNoise } from '../../../src/ir/train/gan.js';
import type { NoiseKind } from '../../../src/bind/gan.js';
import { runGraphOnGpu } from '../../gpu.js';

const ROWS = 3001;

function noiseGraph(kind: NoiseKind) {
  const b = new GraphBuilder();
  // A data input, so that the GPU harness uploads it (a step's counter is state on the GPU).
  const counter = b.input('noise/step', 'data', []);
  const seed = b.input('random/seed', 'data', []);
  b.output('z', drawNoise(b, { counter, seed }, [ROWS, 2], kind, 'noise/test'), 'prediction');
  return b.build();
}

function reference(kind: NoiseKind, step: number, seed = 0): Float64Array {
  const inputs = new Map([
    ['noise/step', { shape: [], data: Float64Array.of(step) }],
    ['random/seed', { shape: [], data: Float64Array.of(seed) }],
  ]);
  return interpretOutputs(noiseGraph(kind), inputs).get('z')!.data as Float64Array;
}

const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, v) => a + v, 0) / xs.length;

describe('GAN noise', () => {
  it('is standard normal in the interpreter, and moves with the counter', () => {
    const z = reference('normal', 7);
    const m = mean(z);
    const variance = mean(Array.from(z, (v) => (v - m) ** 2));
    expect(Math.abs(m)).toBeLessThan(0.04);
    expect(Math.abs(variance - 1)).toBeLessThan(0.06);
    // About 68.3% within one deviation, 95.4% within two.
    expect(Math.abs(mean(Array.from(z, (v) => (Math.abs(v) < 1 ? 1 : 0))) - 0.683)).toBeLessThan(0.02);
    expect(Math.abs(mean(Array.from(z, (v) => (Math.abs(v) < 2 ? 1 : 0))) - 0.954)).toBeLessThan(0.01);
    expect(z.every(Number.isFinite)).toBe(true);
    const next = reference('normal', 8);
    expect(next.filter((v, i) => v === z[i]).length).toBeLessThan(5);
  });

  it('is uniform in [-1, 1) when asked', () => {
    const z = reference('uniform', 3);
    expect(Math.min(...z)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...z)).toBeLessThan(1);
    expect(Math.abs(mean(z))).toBeLessThan(0.03);
    expect(Math.abs(mean(Array.from(z, (v) => v * v)) - 1 / 3)).toBeLessThan(0.02);
  });

  it('draws the same numbers on the adapter as in the interpreter, for each model seed', async () => {
    for (const [kind, seed] of [
      ['normal', 0],
      ['uniform', 0],
      ['normal', 12345],
    ] as const) {
      const values = new Map([
        ['noise/step', Float32Array.of(5)],
        ['random/seed', Float32Array.of(seed)],
      ]);
      const got = (await runGraphOnGpu(noiseGraph(kind), values)).get('z')!;
      const want = reference(kind, 5, seed);
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++)
        expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(2e-4 * Math.max(1, Math.abs(want[i]!)));
    }
    const unseeded = reference('normal', 5);
    expect(reference('normal', 5, 1).filter((v, i) => v === unseeded[i]).length).toBeLessThan(5);
  });
});
