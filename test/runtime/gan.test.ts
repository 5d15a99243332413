/**
 * One GAN alternation on the adapter against the reference interpreter running the same step
 * graphs: the discriminator step changes the discriminator's parameters (as the interpreter
 * says) and leaves the generator's bit for bit; the generator step does the opposite, though
 * its gradient flows through the discriminator. Also the noise the GPU draws, and `generate`;
 * and BatchNormalization and Dropout in training mode inside both steps.
 * Checkpoints: a run resumed from one ends bit for bit where an uninterrupted run ends, and a
 * checkpoint that does not fit is refused naming the tensor, changing nothing.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interpretTrainSteps } from '../codegen/step-oracle.js';
import { compileGan } from '../../src/compile.js';
import { interpretOutputs } from '../../src/ir/interpret.js';
import {
  NnxGan,
  decodeSafetensors,
  encodeSafetensors,
  type GanData,
  type GanSpec,
} from '../../src/runtime/index.js';
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
      expect(Math.abs(w[i]! - expected[i]!), `${name}[${i}]: ${w[i]} vs ${expected[i]}`).toBeLessThan(
        2e-5 * Math.max(1, Math.abs(expected[i]!)),
      );
  }
}

describe('one GAN alternation on the GPU', () => {
  it('updates only the discriminator, then only the generator, as the interpreter does', async () => {
    const { compiled, diagnostics } = compileGan(SOURCE);
    expect(diagnostics).toEqual([]);
    const { spec, optimized } = compiled!;
    const gan = await NnxGan.create(spec, { seed: 4, backend: 'webgpu' });
    const rand = seededRandom(3);
    const x = Float32Array.from(randomArray(rand, 7 * 4, 0, 1));
    const w0 = await gan.getWeights();

    gan.trainDiscriminatorStep(x);
    const w1 = await gan.getWeights();
    const afterD = interpretTrainSteps(optimized.d_step, w0, { x }, 7, 1, 4);
    expect(changed(w0, w1)).toEqual({ generator: 0, discriminator: expect.any(Number) });
    expect(changed(w0, w1).discriminator).toBeGreaterThan(30); // of 31 discriminator values
    expectClose(w1, afterD, 'discriminator/');

    gan.trainGeneratorStep();
    const w2 = await gan.getWeights();
    // The counter the D step incremented decides the G step's noise.
    const state = new Map([...w1, ['noise/step', afterD.get('noise/step')!.data as Float32Array]]);
    expect(Array.from(state.get('noise/step')!)).toEqual([1]);
    const afterG = interpretTrainSteps(optimized.g_step, state, {}, 7, 1, 4);
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

describe('a GAN with layers that behave differently in training', () => {
  it('normalizes G by batch and drops out in D, both steps as the interpreter does', async () => {
    // No bias before BatchNormalization, as in DCGAN: its gradient is zero but for rounding,
    // which Adam's normalised step would blow up differently on the two sides.
    const source = SOURCE.replace(
      'Dense(6, activation: leaky_relu)',
      'Dense(6, use_bias: false)\n  BatchNormalization(momentum: 0.5)\n  Activation(leaky_relu)',
    ).replace('Dense(5, activation: leaky_relu)', 'Dense(5, activation: leaky_relu)\n  Dropout(0.4)');
    const { compiled, diagnostics } = compileGan(source);
    expect(diagnostics).toEqual([]);
    const { spec, optimized } = compiled!;
    const gan = await NnxGan.create(spec, { seed: 2, backend: 'webgpu' });
    const x = Float32Array.from(randomArray(seededRandom(8), 7 * 4, 0, 1));
    const w0 = await gan.getWeights();
    const movingMean = 'generator/batch_normalization_1/moving_mean';
    const kernel = 'generator/dense_1/kernel';

    gan.trainDiscriminatorStep(x);
    const w1 = await gan.getWeights();
    const afterD = interpretTrainSteps(optimized.d_step, w0, { x }, 7, 1, 2);
    expectClose(w1, afterD, '');
    // G ran in training mode to make the fakes: its running mean moved, its weights did not.
    expect(w1.get(movingMean)).not.toEqual(w0.get(movingMean));
    expect(w1.get(kernel)).toEqual(w0.get(kernel));
    // D was called twice (real, then fake), each call a new Dropout mask from its own counter.
    expect(Array.from(afterD.get('discriminator/random/step')!.data)).toEqual([2]);

    gan.trainGeneratorStep();
    const w2 = await gan.getWeights();
    const state = new Map([
      ...w1,
      ...[...afterD].map(([name, t]) => [name, t.data as Float32Array] as const),
    ]);
    const afterG = interpretTrainSteps(optimized.g_step, state, {}, 7, 1, 2);
    expectClose(w2, afterG, '');
    expect(w2.get(kernel)).not.toEqual(w1.get(kernel));

    // generate uses the running statistics: the interpreter's inference graph agrees.
    const z = Float32Array.from(randomArray(seededRandom(9), 7 * 3));
    const samples = await gan.generate(z);
    const inputs = new Map(spec.params.map((p) => [p.name, { shape: p.shape, data: w2.get(p.name)! }]));
    inputs.set('z', { shape: [7, 3], data: z });
    const out = interpretOutputs(optimized.generate, inputs, { dtype: 'f32' }).get('output')!.data;
    for (let i = 0; i < 7 * 4; i++) expect(Math.abs(samples[i]! - out[i]!)).toBeLessThan(1e-5);
    gan.destroy();
  });
});

describe('GAN checkpoints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnx-gan-'));

  function pairSpec(): GanSpec {
    const { compiled, diagnostics } = compileGan(SOURCE);
    expect(diagnostics).toEqual([]);
    return compiled!.spec;
  }

  /** 30 random samples: 4 full batches of 7 and two left out. */
  function data(): GanData {
    return { count: 30, samples: Float32Array.from(randomArray(seededRandom(11), 30 * 4, 0, 1)) };
  }

  /** Every parameter and state tensor of a checkpoint as raw bits, by name. */
  function bits(checkpoint: Uint8Array): Map<string, number[]> {
    const file = decodeSafetensors(checkpoint);
    return new Map([...file.tensors].map(([name, t]) => [name, [...new Uint32Array(t.data.buffer)]]));
  }

  it('resumed from a checkpoint, ends bit for bit where an uninterrupted run ends', async () => {
    const spec = pairSpec();
    const uninterrupted = await NnxGan.create(spec, { seed: 3, backend: 'webgpu' });
    const full = await uninterrupted.fit(data(), { epochs: 3 });

    const path = join(dir, 'resume.safetensors');
    const first = await NnxGan.create(spec, { seed: 3, backend: 'webgpu' });
    await first.fit(data(), { epochs: 2, checkpoint: { path } });
    expect(readdirSync(dir)).toEqual(['resume.safetensors']); // no temporary file left behind
    const saved = decodeSafetensors(await first.saveBytes());
    for (const counter of ['noise/step', 'generator/optimizer/step', 'discriminator/optimizer/step'])
      expect(saved.tensors.get(`@state/${counter}`)!.data[0]).toBeGreaterThan(0);

    const resumed = await NnxGan.create(spec, { seed: 77, backend: 'webgpu' }); // other weights: the checkpoint replaces them
    const state = await resumed.load(path);
    expect(state?.epoch).toBe(2);
    const rest = await resumed.fit(data(), { epochs: 3, resume: state });
    expect(rest).toEqual(full.slice(2));
    expect(await resumed.getWeights()).toEqual(await uninterrupted.getWeights());
    expect(bits(await resumed.saveBytes())).toEqual(bits(await uninterrupted.saveBytes()));
    for (const gan of [uninterrupted, first, resumed]) gan.destroy();
  });

  it('writes every N epochs and at the last, and refuses to resume on a dataset of another size', async () => {
    const path = join(dir, 'every.safetensors');
    const gan = await NnxGan.create(pairSpec(), { seed: 3, backend: 'webgpu' });
    const recordedEpoch = () =>
      existsSync(path)
        ? (JSON.parse(decodeSafetensors(readFileSync(path)).metadata['nnx_training']!) as { epoch: number })
            .epoch
        : undefined;
    const written: (number | undefined)[] = [];
    await gan.fit(data(), {
      epochs: 3,
      checkpoint: { path, every: 2 },
      onEpoch: () => void written.push(recordedEpoch()),
    });
    expect(written).toEqual([undefined, 2, 3]);
    const state = await gan.load(path);
    const fewer = { count: 23, samples: data().samples.subarray(0, 23 * 4) };
    await expect(gan.fit(fewer, { epochs: 4, resume: state })).rejects.toThrow(
      /cannot resume from epoch 3: replaying its shuffles over 23 samples .*trained on another dataset\?$/,
    );
    gan.destroy();
  });

  it('refuses a checkpoint with a missing, extra or mis-shaped tensor, naming it, and changes nothing', async () => {
    const spec = pairSpec();
    const trained = await NnxGan.create(spec, { seed: 3, backend: 'webgpu' });
    await trained.fit(data(), { epochs: 1 });
    const good = decodeSafetensors(
      await trained.saveBytes({ epoch: 1, shuffleSeed: 3, shuffleState: [1, 2, 3, 4] }),
    );
    const target = await NnxGan.create(spec, { seed: 9, backend: 'webgpu' });
    await target.fit(data(), { epochs: 1 }); // state too differs from the checkpoint's
    const before = bits(await target.saveBytes());

    const edited = (
      edit: (tensors: Map<string, { shape: readonly number[]; data: Float32Array }>) => void,
    ) => {
      const tensors = new Map(good.tensors);
      edit(tensors);
      return encodeSafetensors(tensors, good.metadata);
    };
    const cases: [Uint8Array, string][] = [
      [
        edited((t) => t.delete('generator/dense_2/bias')),
        "loadBytes: 'generator/dense_2/bias' is missing; nothing was changed",
      ],
      [
        edited((t) => t.set('discriminator/dense_3/bias', { shape: [1], data: new Float32Array(1) })),
        "loadBytes: 'discriminator/dense_3/bias' is not a tensor of this model; nothing was changed",
      ],
      [
        // The same 20 values, transposed: the shape, not the count, is wrong.
        edited((t) => t.set('discriminator/dense_1/kernel', { shape: [5, 4], data: new Float32Array(20) })),
        "loadBytes: 'discriminator/dense_1/kernel' has shape [5,4] but the model expects [4,5]; nothing was changed",
      ],
      [
        edited((t) => t.delete('@state/noise/step')),
        "loadBytes (state): 'noise/step' is missing; nothing was changed",
      ],
      [
        edited((t) => t.set('@state/generator/dense_1/bias/m', { shape: [7], data: new Float32Array(7) })),
        "loadBytes: 'generator/dense_1/bias/m' has shape [7] but the model expects [6]; nothing was changed",
      ],
    ];
    for (const [bytes, message] of cases) expect(() => target.loadBytes(bytes)).toThrow(message);
    expect(bits(await target.saveBytes())).toEqual(before);

    expect(target.loadBytes(edited(() => undefined))?.epoch).toBe(1);
    expect(bits(await target.saveBytes())).toEqual(bits(await trained.saveBytes()));
    await expect(target.load(join(dir, 'absent.safetensors'))).rejects.toThrow(
      /could not read the checkpoint/,
    );
    for (const gan of [trained, target]) gan.destroy();
  });
});
