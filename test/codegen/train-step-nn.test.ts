/**
 * Whole compiled training steps of layer-library models on the adapter against the reference
 * interpreter running the same optimised step graph in f32: convolution, pooling, batch
 * normalization (masked statistics, running updates), dropout (masks drawn on the GPU from the
 * step counter), augmentation, an LSTM, sparse targets and a partial batch all have to agree.
 */
import { describe, expect, it } from 'vitest';
import { interpretTrainSteps } from './step-oracle.js';
import { compile } from '../../src/compile.js';
import { inputsOf, sizeOf } from '../../src/ir/graph.js';
import { NnxModel } from '../../src/runtime/index.js';
import { randomArray, seededRandom } from '../ir/random.js';

const CNN = `sequential Cnn(x: [7, 6, 2]) {
  Conv2D(3, 3, padding: same, use_bias: false)
  BatchNormalization()
  Activation(relu)
  MaxPool2D(2, padding: same)
  Conv2D(4, 2, strides: 2, activation: elu)
  Flatten()
  Dropout(0.3)
  Dense(3, activation: softmax)
}
train Cnn {
  data: xor
  loss: sparse_categorical_crossentropy
  optimizer: AdamW(lr: 0.01, schedule: cosine(decay_steps: 5))
  metrics: [accuracy]
  batch: 5
}
`;

const RNN = `sequential Seq(x: [4]) {
  Embedding(6, 3)
  LSTM(5, return_sequences: true)
  GRU(4)
  Dense(1, activation: sigmoid, kernel_regularizer: l2(0.01))
}
train Seq {
  data: xor
  loss: binary_crossentropy
  optimizer: RMSProp(lr: 0.01)
  batch: 5
}
`;

// Augmentation draws from the same step counter as Dropout.
const AUGMENTED = `sequential Aug(x: [5, 4, 1]) {
  Conv2D(2, 3, padding: same)
  Flatten()
  Dropout(0.25)
  Dense(3, activation: softmax)
}
train Aug {
  data: xor
  loss: sparse_categorical_crossentropy
  optimizer: Adam(lr: 0.01)
  batch: 5
  augment: [invert(p: 0.5), flip(p: 0.5), shift(pixels: 1), noise(stddev: 0.1)]
}
`;

// UpSampling2D between convolutions, as a DCGAN-style generator grows its images.
const UPSAMPLING = `sequential Up(x: [3, 3, 2]) {
  UpSampling2D()
  Conv2D(3, 3, padding: same, activation: relu)
  UpSampling2D(size: [1, 2])
  Flatten()
  Dense(3, activation: softmax)
}
train Up {
  data: xor
  loss: sparse_categorical_crossentropy
  optimizer: Adam(lr: 0.01)
  batch: 5
}
`;

// A per-timestep classifier: the loss and accuracy of a [T, C] output averaged over T (#18, #20).
const TAGGER = `sequential Tagger(x: [4]) {
  Embedding(6, 3)
  SimpleRNN(5, return_sequences: true)
  Dense(3, activation: softmax)
}
train Tagger {
  data: xor
  loss: sparse_categorical_crossentropy
  optimizer: Adam(lr: 0.01)
  metrics: [accuracy]
  batch: 5
}
`;

describe('training steps of layer-library models on the GPU equal the interpreter', () => {
  it.each([
    ['a CNN with batch normalization and dropout', CNN, 'Cnn'],
    ['an embedding, an LSTM and a GRU', RNN, 'Seq'],
    ['a CNN trained on augmented images', AUGMENTED, 'Aug'],
    ['convolutions over upsampled images', UPSAMPLING, 'Up'],
    ['a per-timestep tagger with sparse targets [T]', TAGGER, 'Tagger'],
  ])('%s', async (_name, source) => {
    const { compiled, diagnostics } = compile(source);
    expect(diagnostics).toEqual([]);
    const { spec, optimized } = compiled!;
    const rand = seededRandom(7);
    const model = await NnxModel.create(spec, { seed: 5, backend: 'webgpu' });
    const weights = await model.getWeights();
    const g = optimized.train;
    const xNode = inputsOf(g, 'data').find((n) => n.params.name === 'x')!;
    const perSample = sizeOf(xNode.shape.slice(1) as number[]);
    const count = 3; // of a batch of 5: two rows of padding, masked out
    const tokens = source === RNN || source === TAGGER;
    const x = tokens
      ? Float32Array.from({ length: count * perSample }, () => Math.floor(rand() * 6))
      : Float32Array.from(randomArray(rand, count * perSample));
    const target =
      source === TAGGER
        ? Float32Array.from({ length: count * 4 }, (_, i) => i % 3)
        : source === RNN
          ? Float32Array.from([1, 0, 1])
          : Float32Array.from([2, 0, 1]);
    const steps = 3;
    for (let s = 0; s < steps; s++) model.trainStep({ x, target });
    const after = await model.getWeights();

    const values = interpretTrainSteps(g, weights, { x, target }, count, steps, 5);
    let moved = 0;
    for (const [name, w] of after) {
      const want = values.get(name)!.data;
      for (let i = 0; i < w.length; i++) {
        expect(Math.abs(w[i]! - want[i]!), `${name}[${i}]`).toBeLessThan(
          2e-4 * Math.max(1, Math.abs(want[i]!)),
        );
        if (w[i] !== weights.get(name)![i]) moved++;
      }
    }
    expect(moved).toBeGreaterThan(30);
    model.destroy();
  });
});
