/**
 * Losses and metrics of the layer library, per sample, by the interpreter: sparse targets,
 * NLL on log_softmax, from-logits forms (finite at logits of ±1000), top-k and sparse accuracy,
 * and regularization penalties in the training loss.
 */
import { describe, expect, it } from 'vitest';
import { check, compile } from '../../../src/compile.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { inputsOf } from '../../../src/ir/graph.js';
import { logSoftmax, softmax } from '../../../src/lower/layers.js';
import { interpret, interpretOutputs } from '../../../src/ir/interpret.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import type { LossName, MetricName } from '../../../src/bind/losses.js';
import { LOSSES, METRICS, targetShape } from '../../../src/ir/train/losses.js';
import { buildStepGraphs } from '../../../src/ir/train/step.js';
import { MASK_INPUT } from '../../../src/lower/layers/types.js';

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
  const metric = (m: MetricName, targets: number[], loss: LossName = 'sparse_categorical_crossentropy') =>
    perSample((b, p, y) => METRICS[m](b, p, y, loss), 'softmax', targets);
  it('sparse accuracy compares the arg-max with the class index', () => {
    expect(metric('sparse_categorical_accuracy', CLASSES)).toEqual([1, 1, 1]);
    expect(metric('accuracy', [0, 1, 2])).toEqual([0, 0, 1]);
  });
  // Arg-max of softmax(LOGITS) rows: 1, 0, 2.
  const SOFT = [0.2, 0.5, 0.3, 0.3, 0.6, 0.1, 0.4, 0.35, 0.25];
  it('accuracy with categorical cross-entropy compares arg-maxes, soft labels by their largest class', () => {
    expect(
      perSample(
        (b, p, y) => METRICS.accuracy(b, p, y, 'categorical_crossentropy'),
        'softmax',
        SOFT,
        (n) => [n, 3],
      ),
    ).toEqual([1, 0, 0]);
    expect(
      perSample(
        (b, p, y) => METRICS.categorical_accuracy(b, p, y, 'mse'),
        'softmax',
        SOFT,
        (n) => [n, 3],
      ),
    ).toEqual([1, 0, 0]);
  });

  /** Per-sample `m` of the probabilities or logits `p` ([rows, units]) against `y` under `loss`. */
  function direct(m: MetricName, loss: LossName, p: number[], y: number[], units: number): number[] {
    const b = new GraphBuilder();
    const rows = p.length / units;
    const pi = b.input('p', 'data', [rows, units]);
    const yi = b.input('y', 'target', [rows, units]);
    const out = METRICS[m](b, pi, yi, loss);
    const inputs = new Map<string, Tensor>([
      ['p', { shape: [rows, units], data: Float64Array.from(p) }],
      ['y', { shape: [rows, units], data: Float64Array.from(y) }],
    ]);
    return Array.from(interpret(b.build(), inputs)[out]!.data);
  }
  it('accuracy with binary cross-entropy on several units is binary, unit by unit', () => {
    const p = [0.9, 0.2, 0.6, 0.4, 0.7, 0.1];
    const y = [1, 0, 0, 0, 0, 1];
    const binary = direct('accuracy', 'binary_crossentropy', p, y, 3);
    expect(binary[0]).toBeCloseTo(2 / 3, 12);
    expect(binary[1]).toBeCloseTo(1 / 3, 12);
    expect(direct('binary_accuracy', 'mse', p, y, 3).map((v) => +v.toFixed(12))).toEqual(
      binary.map((v) => +v.toFixed(12)),
    );
    // The same outputs under a categorical loss: arg-max 0 = 0 hits, arg-max 1 ≠ 2 misses.
    expect(direct('accuracy', 'categorical_crossentropy', p, y, 3)).toEqual([1, 0]);
  });
  it('accuracy with binary cross-entropy from logits thresholds the logits at 0', () => {
    expect(direct('accuracy', 'binary_crossentropy_from_logits', [0.3, -0.2, 0.7], [1, 0, 0], 1)).toEqual([
      1, 1, 0,
    ]);
    expect(direct('accuracy', 'binary_crossentropy', [0.3, -0.2, 0.7], [1, 0, 0], 1)).toEqual([0, 1, 0]);
  });
  it("a train block's accuracy takes its variant from that output's loss", () => {
    const text = `model M(x: [2]) -> (tags: [3], kind: [3]) {
  tags = Dense(3, activation: sigmoid, kernel_initializer: zeros, bias_initializer: zeros)(x)
  kind = Dense(3, activation: softmax, kernel_initializer: zeros, bias_initializer: zeros)(x)
}
train M {
  data: xor
  loss: { tags: binary_crossentropy, kind: categorical_crossentropy }
  metrics: [accuracy]
}
`;
    const { models, trains, diagnostics } = check(text);
    expect(diagnostics).toEqual([]);
    const t = trains[0]!;
    const outputLosses = new Map(t.outputLosses.map((o) => [o.output!, { loss: o.loss, weight: o.weight }]));
    const steps = buildStepGraphs(models.get('M')!, {
      loss: t.loss,
      outputLosses,
      metrics: t.metrics,
      optimizer: t.optimizer,
    });
    const zeros = (n: number) => new Float64Array(n);
    const values = interpretOutputs(
      steps.evaluate,
      new Map<string, Tensor>([
        ['x', { shape: [1, 2], data: Float64Array.from([1, 1]) }],
        // σ(0) = 0.5 is not > 0.5: every tag predicted 0, so [1, 0, 0] scores 2/3.
        ['target/tags', { shape: [1, 3], data: Float64Array.from([1, 0, 0]) }],
        // Uniform softmax: every class ties for the maximum, a hit (as a tie counts).
        ['target/kind', { shape: [1, 3], data: Float64Array.from([0.1, 0.7, 0.2]) }],
        [MASK_INPUT, { shape: [1], data: Float64Array.from([1]) }],
        ...['dense_1/kernel', 'dense_2/kernel'].map((n) => [n, { shape: [2, 3], data: zeros(6) }] as const),
        ...['dense_1/bias', 'dense_2/bias'].map((n) => [n, { shape: [3], data: zeros(3) }] as const),
        ['metric/loss', { shape: [], data: zeros(1) }],
        ['metric/accuracy', { shape: [], data: zeros(1) }],
        ['metric/count', { shape: [], data: zeros(1) }],
      ]),
    );
    // The metric sums over both outputs: 2/3 (binary, tags) + 1 (categorical, kind).
    expect(values.get('metric/accuracy')!.data[0]).toBeCloseTo(2 / 3 + 1, 12);
  });

  it('top-k accuracy: fewer than k classes score strictly higher than the target', () => {
    const b = new GraphBuilder();
    const z = b.input('z', 'data', [4, 5]);
    const y = b.input('y', 'target', [4]);
    const top3 = METRICS.top_3_accuracy(b, z, y, 'sparse_categorical_crossentropy');
    const top5 = METRICS.top_k_accuracy(b, z, y, 'sparse_categorical_crossentropy');
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
        [MASK_INPUT, { shape: [1], data: Float64Array.from([1]) }],
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

describe('losses on outputs of rank ≥ 2 per sample', () => {
  // Two samples of three time steps over the three classes of LOGITS: each time step is one
  // row, and the per-sample value is the mean over the time steps, as Keras reports it.
  const seq = [LOGITS, [LOGITS[2]!, LOGITS[0]!, LOGITS[1]!]];
  const classes = [CLASSES, [0, 1, 2]];
  function perSampleSeq(
    fn: (b: GraphBuilder, p: number, y: number) => number,
    activation: 'softmax' | 'none',
  ) {
    const b = new GraphBuilder();
    const z = b.input('z', 'data', [2, 3, 3]);
    const p = activation === 'softmax' ? softmax(b, z) : z;
    const y = b.input('y', 'target', [2, 3]);
    const out = fn(b, p, y);
    expect(b.shapeOf(out)).toEqual([2]);
    const inputs = new Map<string, Tensor>([
      ['z', { shape: [2, 3, 3], data: Float64Array.from(seq.flat(2)) }],
      ['y', { shape: [2, 3], data: Float64Array.from(classes.flat()) }],
    ]);
    return Array.from(interpret(b.build(), inputs)[out]!.data);
  }
  const mean = (xs: number[]) => xs.reduce((a, v) => a + v, 0) / xs.length;
  it.each([
    ['sparse_categorical_crossentropy', 'softmax'],
    ['sparse_categorical_crossentropy_from_logits', 'none'],
  ] as const)('%s of a [T, C] output is the mean cross-entropy over T', (loss, activation) => {
    const got = perSampleSeq(LOSSES[loss], activation);
    const want = seq.map((rows, s) => mean(rows.map((z, t) => crossEntropy(z, classes[s]![t]!))));
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 10));
  });
  it('accuracy of a [T, C] output is the fraction of time steps right', () => {
    // Arg-max of the rows of LOGITS: 1, 0, 2; the second sample's targets hit one of three.
    const got = perSampleSeq(
      (b, p, y) => METRICS.accuracy(b, p, y, 'sparse_categorical_crossentropy'),
      'softmax',
    );
    expect(got[0]).toBeCloseTo(1, 12);
    expect(got[1]).toBeCloseTo(1 / 3, 12);
  });
  it('a tagger with a sparse loss checks and takes [T] targets', () => {
    const { diagnostics, compiled } = compile(
      `sequential Tagger(x: [6]) {\n  Embedding(10, 4)\n  SimpleRNN(5, return_sequences: true)\n  Dense(3, activation: softmax)\n}\ntrain Tagger {\n  data: xor\n  loss: sparse_categorical_crossentropy\n  metrics: [accuracy]\n}\n`,
    );
    expect(diagnostics).toEqual([]);
    const target = inputsOf(compiled!.optimized.train, 'target')[0]!;
    expect(target.shape.slice(1)).toEqual([6]);
  });
});
