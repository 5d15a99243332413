import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialParameterValues } from '../../src/runtime/init.js';
import { NnxModel, decodeSafetensors, requestDevice, type Dataset } from '../../src/runtime/index.js';
import { deriveSeed, Rng } from '../../src/runtime/rng.js';
import { EVAL_BATCH, PREDICT_BATCH, TinyReference, TRAIN_BATCH, WIDTH, tinySpec } from './tiny-model.js';

// No skip when there is no adapter: requestDevice's error (how to get one) fails these tests.
let device: GPUDevice;
beforeAll(async () => {
  device = await requestDevice();
});

const models: NnxModel[] = [];
afterAll(() => {
  for (const model of models) model.destroy();
});

async function tinyModel(seed = 7): Promise<NnxModel> {
  const model = await NnxModel.create(tinySpec(), { seed, device });
  models.push(model);
  return model;
}

function randomArray(count: number, seed: number, scale = 0.1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: count }, () => rng.uniformIn(-scale, scale));
}

function dataset(count: number, seed: number): Dataset {
  return {
    count,
    inputs: { x: randomArray(count * WIDTH, seed) },
    targets: { y: randomArray(count * WIDTH, seed + 1, 1) },
  };
}

function range(first: number, end: number): number[] {
  return Array.from({ length: end - first }, (_, i) => first + i);
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const scale = Math.max(1, Math.abs(expected[i]!));
    if (Math.abs(actual[i]! - expected[i]!) > tolerance * scale) {
      expect.fail(`element ${i}: ${actual[i]} is not close to ${expected[i]}`);
    }
  }
}

async function weightsOf(model: NnxModel): Promise<Float32Array> {
  return (await model.getWeights()).get('w')!;
}

async function stepsTaken(model: NnxModel): Promise<number> {
  const checkpoint = decodeSafetensors(await model.saveBytes());
  return checkpoint.tensors.get('@state/steps')!.data[0]!;
}

/** The logs fit should report, computed on the host for the given per-epoch sample orders. */
function referenceFit(w: Float32Array, data: Dataset, orders: readonly number[][], validation?: Dataset) {
  const reference = new TinyReference(Float64Array.from(w));
  const x = data.inputs['x']!;
  const y = data.targets['y']!;
  const logs = orders.map((order, epoch) => {
    let loss = 0;
    let mae = 0;
    for (let first = 0; first < order.length; first += TRAIN_BATCH) {
      const samples = order.slice(first, first + TRAIN_BATCH);
      const errors = reference.errors(x, y, samples);
      loss += errors.loss;
      mae += errors.mae;
      reference.update(x, samples);
    }
    const log: Record<string, number> = { epoch: epoch + 1, loss: loss / data.count, mae: mae / data.count };
    if (validation) {
      const errors = reference.errors(
        validation.inputs['x']!,
        validation.targets['y']!,
        range(0, validation.count),
      );
      log['val_loss'] = errors.loss / validation.count;
      log['val_mae'] = errors.mae / validation.count;
    }
    return log;
  });
  return { logs, w: reference.w };
}

function expectLogsClose(
  actual: readonly Record<string, number>[],
  expected: readonly Record<string, number>[],
): void {
  expect(actual.map((log) => Object.keys(log).sort())).toEqual(
    expected.map((log) => Object.keys(log).sort()),
  );
  actual.forEach((log, i) => {
    for (const [name, value] of Object.entries(expected[i]!)) expectClose([log[name]!], [value], 1e-4);
  });
}

describe('NnxModel on the tiny spec', () => {
  it('initialises parameters from the seed and the parameter name', async () => {
    const model = await tinyModel(7);
    expect(await weightsOf(model)).toEqual(initialParameterValues(tinySpec().params[0]!, 7));
    expect(await stepsTaken(model)).toBe(0);
  });

  it('trainStep runs the train entry on a full batch', async () => {
    const model = await tinyModel();
    const w = await weightsOf(model);
    const data = dataset(TRAIN_BATCH, 100);
    model.trainStep({ x: data.inputs['x']!, y: data.targets['y']! });
    const reference = new TinyReference(Float64Array.from(w));
    reference.update(data.inputs['x']!, range(0, TRAIN_BATCH));
    expectClose(await weightsOf(model), reference.w);
    expect(await stepsTaken(model)).toBe(1);
  });

  it('trainStep pads a partial batch and masks the padding out', async () => {
    const model = await tinyModel();
    const w = await weightsOf(model);
    const data = dataset(2, 200);
    model.trainStep({ x: data.inputs['x']!, y: data.targets['y']! });
    const reference = new TinyReference(Float64Array.from(w));
    reference.update(data.inputs['x']!, [0, 1]);
    expectClose(await weightsOf(model), reference.w);
  });

  it('trainStep rejects unknown slots and inconsistent sample counts', async () => {
    const model = await tinyModel();
    const data = dataset(3, 300);
    expect(() =>
      model.trainStep({ x: data.inputs['x']!, y: data.targets['y']!, z: new Float32Array(1) }),
    ).toThrow(/unknown slot\(s\) 'z'/);
    expect(() => model.trainStep({ x: data.inputs['x']!, y: new Float32Array(WIDTH) })).toThrow(
      /target 'y' has 37 values.*matching the 3 samples/,
    );
  });

  it('fit reports per-epoch loss and metrics over a padded last batch, then validation', async () => {
    const model = await tinyModel();
    const w = await weightsOf(model);
    const train = dataset(12, 400); // batches of 5, 5 and a padded 2
    const validation = dataset(6, 500); // evaluate batches of 4 and a padded 2
    const batches: string[] = [];
    const epochs: number[] = [];
    const history = await model.fit(train, {
      epochs: 2,
      shuffle: false,
      validation,
      onBatch: (step, steps) => batches.push(`${step}/${steps}`),
      onEpoch: (log) => void epochs.push(log.epoch),
    });
    const expected = referenceFit(w, train, [range(0, 12), range(0, 12)], validation);
    expectLogsClose(history.epochs, expected.logs);
    expectClose(await weightsOf(model), expected.w);
    expect(batches).toEqual(['1/3', '2/3', '3/3', '1/3', '2/3', '3/3']);
    expect(epochs).toEqual([1, 2]);
    expect(await stepsTaken(model)).toBe(6);
  });

  it('fit shuffles with a seeded Fisher–Yates order each epoch', async () => {
    const model = await tinyModel();
    const w = await weightsOf(model);
    const train = dataset(12, 600);
    const history = await model.fit(train, { epochs: 2, seed: 99 });
    const rng = new Rng(deriveSeed(99, 'shuffle'));
    const order = Uint32Array.from(range(0, 12));
    const orders = [[...rng.shuffle(order)], [...rng.shuffle(order)]];
    expect(orders[0]).not.toEqual(range(0, 12));
    expectLogsClose(history.epochs, referenceFit(w, train, orders).logs);
  });

  it('fit checks the batch size and the dataset, and stops on abort', async () => {
    const model = await tinyModel();
    const train = dataset(12, 700);
    await expect(model.fit(train, { batchSize: 8 })).rejects.toThrow(
      /batchSize 8 differs from the batch size 5 this model was compiled with/,
    );
    await expect(model.fit({ ...train, targets: {} })).rejects.toThrow(/fit: missing target 'y'/);
    await expect(model.fit({ ...train, count: 11 })).rejects.toThrow(
      /input 'x' has 444 values, but 11 samples of shape \[37\] need 407/,
    );
    const controller = new AbortController();
    controller.abort(new Error('stopped by test'));
    await expect(model.fit(train, { signal: controller.signal })).rejects.toThrow('stopped by test');
  });

  it('fit ends with an error naming the epoch when the loss is not finite', async () => {
    const model = await tinyModel();
    const train = dataset(5, 800);
    train.targets['y']![3] = Number.NaN;
    await expect(model.fit(train, { epochs: 3 })).rejects.toThrow(/loss became NaN at step [12] of epoch 1/);
  });

  it('evaluate averages loss and metrics over real samples only', async () => {
    const model = await tinyModel();
    const w = await weightsOf(model);
    const data = dataset(EVAL_BATCH + 3, 900);
    const values = await model.evaluate(data);
    const reference = new TinyReference(Float64Array.from(w));
    const errors = reference.errors(data.inputs['x']!, data.targets['y']!, range(0, data.count));
    expect(Object.keys(values).sort()).toEqual(['loss', 'mae']);
    expectClose([values['loss']!, values['mae']!], [errors.loss / data.count, errors.mae / data.count], 1e-4);
  });

  it('predict chunks by the predict batch and pads the last chunk', async () => {
    const model = await tinyModel();
    const w = await weightsOf(model);
    const count = 2 * PREDICT_BATCH + 1;
    const x = randomArray(count * WIDTH, 1000, 1);
    const expected = new TinyReference(Float64Array.from(w)).predict(x);
    expectClose(await model.predict({ x }), expected);
    expectClose(await model.predict(x, count), expected);
    await expect(model.predict(new Float32Array(WIDTH + 1))).rejects.toThrow(/not a whole number of samples/);
  });

  it('setWeights replaces parameters, and rejects mis-shaped, missing or extra tensors unchanged', async () => {
    const model = await tinyModel();
    const before = await weightsOf(model);
    expect(() => model.setWeights(new Map([['w', new Float32Array(WIDTH - 1)]]))).toThrow(
      "setWeights: 'w' has 36 values but its shape [37] needs 37; nothing was changed",
    );
    expect(() => model.setWeights({ w: before, bias: new Float32Array(1) })).toThrow(
      /'bias' is not a tensor of this model/,
    );
    expect(() => model.setWeights({})).toThrow(/'w' is missing/);
    expect(await weightsOf(model)).toEqual(before);
    const replacement = randomArray(WIDTH, 1100, 1);
    model.setWeights({ w: replacement });
    expect(await weightsOf(model)).toEqual(replacement);
  });

  it('saveBytes and loadBytes round-trip parameters and state', async () => {
    const model = await tinyModel(1);
    await model.fit(dataset(7, 1200), { epochs: 1 });
    const bytes = await model.saveBytes();
    const saved = decodeSafetensors(bytes);
    expect(saved.metadata).toEqual({ nnx_format_version: '1', nnx_model: 'tiny' });
    expect([...saved.tensors.keys()]).toEqual(['w', '@state/steps']);

    const other = await tinyModel(2);
    expect(await weightsOf(other)).not.toEqual(await weightsOf(model));
    other.loadBytes(bytes);
    expect(await weightsOf(other)).toEqual(await weightsOf(model));
    expect(await stepsTaken(other)).toBe(2);
  });

  it('save and load write a checkpoint file atomically', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'nnx-runtime-'));
    try {
      const model = await tinyModel(3);
      const path = join(directory, 'tiny.safetensors');
      await model.save(path);
      expect(await readdir(directory)).toEqual(['tiny.safetensors']);
      const other = await tinyModel(4);
      await other.load(path);
      expect(await weightsOf(other)).toEqual(await weightsOf(model));
      await expect(other.load(join(directory, 'absent.safetensors'))).rejects.toThrow(
        /could not read the checkpoint/,
      );
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('destroy makes later calls fail clearly', async () => {
    const model = await NnxModel.create(tinySpec(), { device });
    model.destroy();
    expect(() => model.trainStep({})).toThrow("model 'tiny' was destroyed");
  });
});

describe('NnxModel.create errors', () => {
  it('names the kernel and quotes the WGSL error', async () => {
    const broken = {
      name: 'broken',
      bindings: 1,
      access: ['read_write' as const],
      wgsl: '@compute @workgroup_size(1)\nfn main( {\n}\n',
    };
    const spec = tinySpec();
    const creation = NnxModel.create({ ...spec, kernels: [...spec.kernels, broken] }, { device });
    await expect(creation).rejects.toThrow(
      /kernel 'broken' \(kernel 3\) has WGSL errors:\n  2:\d+: .*\n    fn main\( \{/,
    );
  });

  it('rejects a kernel with more storage buffers than the device allows', async () => {
    const limit = device.limits.maxStorageBuffersPerShaderStage;
    const spec = tinySpec();
    const access = Array.from({ length: limit + 1 }, () => 'read' as const);
    const wide = { ...spec.kernels[0]!, name: 'wide', bindings: limit + 1, access };
    await expect(NnxModel.create({ ...spec, kernels: [...spec.kernels, wide] }, { device })).rejects.toThrow(
      `kernel 'wide' uses ${limit + 1} storage buffers, more than this device allows per shader stage ` +
        `(maxStorageBuffersPerShaderStage ${limit})`,
    );
    const adapter = (device as GPUDevice & { adapterInfo: GPUAdapterInfo }).adapterInfo.description;
    await expect(NnxModel.create({ ...spec, kernels: [...spec.kernels, wide] }, { device })).rejects.toThrow(
      `NnxModel.create: model '${spec.name}' does not fit the adapter '${adapter}': kernel 'wide'`,
    );
  });

  it('rejects a buffer larger than one storage binding', async () => {
    const spec = tinySpec();
    const bytes = device.limits.maxStorageBufferBindingSize + 4;
    const buffers = spec.buffers.map((buffer) =>
      buffer.label === 'train/x' ? { ...buffer, bytes } : buffer,
    );
    await expect(NnxModel.create({ ...spec, buffers }, { device })).rejects.toThrow(
      new RegExp(`buffer 1 \\('train/x'\\) needs ${bytes} bytes, more than this device can bind`),
    );
  });

  it('rejects an unknown spec version and dangling buffer ids', async () => {
    const spec = tinySpec();
    await expect(NnxModel.create({ ...spec, version: 2 as 1 }, { device })).rejects.toThrow(
      /format version 2, but this runtime executes version 1/,
    );
    await expect(NnxModel.create({ ...spec, sampleCount: 99 }, { device })).rejects.toThrow(
      'the sample counter (sampleCount) refers to buffer 99, which the spec does not define',
    );
  });

  it('rejects a dispatch that binds one buffer twice with a writable binding', async () => {
    const spec = tinySpec();
    const predict = spec.entries.predict;
    const aliased = { ...predict, dispatches: [{ ...predict.dispatches[0]!, buffers: [11, 0, 11] }] };
    await expect(
      NnxModel.create({ ...spec, entries: { ...spec.entries, predict: aliased } }, { device }),
    ).rejects.toThrow(
      /entry 'predict' dispatch 0 \(kernel 'predict'\) binds buffer 11 \('predict\/x'\) to bindings 0 and 2/,
    );
  });
});
