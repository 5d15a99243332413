/**
 * A GAN on the wasm backend: its discriminator step, generator step and `generate` give what
 * the reference interpreter gives on the same step graphs, and what the same GAN gives on
 * WebGPU, within f32 rounding. The noise the generator step draws and the Dropout masks come
 * from the kernels' counters, so a draw that differed between backends would move the weights
 * far beyond these tolerances. A short `fit` ends with the same losses on both.
 */
import { describe, expect, it } from 'vitest';
import { interpretTrainSteps } from '../codegen/step-oracle.js';
import { compileGan } from '../../src/compile.js';
import { interpretOutputs } from '../../src/ir/interpret.js';
import { NnxGan, type GanSpec } from '../../src/runtime/index.js';
import { randomArray, seededRandom } from '../ir/random.js';

const SOURCE = `
sequential G(z: [3]) {
  Dense(6, use_bias: false)
  BatchNormalization(momentum: 0.5)
  Activation(leaky_relu)
  Dense(4, activation: tanh)
}
sequential D(x: [4]) {
  Dense(5, activation: leaky_relu)
  Dropout(0.4)
  Dense(1, activation: sigmoid)
}
gan Pair {
  generator: G
  discriminator: D
  data: mnist
  data_range: [-1, 1]
  noise: uniform
  optimizer: Adam(lr: 0.01, beta_1: 0.5)
  batch: 7
}
`;

type Weights = ReadonlyMap<string, Float32Array>;

/** Every value of `got` within f32 rounding of `want` (relative to values above 1). */
function expectNear(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tolerance = 2e-5): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < got.length; i++)
    expect(Math.abs(got[i]! - want[i]!), `${what}[${i}]: ${got[i]} vs ${want[i]}`).toBeLessThan(
      tolerance * Math.max(1, Math.abs(want[i]!)),
    );
}

function expectWeightsNear(got: Weights, want: ReadonlyMap<string, { data: ArrayLike<number> }>): void {
  for (const [name, w] of got) expectNear(w, want.get(name)!.data, name);
}

function compiledWithWasm(source: string): GanSpec {
  const { compiled, diagnostics } = compileGan(source, { wasm: true });
  expect(diagnostics).toEqual([]);
  expect(compiled!.spec.wasm).toHaveProperty('module');
  return compiled!.spec;
}

describe('a GAN on the wasm backend', () => {
  it('runs d_step, g_step and generate as the interpreter does', async () => {
    const { compiled } = compileGan(SOURCE, { wasm: true });
    const { spec, optimized } = compiled!;
    const gan = await NnxGan.create(spec, { seed: 2, backend: 'wasm' });
    expect(gan.backend.kind).toBe('wasm');
    const x = Float32Array.from(randomArray(seededRandom(8), 7 * 4, 0, 1));
    const w0 = await gan.getWeights();

    gan.trainDiscriminatorStep(x);
    const w1 = await gan.getWeights();
    const afterD = interpretTrainSteps(optimized.d_step, w0, { x }, 7, 1, 2);
    expectWeightsNear(w1, afterD);
    expect(w1.get('discriminator/dense_1/kernel')).not.toEqual(w0.get('discriminator/dense_1/kernel'));

    gan.trainGeneratorStep();
    const w2 = await gan.getWeights();
    const state = new Map([
      ...w1,
      ...[...afterD].map(([name, t]) => [name, t.data as Float32Array] as const),
    ]);
    const afterG = interpretTrainSteps(optimized.g_step, state, {}, 7, 1, 2);
    expectWeightsNear(w2, afterG);
    expect(w2.get('generator/dense_1/kernel')).not.toEqual(w1.get('generator/dense_1/kernel'));

    const { d_loss, g_loss } = await gan.losses();
    expect(Number.isFinite(d_loss) && Number.isFinite(g_loss)).toBe(true);

    // Two chunks of the batch of 7, the second partial.
    const z = Float32Array.from(randomArray(seededRandom(9), 9 * 3));
    const samples = await gan.generate(z);
    const inputs = new Map(spec.params.map((p) => [p.name, { shape: p.shape, data: w2.get(p.name)! }]));
    inputs.set('z', { shape: [7, 3], data: z.subarray(0, 7 * 3) });
    const out = interpretOutputs(optimized.generate, inputs, { dtype: 'f32' }).get('output')!.data;
    expectNear(samples.subarray(0, 7 * 4), out, 'samples', 1e-5);
    expect(samples.length).toBe(9 * 4);
    gan.destroy();
  });

  it('gives what WebGPU gives: weights after each step, losses, samples, and a short fit', async () => {
    const spec = compiledWithWasm(SOURCE);
    const [cpu, gpu] = await Promise.all([
      NnxGan.create(spec, { seed: 5, backend: 'wasm' }),
      NnxGan.create(spec, { seed: 5, backend: 'webgpu' }),
    ]);
    expect(gpu.backend.kind).toBe('webgpu');
    const both = async () => Promise.all([cpu.getWeights(), gpu.getWeights()]);
    const [c0, g0] = await both();
    for (const [name, w] of c0) expect(w, name).toEqual(g0.get(name)); // initialised on the host
    const rand = seededRandom(4);
    for (let step = 0; step < 3; step++) {
      const x = Float32Array.from(randomArray(rand, 7 * 4, 0, 1));
      cpu.trainDiscriminatorStep(x);
      gpu.trainDiscriminatorStep(x);
      cpu.trainGeneratorStep();
      gpu.trainGeneratorStep();
    }
    const [c1, g1] = await both();
    for (const [name, w] of c1) expectNear(w, g1.get(name)!, name, 1e-4);
    const [cl, gl] = await Promise.all([cpu.losses(), gpu.losses()]);
    expectNear([cl.d_loss, cl.g_loss], [gl.d_loss, gl.g_loss], 'losses', 1e-4);
    // `generate(n)` draws its noise on the host from the seed: the same rows on both.
    const [cs, gs] = await Promise.all([cpu.generate(10, 3), gpu.generate(10, 3)]);
    expectNear(cs, gs, 'generated', 1e-4);

    const data = { count: 21, samples: Float32Array.from(randomArray(seededRandom(6), 21 * 4, 0, 1)) };
    const [cf, gf] = await Promise.all([cpu.fit(data, { epochs: 2 }), gpu.fit(data, { epochs: 2 })]);
    expect(cf.map((l) => l.epoch)).toEqual([1, 2]);
    for (let i = 0; i < 2; i++)
      expectNear([cf[i]!.d_loss, cf[i]!.g_loss], [gf[i]!.d_loss, gf[i]!.g_loss], `epoch ${i + 1}`, 1e-3);
    cpu.destroy();
    gpu.destroy();
  });

  it('is refused on wasm when compiled without the wasm target, saying how to get it', async () => {
    const { compiled } = compileGan(SOURCE);
    await expect(NnxGan.create(compiled!.spec, { backend: 'wasm' })).rejects.toThrow(
      "NnxGan.create: the wasm backend cannot run this model: GAN 'Pair' was compiled without the wasm target",
    );
  });
});
