/**
 * fit on a compiled model (Adam, so optimizer state matters): the same seed gives the same
 * weights bit for bit, and another seed other dropout masks; a run resumed from a checkpoint ends bit for bit where an uninterrupted run
 * does; a NaN loss stops training naming its step and the last good checkpoint; early stopping.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import {
  NnxModel,
  TrainingDivergedError,
  decodeSafetensors,
  encodeSafetensors,
  requestDevice,
  type BatchLog,
  type Dataset,
  type ModelSpec,
} from '../../src/runtime/index.js';
import { Rng } from '../../src/runtime/rng.js';

const SOURCE = `
sequential Small(x: [4]) {
  Dense(8, activation: relu)
  Dense(3, activation: softmax)
}
train Small {
  data: iris
  loss: categorical_crossentropy
  optimizer: Adam(lr: 0.01)
  metrics: [accuracy]
  batch: 8
  epochs: 4
}
`;

let spec: ModelSpec;
let device: GPUDevice;
const models: NnxModel[] = [];
const dir = mkdtempSync(join(tmpdir(), 'nnx-fit-'));

beforeAll(async () => {
  const result = compile(SOURCE);
  expect(result.diagnostics).toEqual([]);
  spec = result.compiled!.spec;
  device = await requestDevice();
});
afterAll(() => {
  for (const model of models) model.destroy();
});

async function model(seed: number): Promise<NnxModel> {
  const created = await NnxModel.create(spec, { seed, device });
  models.push(created);
  return created;
}

/** 44 random samples: 5 full batches of 8 and a partial one. */
function data(): Dataset {
  const rng = new Rng(5);
  const count = 44;
  const x = Float32Array.from({ length: count * 4 }, () => rng.normal());
  const y = new Float32Array(count * 3);
  for (let i = 0; i < count; i++) y[i * 3 + (x[i * 4]! > 0 ? 0 : x[i * 4 + 1]! > 0 ? 1 : 2)] = 1;
  return { count, inputs: { x }, targets: { target: y } };
}

/** Every parameter and state tensor as raw bits, by name. */
async function bits(m: NnxModel): Promise<Map<string, number[]>> {
  const file = decodeSafetensors(await m.saveBytes());
  return new Map([...file.tensors].map(([name, t]) => [name, [...new Uint32Array(t.data.buffer)]]));
}

describe('fit', () => {
  it('gives the same weights and optimizer state bit for bit for the same seed, others for another', async () => {
    const [a, b, c] = [await model(3), await model(3), await model(4)];
    for (const m of [a, b, c]) await m.fit(data(), { epochs: 2 });
    const bitsA = await bits(a);
    expect(await bits(b)).toEqual(bitsA);
    expect(await bits(c)).not.toEqual(bitsA);
    expect(bitsA.has('@state/optimizer/step')).toBe(true);
  });

  it('resumed from a checkpoint, ends bit for bit where an uninterrupted run ends', async () => {
    const uninterrupted = await model(3);
    const full = await uninterrupted.fit(data(), { epochs: 4 });

    const path = join(dir, 'resume.safetensors');
    const first = await model(3);
    const interrupted = await first.fit(data(), { epochs: 2, checkpoint: { path } });
    expect(interrupted.lastCheckpoint).toBe(path);

    const resumed = await model(77); // other initial weights: the checkpoint replaces them
    const state = await resumed.load(path);
    expect(state?.epoch).toBe(2);
    const rest = await resumed.fit(data(), { epochs: 4, resume: state });
    expect(rest.epochs.map((log) => log.epoch)).toEqual([3, 4]);
    expect(rest.epochs).toEqual(full.epochs.slice(2));
    expect(await bits(resumed)).toEqual(await bits(uninterrupted));
  });

  it('draws other dropout masks for another seed, and keeps the seed in checkpoints', async () => {
    const dropout = compile(SOURCE.replace('Dense(3,', 'Dropout(0.5)\n  Dense(3,'));
    expect(dropout.diagnostics).toEqual([]);
    const withSeed = async (seed: number) => {
      const m = await NnxModel.create(dropout.compiled!.spec, { seed, device });
      models.push(m);
      return m;
    };
    const [a, b, c] = [await withSeed(3), await withSeed(3), await withSeed(4)];
    c.setWeights(await a.getWeights()); // the same start: only the masks can differ
    for (const m of [a, b, c]) await m.fit(data(), { epochs: 1, shuffle: false });
    const bitsA = await bits(a);
    expect(await bits(b)).toEqual(bitsA);
    const bitsC = await bits(c);
    expect(bitsC.get('dense_2/kernel')).not.toEqual(bitsA.get('dense_2/kernel'));
    expect(new Float32Array(Uint32Array.from(bitsA.get('@state/random/seed')!).buffer)).toEqual(
      Float32Array.of(3),
    );

    // A file without state (weights from elsewhere) leaves the model's own seed in place.
    const params = new Map(
      [...(await a.getWeights())].map(([name, data]) => {
        const slot = dropout.compiled!.spec.params.find((p) => p.name === name)!;
        return [name, { shape: slot.shape, data }] as const;
      }),
    );
    c.loadBytes(encodeSafetensors(params));
    expect(new Float32Array(Uint32Array.from((await bits(c)).get('@state/random/seed')!).buffer)).toEqual(
      Float32Array.of(4),
    );
  });

  it('adapts Normalization to the data: per-feature mean and population variance, kept as weights', async () => {
    const normalized = compile(SOURCE.replace('x: [4]) {', 'x: [4]) {\n  Normalization()'));
    expect(normalized.diagnostics).toEqual([]);
    const m = await NnxModel.create(normalized.compiled!.spec, { seed: 1, device });
    models.push(m);
    const d = data();
    const x = d.inputs['x']!;
    const shifted = { ...d, inputs: { x: x.map((v, i) => v * (i % 4) + 10 * (i % 4)) } }; // unlike scales
    expect(m.adapt(shifted, { only: ['normalization_1/mean'] })).toEqual(['normalization_1/mean']);
    expect((await m.getWeights()).get('normalization_1/variance')).toEqual(Float32Array.of(1, 1, 1, 1));
    expect(m.adapt(shifted)).toEqual(['normalization_1/mean', 'normalization_1/variance']);
    const weights = await m.getWeights();
    for (let f = 0; f < 4; f++) {
      const column = Array.from({ length: 44 }, (_, s) => shifted.inputs.x[s * 4 + f]!);
      const mean = column.reduce((a, v) => a + v, 0) / 44;
      const variance = column.reduce((a, v) => a + (v - mean) ** 2, 0) / 44;
      expect(weights.get('normalization_1/mean')![f]).toBeCloseTo(mean, 4);
      expect(weights.get('normalization_1/variance')![f]).toBeCloseTo(variance, 4);
    }
    expect(() => m.adapt({ ...d, inputs: {} })).toThrow(
      "adapt: the data has no input 'x', which a Normalization layer adapts to",
    );
  });

  it('refuses to resume on a dataset of another size', async () => {
    const path = join(dir, 'other.safetensors');
    const first = await model(3);
    await first.fit(data(), { epochs: 1, checkpoint: { path } });
    const state = await first.load(path);
    const smaller = { ...data(), count: 40 };
    smaller.inputs = { x: smaller.inputs['x']!.subarray(0, 160) };
    smaller.targets = { target: smaller.targets['target']!.subarray(0, 120) };
    await expect(first.fit(smaller, { epochs: 2, resume: state })).rejects.toThrow(
      /cannot resume from epoch 1: replaying its shuffles over 40 samples/,
    );
  });

  it('stops at a NaN loss naming the step and the last good checkpoint', async () => {
    const path = join(dir, 'good.safetensors');
    const m = await model(3);
    const poisoned = data();
    const promise = m.fit(poisoned, {
      epochs: 3,
      shuffle: false,
      checkpoint: { path },
      // After epoch 1, sample 20 (in step 3 of 6 without shuffling) gets a NaN target.
      onEpoch: () => void (poisoned.targets['target']![20 * 3] = Number.NaN),
    });
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingDivergedError);
    expect((error as TrainingDivergedError).message).toBe(
      `the loss became NaN at step 3 of epoch 2 (step 9 of the run); training stopped. ` +
        `The last good checkpoint is ${path}; a lower learning rate may help`,
    );
    const good = await model(3);
    expect((await good.load(path))?.epoch).toBe(1);
    const weights = await good.getWeights();
    expect([...weights.values()].every((w) => w.every(Number.isFinite))).toBe(true);
  });

  it('reports running averages while an epoch runs, and stops early when the monitored value stalls', async () => {
    const m = await model(3);
    const progress: BatchLog[] = [];
    // A learning rate of 0.01 keeps improving the training loss; `min_delta` 10 makes nothing count.
    const history = await m.fit(data(), {
      epochs: 10,
      onProgress: (log) => progress.push(log),
      earlyStopping: { monitor: 'loss', patience: 2, minDelta: 10 },
    });
    expect(history.stoppedEarly).toBe(true);
    expect(history.epochs.length).toBe(3);
    const last = progress.filter((log) => log.epoch === 1).pop()!;
    expect(last).toMatchObject({ epoch: 1, epochs: 10, step: 6, steps: 6, samples: 44 });
    expect(last['loss']).toBeCloseTo(history.epochs[0]!['loss']!, 6);
  });
});
