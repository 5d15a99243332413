/**
 * A whole compiled training step on the adapter against the reference interpreter running the
 * same step graph in f32: forward, loss, gradients, in-place optimizer updates, the momentum
 * slots and the masked padding of a partial batch all have to agree.
 */
import { describe, expect, it } from 'vitest';
import { interpretTrainSteps } from './step-oracle.js';
import { compile } from '../../src/compile.js';
import { NnxModel } from '../../src/runtime/index.js';
import { randomArray, seededRandom } from '../ir/random.js';

const source = (optimizer: string) => `
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

describe('one training step on the GPU equals the interpreter', () => {
  it.each([
    ['SGD with Nesterov momentum', 'SGD(lr: 0.3, momentum: 0.9, nesterov: true)'],
    ['Adam', 'Adam(lr: 0.01)'],
    ["Adam with Keras' ε placement", 'Adam(lr: 0.01, epsilon: 0.01, epsilon_placement: keras)'],
    ["RMSProp with Keras' ε placement", 'RMSProp(lr: 0.01, epsilon_placement: keras)'],
  ])('for a model with a residual sum, a partial batch and %s', async (_name, optimizer) => {
    const { compiled, diagnostics } = compile(source(optimizer));
    expect(diagnostics).toEqual([]);
    const { spec, optimized } = compiled!;
    const rand = seededRandom(7);
    const model = await NnxModel.create(spec, { seed: 5, backend: 'webgpu' });
    const weights = await model.getWeights();
    const count = 3; // of a batch of 5: two rows of padding, masked out
    const x = Float32Array.from(randomArray(rand, count * 3));
    const target = Float32Array.from(randomArray(rand, count * 2, 0, 1));
    const steps = 3;
    for (let s = 0; s < steps; s++) model.trainStep({ x, target });
    const after = await model.getWeights();

    // The interpreter runs the same optimised train graph with the padded batch, three times.
    const g = optimized.train;
    const values = interpretTrainSteps(g, weights, { x, target }, count, steps);
    let moved = 0;
    for (const [name, w] of after) {
      const want = values.get(name)!.data;
      for (let i = 0; i < w.length; i++) {
        expect(Math.abs(w[i]! - want[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want[i]!)));
        if (w[i] !== weights.get(name)![i]) moved++;
      }
    }
    expect(moved).toBeGreaterThan(50); // the step really changed the weights
    model.destroy();
  });
});

describe('a transformer step on the GPU equals the interpreter', () => {
  it('attention (causal), position embeddings, LayerNormalization and Dense on sequences', async () => {
    const { compiled, diagnostics } = compile(`
model Net(x: [5, 3]) -> (y: [2]) {
  h = x + PositionEmbedding()(x)
  a = LayerNormalization()(h + MultiHeadAttention(2, 3, causal: true)(h))
  f = a + Dense(3)(Dense(7, activation: relu)(a))
  y = Dense(2, activation: sigmoid)(GlobalAveragePooling1D()(f) + GlobalMaxPooling1D()(f))
}
train Net {
  data: xor
  loss: mse
  optimizer: SGD(lr: 0.5, momentum: 0.9)
  batch: 4
}
`);
    expect(diagnostics).toEqual([]);
    const { spec, optimized } = compiled!;
    const rand = seededRandom(8);
    const model = await NnxModel.create(spec, { seed: 6, backend: 'webgpu' });
    const weights = await model.getWeights();
    const count = 3; // of a batch of 4: one row of padding
    const x = Float32Array.from(randomArray(rand, count * 15));
    const target = Float32Array.from(randomArray(rand, count * 2, 0, 1));
    const steps = 2;
    for (let s = 0; s < steps; s++) model.trainStep({ x, target });
    const after = await model.getWeights();
    const values = interpretTrainSteps(optimized.train, weights, { x, target }, count, steps);
    let moved = 0;
    for (const [name, w] of after) {
      const want = values.get(name)!.data;
      for (let i = 0; i < w.length; i++) {
        expect(Math.abs(w[i]! - want[i]!)).toBeLessThan(2e-5 * Math.max(1, Math.abs(want[i]!)));
        if (w[i] !== weights.get(name)![i]) moved++;
      }
    }
    expect(moved).toBeGreaterThan(150);
    model.destroy();
  });
});
