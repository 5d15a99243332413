/**
 * Whole training steps on the wasm backend against the reference interpreter running the same
 * step graph in f32, and against the WebGPU backend: forward, loss, gradients, in-place
 * optimizer updates and the masked padding of a partial batch.
 */
import { describe, expect, it } from 'vitest';
import { interpretTrainSteps } from '../step-oracle.js';
import { compile } from '../../../src/compile.js';
import { NnxModel } from '../../../src/runtime/index.js';
import { convEpilogue } from '../../../src/codegen/wasm/conv-gemm.js';
import { poolGradEpilogue } from '../../../src/codegen/wasm/window.js';
import { randomArray, seededRandom } from '../../ir/random.js';

const residual = (optimizer: string) => `
model Net(x: [3]) -> (y: [2]) {
  h = Dense(7, activation: tanh)(x)
  g = Dense(7, activation: relu)(h)
  y = Dense(2, activation: sigmoid)(h + g * 0.5)
}
train Net {
  data: xor
  loss: mse
  optimizer: ${optimizer}
  metrics: [accuracy]
  batch: 5
}
`;

const mlp = `
model Mlp(x: [37]) -> (y: [10]) {
  h = Dense(45, activation: relu)(x)
  h2 = Dropout(0.25)(Dense(29, activation: gelu)(h))
  y = Dense(10, activation: softmax)(h2)
}
train Mlp {
  data: mnist
  loss: sparse_categorical_crossentropy
  optimizer: Adam(lr: 0.01)
  metrics: [accuracy]
  batch: 13
}
`;

function expectClose(
  after: ReadonlyMap<string, Float32Array>,
  want: (name: string) => Float32Array | undefined,
  tolerance: number,
): number {
  let moved = 0;
  for (const [name, w] of after) {
    const expected = want(name)!;
    for (let i = 0; i < w.length; i++) {
      expect(Math.abs(w[i]! - expected[i]!)).toBeLessThan(tolerance * Math.max(1, Math.abs(expected[i]!)));
      moved++;
    }
  }
  return moved;
}

/**
 * Trains `steps` steps of one 3-sample batch of a CNN on one wasm thread against the interpreter
 * (f32 tolerance; every weight moves), then on `threads` threads: the same bits, and the same
 * predictions.
 */
async function expectCnnTrainsOnThreads(
  compiled: NonNullable<ReturnType<typeof compile>['compiled']>,
  x: Float32Array,
  target: Float32Array,
  threads: number,
): Promise<void> {
  const { spec, optimized } = compiled;
  const steps = 3;
  const model = await NnxModel.create(spec, { seed: 4, backend: 'wasm' });
  const weights = await model.getWeights();
  for (let s = 0; s < steps; s++) model.trainStep({ x, target });
  const after = await model.getWeights();
  const values = interpretTrainSteps(optimized.train, weights, { x, target }, 3, steps, 4);
  expectClose(after, (name) => values.get(name)?.data as Float32Array, 2e-5);
  for (const [name, w] of after) expect(w, `${name} trained`).not.toEqual(weights.get(name));
  const predicted = await model.predict({ x });
  model.destroy();
  const many = await NnxModel.create(spec, { seed: 4, backend: 'wasm', threads });
  for (let s = 0; s < steps; s++) many.trainStep({ x, target });
  for (const [name, w] of await many.getWeights()) expect(w, name).toEqual(after.get(name));
  expect(await many.predict({ x })).toEqual(predicted);
  many.destroy();
}

describe('training steps on the wasm backend equal the interpreter', () => {
  it.each([
    ['SGD with Nesterov momentum', 'SGD(lr: 0.3, momentum: 0.9, nesterov: true)'],
    ['Adam', 'Adam(lr: 0.01)'],
  ])('a model with a residual sum, a partial batch and %s', async (_name, optimizer) => {
    const { compiled, diagnostics } = compile(residual(optimizer), { wasm: true });
    expect(diagnostics).toEqual([]);
    const { spec, optimized } = compiled!;
    const rand = seededRandom(7);
    const model = await NnxModel.create(spec, { seed: 5, backend: 'wasm' });
    expect(model.backend.kind).toBe('wasm');
    const weights = await model.getWeights();
    const count = 3;
    const x = Float32Array.from(randomArray(rand, count * 3));
    const target = Float32Array.from(randomArray(rand, count * 2, 0, 1));
    const steps = 3;
    for (let s = 0; s < steps; s++) model.trainStep({ x, target });
    const after = await model.getWeights();
    const values = interpretTrainSteps(optimized.train, weights, { x, target }, count, steps);
    expectClose(after, (name) => values.get(name)?.data as Float32Array, 1e-5);
    let changed = 0;
    for (const [name, w] of after) w.forEach((v, i) => (changed += v !== weights.get(name)![i] ? 1 : 0));
    expect(changed).toBeGreaterThan(50);
    model.destroy();
  });

  it('an MNIST-shaped MLP (relu, gelu, dropout, softmax, Adam) on awkward sizes', async () => {
    const { compiled, diagnostics } = compile(mlp, { wasm: true });
    expect(diagnostics).toEqual([]);
    const { spec, optimized } = compiled!;
    const rand = seededRandom(11);
    const model = await NnxModel.create(spec, { seed: 3, backend: 'wasm' });
    const weights = await model.getWeights();
    const count = 11; // of 13
    const x = Float32Array.from(randomArray(rand, count * 37, 0, 1));
    const target = Float32Array.from({ length: count }, (_, i) => (i * 7) % 10);
    const steps = 4;
    for (let s = 0; s < steps; s++) model.trainStep({ x, target });
    const after = await model.getWeights();
    const values = interpretTrainSteps(optimized.train, weights, { x, target }, count, steps, 3);
    expectClose(after, (name) => values.get(name)?.data as Float32Array, 2e-5);
    model.destroy();
  });

  it('a wasm checkpoint resumes on WebGPU: one more step and predict agree', async () => {
    const { compiled } = compile(residual('Adam(lr: 0.01)'), { wasm: true });
    const spec = compiled!.spec;
    const rand = seededRandom(12);
    const x = Float32Array.from(randomArray(rand, 5 * 3));
    const target = Float32Array.from(randomArray(rand, 5 * 2, 0, 1));
    const model = await NnxModel.create(spec, { seed: 9, backend: 'wasm' });
    for (let s = 0; s < 3; s++) model.trainStep({ x, target });
    const gpu = await NnxModel.create(spec, { seed: 1, backend: 'webgpu' });
    gpu.loadBytes(await model.saveBytes());
    const saved = await model.getWeights();
    for (const [name, w] of await gpu.getWeights()) expect(w).toEqual(saved.get(name));
    model.trainStep({ x, target });
    gpu.trainStep({ x, target });
    const onWasm = await model.getWeights();
    expectClose(await gpu.getWeights(), (name) => onWasm.get(name), 1e-5);
    const [p, q] = [await model.predict(x), await gpu.predict(x)];
    expect(p.length).toBe(10);
    p.forEach((v, i) => expect(Math.abs(v - q[i]!)).toBeLessThan(1e-5));
    gpu.destroy();
    model.destroy();
  });

  it('asking for wasm without a wasm module is a one-line error saying how to get one', async () => {
    const { compiled } = compile(residual('SGD(lr: 0.1)'));
    await expect(NnxModel.create(compiled!.spec, { backend: 'wasm' })).rejects.toThrow(
      "NnxModel.create: the wasm backend cannot run this model: model 'Net' was compiled without the wasm target; compile it with { wasm: true } (nnxc compile does unless given --target webgpu)",
    );
  });

  it('an augmented CNN (shift, flip; conv, pooling) trains on wasm as the interpreter does, on 2 threads bit for bit', async () => {
    const { compiled, diagnostics } = compile(
      `
model C(x: [9, 7, 3]) -> (y: [4]) {
  h = MaxPool2D(2)(Conv2D(6, 3, padding: same, activation: relu)(x))
  y = Dense(4, activation: softmax)(Flatten()(AveragePooling2D(2)(Conv2D(5, 2)(h))))
}
train C {
  data: mnist
  loss: sparse_categorical_crossentropy
  optimizer: Adam(lr: 0.01)
  batch: 3
  augment: [shift(pixels: 2), flip(p: 0.5)]
}
`,
      { wasm: true },
    );
    expect(diagnostics).toEqual([]);
    const rand = seededRandom(13);
    const x = Float32Array.from(randomArray(rand, 3 * 9 * 7 * 3, 0, 1));
    // Two threads split the convolutions' tiles and the pooling's images: the same bits.
    await expectCnnTrainsOnThreads(compiled!, x, Float32Array.of(1, 3, 0), 2);
  });
});

describe('a CNN whose convs take their bias and relu as epilogue', () => {
  it('trains on wasm as the interpreter does (8 and 16 channels: the map kernels merge into the convs and the pooling gradient), on 3 threads bit for bit', async () => {
    const { compiled, diagnostics } = compile(
      `
model C(x: [9, 8, 2]) -> (y: [3]) {
  h = MaxPool2D(2)(Conv2D(8, 3, padding: same, activation: relu)(x))
  y = Dense(3, activation: softmax)(Flatten()(Conv2D(16, 2, activation: relu)(h)))
}
train C {
  data: mnist
  loss: sparse_categorical_crossentropy
  optimizer: Adam(lr: 0.01)
  batch: 3
}
`,
      // Separate kernels: a model this small would otherwise run as whole-step kernels.
      { wasm: true, wholeStep: false },
    );
    expect(diagnostics).toEqual([]);
    const { lowered } = compiled!;
    // Both forward convs of the step take the next kernel (bias + relu) as their epilogue.
    const { fused, plan } = lowered.train;
    const kernels = plan.order.map((k) => fused.kernels[k]!);
    const merged = kernels.filter((_, at) => convEpilogue(fused.graph, kernels, at) !== undefined);
    expect(merged.length).toBe(2);
    // The pooling gradient takes the first conv's relu gradient (8 channels) per image.
    expect(kernels.filter((_, at) => poolGradEpilogue(fused.graph, kernels, at) !== undefined).length).toBe(
      1,
    );
    const rand = seededRandom(17);
    const x = Float32Array.from(randomArray(rand, 3 * 9 * 8 * 2, 0, 1));
    await expectCnnTrainsOnThreads(compiled!, x, Float32Array.of(2, 0, 1), 3);
  });
});

describe('the wasm backend on threads', () => {
  it('two threads train bit for bit as one (the split changes who computes, not what)', async () => {
    const { compiled } = compile(mlp, { wasm: true });
    const spec = compiled!.spec;
    const rand = seededRandom(13);
    const x = Float32Array.from(randomArray(rand, 13 * 37, 0, 1));
    const target = Float32Array.from({ length: 13 }, (_, i) => i % 10);
    const one = await NnxModel.create(spec, { seed: 2, backend: 'wasm' });
    const two = await NnxModel.create(spec, { seed: 2, backend: 'wasm', threads: 2 });
    expect(two.backend.description).toBe('CPU (WebAssembly SIMD128, 2 threads)');
    for (let s = 0; s < 5; s++) {
      one.trainStep({ x, target });
      two.trainStep({ x, target });
    }
    const a = await one.getWeights();
    for (const [name, w] of await two.getWeights()) expect(w).toEqual(a.get(name));
    expect(await two.evaluate({ count: 13, inputs: { x }, targets: { target } })).toEqual(
      await one.evaluate({ count: 13, inputs: { x }, targets: { target } }),
    );
    one.destroy();
    two.destroy();
  });

  it('a thread count out of range is an error naming the limit', async () => {
    const { compiled } = compile(residual('SGD(lr: 0.1)'), { wasm: true });
    await expect(NnxModel.create(compiled!.spec, { backend: 'wasm', threads: 17 })).rejects.toThrow(
      'NnxModel.create: threads must be an integer from 1 to 16, got 17',
    );
  });
});
