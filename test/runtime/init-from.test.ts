/**
 * Initialising parameters from safetensors: nnx names, and PyTorch `state_dict` files matched by
 * layer order with Linear weights transposed and Conv2d kernels converted from OIHW; every
 * misfit named, nothing half-loaded; a PyTorch-layout file gives the same outputs on the wasm backend (test/backends.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NnxModel, encodeSafetensors, type ModelSpec } from '../../src/runtime/index.js';
import { MODEL_TEST_BACKEND, compileFor, createOn } from '../backends.js';
import { initFromValues, permute } from '../../src/runtime/init-from.js';
import type { SafetensorsTensor } from '../../src/runtime/safetensors.js';
import { Rng } from '../../src/runtime/rng.js';

const SOURCE = `
sequential Net(x: [5, 5, 2]) {
  Conv2D(3, 3, activation: relu)
  Flatten()
  Dense(4, activation: tanh)
  Dense(2)
}
train Net { data: xor, loss: mse, batch: 4 }
`;

let spec: ModelSpec;
const models: NnxModel[] = [];

beforeAll(() => {
  const result = compileFor(MODEL_TEST_BACKEND, SOURCE);
  expect(result.diagnostics).toEqual([]);
  spec = result.compiled!.spec;
});
afterAll(() => {
  for (const model of models) model.destroy();
});

async function model(seed: number): Promise<NnxModel> {
  const created = await createOn(MODEL_TEST_BACKEND, spec, { seed });
  models.push(created);
  return created;
}

/** `weights` as a PyTorch `nn.Sequential` state_dict would hold them (Flatten at index 1). */
function pytorchTensors(weights: ReadonlyMap<string, Float32Array>): Map<string, SafetensorsTensor> {
  const slot = (name: string) => ({
    shape: spec.params.find((p) => p.name === name)!.shape,
    data: weights.get(name)!,
  });
  const oihw = permute(slot('conv2d_1/kernel'), [3, 2, 0, 1]);
  const linear = (name: string) => permute(slot(name), [1, 0]);
  // Out of order on purpose: modules are matched in natural order of their names, 10 after 2.
  return new Map<string, SafetensorsTensor>([
    ['10.weight', linear('dense_2/kernel')],
    ['10.bias', slot('dense_2/bias')],
    ['0.weight', oihw],
    ['0.bias', slot('conv2d_1/bias')],
    ['2.weight', linear('dense_1/kernel')],
    ['2.bias', slot('dense_1/bias')],
  ]);
}

const bitsOf = (values: Float32Array) => [
  ...new Uint32Array(values.buffer, values.byteOffset, values.length),
];

function inputs(): Float32Array {
  const rng = new Rng(4);
  return Float32Array.from({ length: 7 * 50 }, () => rng.normal());
}

describe('permute', () => {
  it('moves axes: a [2, 3] transpose and OIHW → HWIO', () => {
    const t = permute({ shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }, [1, 0]);
    expect(t.shape).toEqual([3, 2]);
    expect([...t.data]).toEqual([1, 4, 2, 5, 3, 6]);
    const oihw = { shape: [2, 1, 1, 2], data: Float32Array.from([10, 11, 20, 21]) }; // [o][i][h][w]
    const hwio = permute(oihw, [2, 3, 1, 0]);
    expect(hwio.shape).toEqual([1, 2, 1, 2]);
    expect([...hwio.data]).toEqual([10, 20, 11, 21]); // [h][w=0][i][o], then w=1
  });
});

describe('initFromValues', () => {
  it('maps PyTorch names to layers in order and says what it kept', () => {
    const weights = new Map(
      spec.params.map((p) => [p.name, new Float32Array(p.shape.reduce((a, b) => a * b, 1))]),
    );
    const torch = pytorchTensors(weights);
    torch.delete('10.weight');
    torch.delete('10.bias');
    const loaded = initFromValues(spec.params, { tensors: torch, metadata: {} }, 'initFrom');
    expect(loaded.layout).toBe('pytorch');
    expect(loaded.sources.get('conv2d_1/kernel')).toBe('0.weight');
    expect(loaded.sources.get('dense_1/kernel')).toBe('2.weight');
    expect(loaded.kept).toEqual(['dense_2/kernel', 'dense_2/bias']);
  });

  it('pairs PyTorch modules with layers past a Normalization, which PyTorch keeps outside the model', () => {
    const normalized = compileFor(
      MODEL_TEST_BACKEND,
      SOURCE.replace('x: [5, 5, 2]) {', 'x: [5, 5, 2]) {\n  Normalization()'),
    );
    expect(normalized.diagnostics).toEqual([]);
    const weights = new Map(
      spec.params.map((p) => [p.name, new Float32Array(p.shape.reduce((a, b) => a * b, 1))]),
    );
    const loaded = initFromValues(
      normalized.compiled!.spec.params,
      { tensors: pytorchTensors(weights), metadata: {} },
      'initFrom',
    );
    expect(loaded.sources.get('conv2d_1/kernel')).toBe('0.weight');
    expect(loaded.kept).toEqual(['normalization_1/mean', 'normalization_1/variance']);
  });

  it('names every tensor that does not fit', () => {
    const tensors = new Map<string, SafetensorsTensor>([
      ['0.weight', { shape: [3, 2, 3, 3], data: new Float32Array(54) }],
      ['0.bias', { shape: [4], data: new Float32Array(4) }],
      ['0.scale', { shape: [3], data: new Float32Array(3) }],
      ['2.weight', { shape: [4, 27], data: new Float32Array(108) }],
      ['5.weight', { shape: [2, 4], data: new Float32Array(8) }],
      ['7.weight', { shape: [2, 4], data: new Float32Array(8) }],
    ]);
    expect(() => initFromValues(spec.params, { tensors, metadata: {} }, 'initFrom')).toThrow(
      "initFrom: PyTorch tensor '0.bias' has shape [4] but 'conv2d_1/bias' is [3]; " +
        "PyTorch tensor '0.scale' fits no parameter of layer 'conv2d_1' (conv2d_1/kernel, conv2d_1/bias); " +
        "PyTorch module '7' (7.weight) has no counterpart: the model has 3 layers with parameters; " +
        'nothing was changed',
    );
    tensors.set('2.weight', { shape: [27, 4], data: new Float32Array(108) });
    expect(() => initFromValues(spec.params, { tensors, metadata: {} }, 'initFrom')).toThrow(
      "PyTorch tensor '2.weight' has shape [27,4] (transposed from [out, in]: [4,27]) but 'dense_1/kernel' is [27,4]",
    );
  });

  it('rejects nnx names the model does not have, and wrong shapes', () => {
    const tensors = new Map<string, SafetensorsTensor>([
      ['dense_9/kernel', { shape: [1], data: new Float32Array(1) }],
      ['dense_1/bias', { shape: [5], data: new Float32Array(5) }],
    ]);
    expect(() => initFromValues(spec.params, { tensors, metadata: {} }, 'initFrom')).toThrow(
      "initFrom: 'dense_9/kernel' is not a parameter of this model; " +
        "'dense_1/bias' has shape [5] but the model expects [4]; nothing was changed",
    );
  });
});

describe(`NnxModel.initFromBytes on ${MODEL_TEST_BACKEND}`, () => {
  it('gives the same outputs from a PyTorch-layout file as from the nnx-layout file', async () => {
    const source = await model(1);
    const weights = await source.getWeights();
    const expected = await source.predict(inputs(), 7);

    const fromNnx = await model(2);
    const nnxFile = encodeSafetensors(
      new Map(
        [...weights].map(([n, d]) => [n, { shape: spec.params.find((p) => p.name === n)!.shape, data: d }]),
      ),
    );
    expect(fromNnx.initFromBytes(nnxFile).layout).toBe('nnx');

    const fromTorch = await model(3);
    expect(bitsOf(await fromTorch.predict(inputs(), 7))).not.toEqual(bitsOf(expected));
    const loaded = fromTorch.initFromBytes(encodeSafetensors(pytorchTensors(weights)));
    expect(loaded.layout).toBe('pytorch');
    expect(loaded.kept).toEqual([]);

    expect(bitsOf(await fromNnx.predict(inputs(), 7))).toEqual(bitsOf(expected));
    expect(bitsOf(await fromTorch.predict(inputs(), 7))).toEqual(bitsOf(expected));
  });

  it('changes nothing when one tensor does not fit', async () => {
    const target = await model(5);
    const before = await target.getWeights();
    const torch = pytorchTensors(await (await model(6)).getWeights());
    torch.set('10.bias', { shape: [3], data: new Float32Array(3) });
    expect(() => target.initFromBytes(encodeSafetensors(torch))).toThrow(
      /PyTorch tensor '10.bias' has shape \[3\] but 'dense_2\/bias' is \[2\]; nothing was changed/,
    );
    const after = await target.getWeights();
    for (const [name, values] of before) expect(bitsOf(after.get(name)!), name).toEqual(bitsOf(values));
  });
});
