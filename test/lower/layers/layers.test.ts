/**
 * Layers lowered and run by the interpreter: train vs inference behaviour of Dropout and
 * BatchNormalization, LayerNormalization, Normalization, Conv2D's `same` geometry, the merge layers, and the
 * layers' own shape errors, rendered exactly.
 */
import { describe, expect, it } from 'vitest';
import type { ModelIR } from '../../../src/lower/lower.js';
import { inputsOf } from '../../../src/ir/graph.js';
import { MASK_INPUT } from '../../../src/lower/layers/types.js';
import { interpret } from '../../../src/ir/interpret.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { randomArray, seededRandom } from '../../ir/random.js';
import { errorsOf, lower } from './lowered.js';

/** Evaluates a model's graph with the given inputs; every other input is zeros (ones for names in `ones`). */
function evaluate(model: ModelIR, given: Record<string, Tensor>, ones: string[] = []) {
  const inputs = new Map<string, Tensor>(Object.entries(given));
  for (const n of inputsOf(model.graph)) {
    if (inputs.has(n.params.name)) continue;
    const shape = n.shape.map((d) => (typeof d === 'number' ? d : given['x']!.shape[0]!));
    const size = shape.reduce((a, b) => a * b, 1);
    inputs.set(n.params.name, {
      shape,
      data: new Float64Array(size).fill(ones.some((o) => n.params.name.endsWith(o)) ? 1 : 0),
    });
  }
  const values = interpret(model.graph, inputs);
  return { values, out: Array.from(values[model.outputs[0]!.node]!.data) };
}

describe('train and inference lowering', () => {
  it('a model without mode-dependent layers is lowered once', () => {
    expect(lower('sequential M(x: [3]) {\n  Dense(2)\n}\n').training).toBeUndefined();
  });

  it('Dropout is the identity in inference and a scaled random mask in training', () => {
    const model = lower('sequential M(x: [400]) {\n  Dropout(0.25)\n}\n');
    const x = { shape: [2, 400], data: Float64Array.from(randomArray(seededRandom(1), 800, 1, 2)) };
    expect(evaluate(model, { x }).out).toEqual(Array.from(x.data));
    const training = model.training!;
    expect(training.graph.nodes.some((n) => n.op === 'random_uniform')).toBe(true);
    expect(training.updates!.map((u) => u.name)).toEqual(['random/step']);
    const step = (t: number) =>
      evaluate(training, { x, 'random/step': { shape: [], data: Float64Array.of(t) } }).out;
    const first = step(0);
    const dropped = first.filter((v) => v === 0).length / first.length;
    expect(dropped).toBeGreaterThan(0.2);
    expect(dropped).toBeLessThan(0.3);
    first.forEach((v, i) => v !== 0 && expect(v).toBeCloseTo(x.data[i]! / 0.75, 12));
    expect(step(1)).not.toEqual(first); // a new mask each step
  });

  it('BatchNormalization: masked batch statistics and running updates in training, running statistics in inference', () => {
    const model = lower('sequential M(x: [2]) {\n  BatchNormalization(momentum: 0.9, epsilon: 0.001)\n}\n');
    expect(model.params.map((p) => p.name)).toEqual([
      'batch_normalization_1/gamma',
      'batch_normalization_1/beta',
    ]);
    const x = { shape: [3, 2], data: Float64Array.from([1, 10, 3, 20, 100, -100]) };
    // Inference: running mean 0, variance 1 (their initial values).
    expect(evaluate(model, { x }, ['gamma', 'moving_variance']).out).toEqual(
      Array.from(x.data).map((v) => v / Math.sqrt(1.001)),
    );
    // Training, with the third sample padding: the statistics come from the first two.
    const training = model.training!;
    const mask = { shape: [3], data: Float64Array.from([1, 1, 0]) };
    const { values, out } = evaluate(training, { x, [MASK_INPUT]: mask }, ['gamma', 'moving_variance']);
    const norm = (v: number, mean: number, variance: number) => (v - mean) / Math.sqrt(variance + 0.001);
    expect(out[0]).toBeCloseTo(norm(1, 2, 1), 12);
    expect(out[3]).toBeCloseTo(norm(20, 15, 25), 12);
    const updated = Object.fromEntries(
      training.updates!.map((u) => [u.name, Array.from(values[u.value]!.data)]),
    );
    expect(updated['batch_normalization_1/moving_mean']![0]).toBeCloseTo(0.1 * 2, 12);
    expect(updated['batch_normalization_1/moving_variance']![1]).toBeCloseTo(0.9 + 0.1 * 25, 12);
  });

  it('LayerNormalization normalizes each sample over its last axis', () => {
    const model = lower('sequential M(x: [4]) {\n  LayerNormalization(epsilon: 0)\n}\n');
    const { out } = evaluate(model, { x: { shape: [1, 4], data: Float64Array.from([1, 2, 3, 4]) } }, [
      'gamma',
    ]);
    const s = Math.sqrt(1.25);
    [-1.5, -0.5, 0.5, 1.5].forEach((v, i) => expect(out[i]).toBeCloseTo(v / s, 12));
  });

  it('Normalization scales by statistics it holds, not trains, and names the input to adapt to', () => {
    const model = lower('sequential M(x: [2, 3]) {\n  Normalization()\n}\n');
    expect(model.params).toEqual([]); // nothing for the optimizer
    const stats = inputsOf(model.graph, 'param').map((n) => [n.params.name, n.params.init?.adapt]);
    expect(stats).toEqual([
      ['normalization_1/mean', { input: 'x', statistic: 'mean' }],
      ['normalization_1/variance', { input: 'x', statistic: 'variance' }],
    ]);
    const x = Float64Array.from([1, 2, 3, 4, 5, 6]);
    const { out } = evaluate(model, {
      x: { shape: [1, 2, 3], data: x },
      'normalization_1/mean': { shape: [3], data: Float64Array.from([1, 0, -1]) },
      // A zero variance divides by Keras' floor of 1e-7 instead of 0.
      'normalization_1/variance': { shape: [3], data: Float64Array.from([4, 0.25, 0]) },
    });
    const want = [0, 4, 4e7, 1.5, 10, 7e7];
    want.forEach((v, i) => expect(out[i]).toBeCloseTo(v, 6));
  });

  it('UpSampling2D repeats each pixel size×size times', () => {
    const model = lower('sequential M(x: [2, 2, 1]) {\n  UpSampling2D(size: [2, 3])\n}\n');
    const { out } = evaluate(model, { x: { shape: [1, 2, 2, 1], data: Float64Array.from([1, 2, 3, 4]) } });
    const row = (a: number, b: number) => [a, a, a, b, b, b];
    expect(out).toEqual([...row(1, 2), ...row(1, 2), ...row(3, 4), ...row(3, 4)]);
    expect(model.outputs[0]!.shape).toEqual(['B', 4, 6, 1]);
  });

  it('Conv2D with same padding keeps ⌈n/s⌉ and pooling halves; Flatten and Dense follow', () => {
    const model = lower(`sequential M(x: [9, 7, 3]) {
  Conv2D(4, [3, 5], strides: 2, padding: same, activation: relu)
  MaxPool2D(2, padding: same)
  Flatten()
  Dense(2)
}
`);
    const shapes = model.graph.nodes
      .filter((n) => n.op === 'conv2d' || n.op === 'max_pool2d')
      .map((n) => n.shape);
    expect(shapes).toEqual([
      ['B', 5, 4, 4],
      ['B', 3, 2, 4],
    ]);
    expect(model.params.map((p) => `${p.name} [${p.shape}]`)).toEqual([
      'conv2d_1/kernel [3,5,3,4]',
      'conv2d_1/bias [4]',
      'dense_1/kernel [24,2]',
      'dense_1/bias [2]',
    ]);
  });

  it('Concatenate, Add and Multiply take several tensors', () => {
    const model = lower(`model M(a: [2], b: [2]) -> (y: [4]) {
  s = Add()(a, b)
  p = Multiply()(a, b)
  y = Concatenate()(s, p)
}
`);
    const { out } = evaluate(model, {
      a: { shape: [1, 2], data: Float64Array.from([1, 2]) },
      b: { shape: [1, 2], data: Float64Array.from([3, 4]) },
      x: { shape: [1, 2], data: new Float64Array(2) },
    });
    expect(out).toEqual([4, 6, 3, 8]);
  });
});

describe('layer diagnostics', () => {
  it('Conv2D on a flat input', () => {
    expect(errorsOf('sequential M(x: [10]) {\n  Conv2D(4, 3)\n}\n'))
      .toBe(`m.nnx:2:3: error: Conv2D expects an image [H, W, C] per sample, got [10] [E0201]
  |
2 |   Conv2D(4, 3)
  |   ^^^^^^^^^^^^`);
  });
  it('a pooling window larger than the image', () => {
    expect(errorsOf('sequential M(x: [3, 3, 1]) {\n  MaxPool2D(4)\n}\n'))
      .toBe(`m.nnx:2:3: error: MaxPool2D: a 4×4 window does not fit a 3×3 image without padding; use padding: same or a smaller window [E0201]
  |
2 |   MaxPool2D(4)
  |   ^^^^^^^^^^^^`);
  });
  it('a Normalization that is not on a model input, where there is nothing to adapt it to', () => {
    expect(errorsOf('sequential M(x: [4]) {\n  Dense(3)\n  Normalization()\n}\n'))
      .toBe(`m.nnx:3:3: error: Normalization learns its mean and variance from the training data, so it must be applied to a model input directly; put it first, on the input [E0201]
  |
3 |   Normalization()
  |   ^^^^^^^^^^^^^^^`);
  });
  it('a recurrent layer on a flat input', () => {
    expect(errorsOf('sequential M(x: [10]) {\n  LSTM(4)\n}\n'))
      .toBe(`m.nnx:2:3: error: LSTM takes sequences of shape [steps, features] per sample, got [10] [E0201]
  |
2 |   LSTM(4)
  |   ^^^^^^^`);
  });
  it('a bad kernel size and an unknown initializer', () => {
    expect(errorsOf('sequential M(x: [8, 8, 1]) {\n  Conv2D(4, [3, 0], init: he_normall)\n}\n'))
      .toBe(`m.nnx:2:13: error: argument \`kernel_size\` of Conv2D must be an integer ≥ 1 or a pair of them, such as \`3\` or \`[3, 5]\`, not a list [E0105]
  |
2 |   Conv2D(4, [3, 0], init: he_normall)
  |             ^^^^^^

m.nnx:2:27: error: unknown kernel_initializer \`he_normall\` for Conv2D; did you mean \`he_normal\`? [E0103]
  |
2 |   Conv2D(4, [3, 0], init: he_normall)
  |                           ^^^^^^^^^^
  = note: expected one of: glorot_uniform, glorot_normal, he_normal, he_uniform, lecun_normal, zeros, ones, constant, random_normal, random_uniform, orthogonal, pytorch_uniform`);
  });
  it('a merge layer given one tensor', () => {
    expect(errorsOf('model M(a: [2]) -> (y: [2]) {\n  y = Add()(a)\n}\n')).toContain(
      'error: `add_1` takes two or more tensors, but 1 is given [E0107]',
    );
  });
});
