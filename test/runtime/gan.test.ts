/**
 * One GAN alternation on the adapter against the reference interpreter running the same step
 * graphs: the discriminator step changes the discriminator's parameters (as the interpreter
 * says) and leaves the generator's bit for bit; the generator step does the opposite, though
 * its gradient flows through the discriminator. Also the noise the GPU draws, and `generate`.
 */
import { describe, expect, it } from 'vitest';
import { interpretTrainSteps } from '../codegen/step-oracle.js';
import { compileGan } from '../../src/compile.js';
import { interpretOutputs } from '../../src/ir/interpret.js';
import { NnxGan } from '../../src/runtime/index.js';
import { randomArray, seededRandom } from '../ir/random.js';

const SOURCE = `
sequential G(z: [3]) {
  Dense(6, activation: leaky_relu)
  Dense(4, activation: tanh)
}
sequential D(x: [4]) {
  Dense(5, activation: leaky_relu)
  Dense(1, activation: sigmoid)
}
gan Pair {
  generator: G
  discriminator: D
  data: mnist
  data_range: [-1, 1]
  optimizer: Adam(lr: 0.01, beta_1: 0.5)
  batch: 7
}
`;

type Weights = ReadonlyMap<string, Float32Array>;

/** Parameter names whose values differ between `a` and `b`, by side. */
function changed(a: Weights, b: Weights): { generator: number; discriminator: number } {
  const count = { generator: 0, discriminator: 0 };
  for (const [name, w] of a) {
    const side = name.startsWith('generator/') ? 'generator' : 'discriminator';
    count[side] += w.filter((v, i) => v !== b.get(name)![i]).length;
  }
  return count;
}

function expectClose(
  gpu: Weights,
  want: ReadonlyMap<string, { data: ArrayLike<number> }>,
  prefix: string,
): void {
  for (const [name, w] of gpu) {
    if (!name.startsWith(prefix)) continue;
    const expected = want.get(name)!.data;
    for (let i = 0; i < w.length; i++)
      expect(Math.abs(w[i]! - expected[i]!)).toBeLessThan(2e-5 * Math.max(1, Math.abs(expected[i]!)));
  }
}

describe('one GAN alternation on the GPU', () => {
  it('updates only the discriminator, then only the generator, as the interpreter does', async () => {
    const { compiled, diagnostics } = compileGan(SOURCE);
    expect(diagnostics).toEqual([]);
    const { spec, optimized } = compiled!;
    const gan = await NnxGan.create(spec, { seed: 4 });
    const rand = seededRandom(3);
    const x = Float32Array.from(randomArray(rand, 7 * 4, 0, 1));
    const w0 = await gan.getWeights();

    gan.trainDiscriminatorStep(x);
    const w1 = await gan.getWeights();
    const afterD = interpretTrainSteps(optimized.discriminator, w0, { x }, 7, 1, 4);
    expect(changed(w0, w1)).toEqual({ generator: 0, discriminator: expect.any(Number) });
    expect(changed(w0, w1).discriminator).toBeGreaterThan(30); // of 31 discriminator values
    expectClose(w1, afterD, 'discriminator/');

    gan.trainGeneratorStep();
    const w2 = await gan.getWeights();
    // The counter the D step incremented decides the G step's noise.
    const state = new Map([...w1, ['noise/step', afterD.get('noise/step')!.data as Float32Array]]);
    expect(Array.from(state.get('noise/step')!)).toEqual([1]);
    const afterG = interpretTrainSteps(optimized.generator, state, {}, 7, 1, 4);
    expect(changed(w1, w2)).toEqual({ generator: expect.any(Number), discriminator: 0 });
    expect(changed(w1, w2).generator).toBeGreaterThan(45); // of 52 generator values
    expectClose(w2, afterG, 'generator/');

    // Each side's loss is accumulated: a fresh D scores about half, so both are near ln 2 per term.
    const { d_loss, g_loss } = await gan.losses();
    expect(d_loss).toBeGreaterThan(1);
    expect(d_loss).toBeLessThan(2);
    expect(g_loss).toBeGreaterThan(0.3);
    expect(g_loss).toBeLessThan(1.5);

    // generate runs the generator alone: the interpreter gives the same samples from the same noise.
    const z = Float32Array.from(randomArray(rand, 9 * 3));
    const samples = await gan.generate(z);
    const inputs = new Map(spec.params.map((p) => [p.name, { shape: p.shape, data: w2.get(p.name)! }]));
    inputs.set('z', { shape: [7, 3], data: z.subarray(0, 7 * 3) });
    const out = interpretOutputs(optimized.generate, inputs, { dtype: 'f32' }).get('output')!.data;
    for (let i = 0; i < 7 * 4; i++) expect(Math.abs(samples[i]! - out[i]!)).toBeLessThan(1e-5);
    expect(samples.length).toBe(9 * 4);
    expect(samples.every((v) => v > -1 && v < 1)).toBe(true);
    gan.destroy();
  });
});
