/**
 * Losses and metrics of the layer library, per sample, by the interpreter: sparse targets,
 * NLL on log_softmax, from-logits forms (finite at logits of ±1000), top-k and sparse accuracy,
 * and regularization penalties in the training loss.
 */
import { describe, expect, it } from 'vitest';
import { check } from '../../../src/compile.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { logSoftmax, softmax } from '../../../src/lower/layers.js';
import { interpret, interpretOutputs } from '../../../src/ir/interpret.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import type { LossName, MetricName } from '../../../src/bind/losses.js';
import { LOSSES, METRICS, targetShape } from '../../../src/ir/train/losses.js';
import { buildStepGraphs } from '../../../src/ir/train/step.js';

const LOGITS = [
  [1, 2, 0.5],
  [1000, -1000, 0],
  [-3, 0, 3],
];
const CLASSES = [1, 0, 2];

/** Per-sample values of a loss or metric of `activation(logits)` against class indices. */
function perSample(
  fn: (b: GraphBuilder, p: number, y: number) => number,
  activation: 'softmax' | 'log_softmax' | 'none',
  targets: number[],
  targetShapeOf = (n: number) => [n],
): number[] {
  const b = new GraphBuilder();
  const z = b.input('z', 'data', [3, 3]);
  const p = activation === 'softmax' ? softmax(b, z) : activation === 'log_softmax' ? logSoftmax(b, z) : z;
  const y = b.input('y', 'target', targetShapeOf(3));
  const out = fn(b, p, y);
  const inputs = new Map<string, Tensor>([
    ['z', { shape: [3, 3], data: Float64Array.from(LOGITS.flat()) }],
    ['y', { shape: targetShapeOf(3), data: Float64Array.from(targets) }],
  ]);
  return Array.from(interpret(b.build(), inputs)[out]!.data);
}

/** −log softmax(z)[k], computed stably here. */
function crossEntropy(z: number[], k: number): number {
  const m = Math.max(...z);
  return -(z[k]! - m - Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0)));
}

describe('losses', () => {
  const want = LOGITS.map((z, i) => crossEntropy(z, CLASSES[i]!));
  it.each([
    ['sparse_categorical_crossentropy', 'softmax'],
    ['sparse_categorical_crossentropy_from_logits', 'none'],
    ['nll', 'log_softmax'],
  ] as const)('%s on %s is the exact cross-entropy, finite at ±1000', (loss, activation) => {
    const got = perSample(LOSSES[loss as LossName], activation, CLASSES);
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 10));
  });
  it('sparse losses take one class index per sample', () => {
    expect(targetShape('sparse_categorical_crossentropy', ['B', 10])).toEqual(['B']);
    expect(targetShape('nll', ['B', 10])).toEqual(['B']);
    expect(targetShape('categorical_crossentropy', ['B', 10])).toEqual(['B', 10]);
  });
  it('binary cross-entropy from logits: softplus(z) − y·z', () => {
    const b = new GraphBuilder();
    const z = b.input('z', 'data', [3, 1]);
    const y = b.input('y', 'target', [3, 1]);
    const out = LOSSES.binary_crossentropy_from_logits(b, z, y);
    const values = interpret(
      b.build(),
      new Map([
        ['z', { shape: [3, 1], data: Float64Array.from([2, -1000, 1000]) }],
        ['y', { shape: [3, 1], data: Float64Array.from([1, 0, 0]) }],
      ]),
    )[out]!.data;
    expect(values[0]).toBeCloseTo(Math.log1p(Math.exp(-2)), 12);
    expect(values[1]).toBeCloseTo(0, 12);
    expect(values[2]).toBeCloseTo(1000, 9);
  });
});

describe('metrics', () => {
  const metric = (m: MetricName, targets: number[]) => perSample(METRICS[m], 'softmax', targets);
  it('sparse accuracy compares the arg-max with the class index', () => {
    expect(metric('sparse_categorical_accuracy', CLASSES)).toEqual([1, 1, 1]);
    expect(metric('accuracy', [0, 1, 2])).toEqual([0, 0, 1]);
  });
  it('top-k accuracy: fewer than k classes score strictly higher than the target', () => {
    const b = new GraphBuilder();
    const z = b.input('z', 'data', [4, 5]);
    const y = b.input('y', 'target', [4]);
    const top3 = METRICS.top_3_accuracy(b, z, y);
    const top5 = METRICS.top_k_accuracy(b, z, y);
    const inputs = new Map<string, Tensor>([
      [
        'z',
        {
          shape: [4, 5],
          data: Float64Array.from([5, 4, 3, 2, 1, 5, 4, 3, 2, 1, 1, 1, 1, 1, 2, 0, 9, 0, 0, 0]),
        },
      ],
      ['y', { shape: [4], data: Float64Array.from([2, 3, 0, 4]) }],
    ]);
    const values = interpret(b.build(), inputs);
    // Row 3's target ties three others below one higher class: a hit.
    expect(Array.from(values[top3]!.data)).toEqual([1, 0, 1, 1]);
    expect(Array.from(values[top5]!.data)).toEqual([1, 1, 1, 1]);
  });
});

describe('regularization', () => {
  it('adds l1·Σ|w| + l2·Σw² of each regularized parameter to the loss', () => {
    const text = `sequential M(x: [2]) {
  Dense(1, use_bias: false, kernel_regularizer: l1_l2(l1: 0.1, l2: 0.5), kernel_initializer: ones)
}
train M {
  data: xor
  loss: mse
}
`;
    const { models, trains, diagnostics } = check(text);
    expect(diagnostics).toEqual([]);
    const t = trains[0]!;
    const steps = buildStepGraphs(models.get('M')!, { loss: t.loss, metrics: [], optimizer: t.optimizer });
    const values = interpretOutputs(
      steps.evaluate,
      new Map<string, Tensor>([
        ['x', { shape: [1, 2], data: Float64Array.from([0, 0]) }],
        ['target', { shape: [1, 1], data: Float64Array.from([0]) }],
        ['mask', { shape: [1], data: Float64Array.from([1]) }],
        ['dense_1/kernel', { shape: [2, 1], data: Float64Array.from([2, -3]) }],
        ['metric/loss', { shape: [], data: new Float64Array(1) }],
        ['metric/count', { shape: [], data: new Float64Array(1) }],
      ]),
    );
    // The data term is 0 (x = 0, y = 0): the loss is the penalty alone.
    expect(values.get('loss')!.data[0]).toBeCloseTo(0.1 * 5 + 0.5 * 13, 12);
    expect(values.get('metric/loss')!.data[0]).toBeCloseTo(0.1 * 5 + 0.5 * 13, 12);
  });
});
