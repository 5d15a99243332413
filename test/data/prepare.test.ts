/**
 * Fitting samples to a model: shapes checked with both named, labels encoded as the loss needs
 * (one-hot, class index, 0/1), seeded stratified splits and cross-validation folds.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../ir/random.js';
import {
  DatasetError,
  type ModelDataSlots,
  type SampleSet,
  encodeTargets,
  shapeFits,
  crossValidationFolds,
  splitSamples,
  toModelDataset,
} from '../../src/data/index.js';

const slots = (input: number[], target: number[], targets: 'dense' | 'sparse' = 'dense'): ModelDataSlots => ({
  model: 'M',
  input: { name: 'x', shape: input },
  inputs: [{ name: 'x', shape: input }],
  target: { name: 'target', shape: target },
  targets,
});

const classes = (indices: number[], names = ['a', 'b', 'c']) =>
  ({ kind: 'classes', classes: names, indices: Int32Array.from(indices) }) as const;

describe('shapeFits', () => {
  it('accepts equal shapes and the same values in the same order, nothing else', () => {
    expect(shapeFits([784], [28, 28])).toBe(true);
    expect(shapeFits([28, 28, 1], [28, 28])).toBe(true);
    expect(shapeFits([28, 28], [28, 28])).toBe(true);
    expect(shapeFits([14, 56], [28, 28])).toBe(false);
    expect(shapeFits([10], [28, 28])).toBe(false);
  });
});

describe('encodeTargets', () => {
  it('one-hot for a dense loss with one output per class', () => {
    expect([...encodeTargets(classes([2, 0]), 2, slots([1], [3]), 'd')]).toEqual([0, 0, 1, 1, 0, 0]);
  });
  it('class indices for a sparse loss, or a scalar target per sample', () => {
    expect([...encodeTargets(classes([2, 0]), 2, slots([1], [1], 'sparse'), 'd')]).toEqual([2, 0]);
    expect([...encodeTargets(classes([1, 2]), 2, slots([1], []), 'd')]).toEqual([1, 2]);
  });
  it('0/1 for two classes and a single output', () => {
    expect([...encodeTargets(classes([1, 0, 1], ['no', 'yes']), 3, slots([1], [1]), 'd')]).toEqual([1, 0, 1]);
  });
  it('an error naming both sides when the classes do not fit the output', () => {
    expect(() => encodeTargets(classes([0, 1, 2]), 3, slots([1], [2]), 'iris')).toThrow(
      "dataset 'iris' does not fit M: its labels are 3 classes, but the model's output 'target' has shape [2] per sample (one-hot targets need shape [3])",
    );
  });
});

describe('toModelDataset', () => {
  const set: SampleSet = {
    count: 2,
    featureShape: [28, 28],
    features: new Float32Array(2 * 784),
    labels: classes([0, 1]),
  };
  it('feeds 28×28 images to a [784] input', () => {
    const data = toModelDataset(set, slots([784], [3]), 'mnist');
    expect(data.inputs['x']).toBe(set.features);
    expect(data.targets['target']!.length).toBe(6);
  });
  it('names both shapes when the inputs do not fit', () => {
    expect(() => toModelDataset(set, slots([100], [3]), 'mnist')).toThrow(DatasetError);
    expect(() => toModelDataset(set, slots([100], [3]), 'mnist')).toThrow(
      "dataset 'mnist' does not fit M: its inputs have shape [28, 28] per sample, but the model's input 'x' has shape [100]",
    );
  });
});

describe('toModelDataset with several inputs', () => {
  const pairs: SampleSet = {
    count: 2,
    featureShape: [2, 3],
    features: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
    labels: classes([0, 1], ['no', 'yes']),
  };
  const twoInputs: ModelDataSlots = {
    ...slots([3], [1]),
    inputs: [
      { name: 'left', shape: [3] },
      { name: 'right', shape: [3] },
    ],
  };
  it('splits samples of shape [k, …] along their first axis, one part per input', () => {
    const data = toModelDataset(pairs, twoInputs, 'pairs');
    expect([...data.inputs['left']!]).toEqual([1, 2, 3, 7, 8, 9]);
    expect([...data.inputs['right']!]).toEqual([4, 5, 6, 10, 11, 12]);
    expect([...data.targets['target']!]).toEqual([0, 1]);
  });
  it('names every input when the samples cannot be split', () => {
    expect(() => toModelDataset({ ...pairs, featureShape: [6] }, twoInputs, 'pairs')).toThrow(
      "dataset 'pairs' does not fit M: its inputs have shape [6] per sample, but the model's 2 inputs 'left' [3], 'right' [3] need [2, …] split along the first axis",
    );
  });
});

describe('splitSamples', () => {
  const set: SampleSet = {
    count: 20,
    featureShape: [1],
    features: Float32Array.from({ length: 20 }, (_, i) => i),
    labels: classes(
      Array.from({ length: 20 }, (_, i) => (i < 10 ? 0 : 1)),
      ['a', 'b'],
    ),
  };
  it('holds out a stratified, seeded fraction and keeps the rest', () => {
    const a = splitSamples(set, 0.2, 7, 'v');
    const b = splitSamples(set, 0.2, 7, 'v');
    const c = splitSamples(set, 0.2, 8, 'v');
    expect(a.held.count).toBe(4);
    expect(a.rest.count).toBe(16);
    expect(a.held.features).toEqual(b.held.features);
    expect(a.held.features).not.toEqual(c.held.features);
    const heldClasses = a.held.labels.kind === 'classes' ? [...a.held.labels.indices] : [];
    expect(heldClasses.filter((k) => k === 0).length).toBe(2);
    const all = [...a.held.features, ...a.rest.features].sort((x, y) => x - y);
    expect(all).toEqual([...set.features]);
  });
});

describe('crossValidationFolds', () => {
  // 23 samples of 3 unequal classes on unlike scales, so the folds cannot divide evenly.
  const rand = seededRandom(5);
  const classOf = Array.from({ length: 23 }, (_, i) => (i < 11 ? 0 : i < 18 ? 1 : 2));
  const raw: SampleSet = {
    count: 23,
    featureShape: [2],
    features: Float32Array.from({ length: 46 }, (_, i) => (i % 2 ? 100 : 1) * rand()),
    labels: classes(classOf, ['a', 'b', 'c']),
  };
  const sorted = (values: Iterable<number>) => [...values].sort((x, y) => x - y);

  it('puts every sample in exactly one test part, spreading each class evenly', () => {
    const folds = crossValidationFolds(raw, 4, 9);
    expect(folds.map((f) => f.train.count + f.test.count)).toEqual([23, 23, 23, 23]);
    const sizes = folds.map((f) => f.test.count);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(sorted(folds.flatMap((f) => [...f.test.features]))).toEqual(sorted(raw.features));
    for (const k of [0, 1, 2]) {
      const perFold = folds.map(
        (f) => (f.test.labels.kind === 'classes' ? f.test.labels.indices : []).filter((c) => c === k).length,
      );
      expect(Math.max(...perFold) - Math.min(...perFold)).toBeLessThanOrEqual(1);
    }
    for (const f of folds) expect(f.train.count).toBe(23 - f.test.count);
    expect(crossValidationFolds(raw, 4, 9)[2]!.test.features).toEqual(folds[2]!.test.features);
    expect(crossValidationFolds(raw, 4, 10)[2]!.test.features).not.toEqual(folds[2]!.test.features);
  });
});
