/**
 * Samples as loaders produce them, before they meet a model: features row-major, and labels
 * either class indices (with the class names) or values. How labels become targets — one-hot,
 * class index, 0/1 — is decided later, from the model's target slot (see prepare.ts).
 */

import { Rng, deriveSeed } from '../runtime/rng.js';

/** Labels of a set: classes (index per sample) or values (a tensor per sample). */
export type Labels =
  | {
      readonly kind: 'classes';
      /** Class names by index (`setosa`, … or `0`…`9`). */
      readonly classes: readonly string[];
      readonly indices: Int32Array;
    }
  | { readonly kind: 'values'; readonly shape: readonly number[]; readonly values: Float32Array };

/** `count` samples: features of `featureShape` each, and their labels. */
export interface SampleSet {
  readonly count: number;
  readonly featureShape: readonly number[];
  readonly features: Float32Array;
  readonly labels: Labels;
}

/** A dataset by name: its training samples and, when it has one, a held-out test split. */
export interface LoadedDataset {
  readonly name: string;
  readonly train: SampleSet;
  readonly test?: SampleSet;
}

/** Per-sample element count of a shape. */
export function elementsOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The samples at `indices`, in that order (a copy). */
export function selectSamples(set: SampleSet, indices: ArrayLike<number>): SampleSet {
  const perSample = elementsOf(set.featureShape);
  const features = new Float32Array(indices.length * perSample);
  for (let i = 0; i < indices.length; i++) {
    const s = indices[i]!;
    features.set(set.features.subarray(s * perSample, (s + 1) * perSample), i * perSample);
  }
  return {
    count: indices.length,
    featureShape: set.featureShape,
    features,
    labels: selectLabels(set.labels, indices),
  };
}

function selectLabels(labels: Labels, indices: ArrayLike<number>): Labels {
  if (labels.kind === 'classes') {
    return {
      ...labels,
      indices: Int32Array.from({ length: indices.length }, (_, i) => labels.indices[indices[i]!]!),
    };
  }
  const perSample = elementsOf(labels.shape);
  const values = new Float32Array(indices.length * perSample);
  for (let i = 0; i < indices.length; i++) {
    const s = indices[i]!;
    values.set(labels.values.subarray(s * perSample, (s + 1) * perSample), i * perSample);
  }
  return { ...labels, values };
}

/** A permutation of `0..count-1`, the same for the same seed and label. */
export function seededPermutation(count: number, seed: number, label: string): Uint32Array {
  const order = Uint32Array.from({ length: count }, (_, i) => i);
  return new Rng(deriveSeed(seed, label)).shuffle(order);
}

/**
 * Splits `set` in two: a seeded random `fraction` of the samples (stratified by class when the
 * labels are classes, so a small split still sees every class) and the rest. Each part keeps
 * the original sample order.
 */
export function splitSamples(
  set: SampleSet,
  fraction: number,
  seed: number,
  label: string,
): { rest: SampleSet; held: SampleSet } {
  const heldOut = new Uint8Array(set.count);
  classGroups(set).forEach((members, group) => {
    const order = seededPermutation(members.length, seed, `${label}/${group}`);
    const take = Math.round(members.length * fraction);
    for (let i = 0; i < take; i++) heldOut[members[order[i]!]!] = 1;
  });
  const held: number[] = [];
  const rest: number[] = [];
  for (let i = 0; i < set.count; i++) (heldOut[i] ? held : rest).push(i);
  return { rest: selectSamples(set, rest), held: selectSamples(set, held) };
}

/** The samples of `a` then those of `b`: the same feature shape, and labels of the same kind and classes. */
export function joinSamples(a: SampleSet, b: SampleSet): SampleSet {
  const features = new Float32Array(a.features.length + b.features.length);
  features.set(a.features);
  features.set(b.features, a.features.length);
  const joined = (x: Labels, y: Labels): Labels => {
    if (x.kind === 'classes' && y.kind === 'classes') {
      const indices = new Int32Array(x.indices.length + y.indices.length);
      indices.set(x.indices);
      indices.set(y.indices, x.indices.length);
      return { ...x, indices };
    }
    if (x.kind === 'values' && y.kind === 'values') {
      const values = new Float32Array(x.values.length + y.values.length);
      values.set(x.values);
      values.set(y.values, x.values.length);
      return { ...x, values };
    }
    throw new Error('joinSamples: one set has class labels and the other values');
  };
  return {
    count: a.count + b.count,
    featureShape: a.featureShape,
    features,
    labels: joined(a.labels, b.labels),
  };
}

/** One round of cross-validation: train on `train`, test on `test`. */
export interface Fold {
  readonly train: SampleSet;
  readonly test: SampleSet;
}

/** All samples of a dataset: its training split, then its test split when it has one. */
export function pooledSamples(dataset: LoadedDataset): SampleSet {
  return dataset.test ? joinSamples(dataset.train, dataset.test) : dataset.train;
}

/**
 * Stratified k-fold cross-validation: `folds` splits of `set`, every sample in the test part of
 * exactly one, each class spread over the folds as evenly as it divides; the assignment is
 * seeded.
 */
export function crossValidationFolds(set: SampleSet, folds: number, seed: number): Fold[] {
  const foldOf = new Int32Array(set.count);
  let next = 0; // continues across classes, so the folds' sizes differ by at most one
  classGroups(set).forEach((members, group) => {
    const order = seededPermutation(members.length, seed, `folds/${group}`);
    for (let i = 0; i < members.length; i++) foldOf[members[order[i]!]!] = next++ % folds;
  });
  return Array.from({ length: folds }, (_, k) => {
    const test: number[] = [];
    const train: number[] = [];
    for (let i = 0; i < set.count; i++) (foldOf[i] === k ? test : train).push(i);
    return { train: selectSamples(set, train), test: selectSamples(set, test) };
  });
}

/** Sample indices by class index (one group for value labels); a class without samples is a hole. */
function classGroups(set: SampleSet): number[][] {
  const groups: number[][] = [];
  if (set.labels.kind === 'classes') {
    const { indices } = set.labels;
    for (let i = 0; i < set.count; i++) (groups[indices[i]!] ??= []).push(i);
  } else groups.push(Array.from({ length: set.count }, (_, i) => i));
  return groups;
}
