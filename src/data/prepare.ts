/**
 * Where samples meet a compiled model: the dataset's shapes are checked against the model's
 * input and target slots (an error names both shapes), and labels become the targets the loss
 * needs — one-hot vectors, class indices (`training.targets: 'sparse'`) or 0/1 values.
 */

import type { Dataset } from '../runtime/batching.js';
import type { ModelSpec } from '../runtime/spec.js';
import { DatasetError } from './errors.js';
import { type Labels, type SampleSet, elementsOf } from './samples.js';

/** A tensor slot by name, with its per-sample shape. */
export interface DataSlot {
  readonly name: string;
  readonly shape: readonly number[];
}

/** A model's inputs and its one target, per sample, and the form its loss takes targets in. */
export interface ModelDataSlots {
  readonly model: string;
  /** The first input; `inputs` has them all. */
  readonly input: DataSlot;
  readonly inputs: readonly DataSlot[];
  readonly target: { readonly name: string; readonly shape: readonly number[] };
  readonly targets: 'dense' | 'sparse';
}

/** The data slots of `spec`; datasets feed models with one output and any number of inputs. */
export function dataSlots(spec: ModelSpec): ModelDataSlots {
  const inputs = spec.entries.train.inputs
    .filter((slot) => slot.role === 'input')
    .map((slot) => ({ name: slot.name, shape: slot.shape.slice(1) }));
  const targets = spec.entries.train.inputs.filter((slot) => slot.role === 'target');
  if (inputs.length === 0 || targets.length !== 1) {
    throw new DatasetError(
      `${spec.name} has ${inputs.length} inputs and ${targets.length} outputs; the built-in datasets feed ` +
        `models with one output (use the generated module's fit() for others)`,
    );
  }
  return {
    model: spec.name,
    input: inputs[0]!,
    inputs,
    target: { name: targets[0]!.name, shape: targets[0]!.shape.slice(1) },
    targets: spec.training.targets,
  };
}

const format = (shape: readonly number[]) => `[${shape.join(', ')}]`;
const withoutOnes = (shape: readonly number[]) => shape.filter((d) => d !== 1);

/**
 * Whether samples of shape `data` can feed a slot of shape `model`: equal, or the same values in
 * the same row-major order (28×28 images into `[784]`, or into `[28, 28, 1]`).
 */
export function shapeFits(model: readonly number[], data: readonly number[]): boolean {
  if (elementsOf(model) !== elementsOf(data)) return false;
  const a = withoutOnes(model);
  const b = withoutOnes(data);
  return model.length === 1 || (a.length === b.length && a.every((d, i) => d === b[i]));
}

/** The targets `labels` give for `slots.target`, or an error naming the dataset's and the model's shapes. */
export function encodeTargets(
  labels: Labels,
  count: number,
  slots: ModelDataSlots,
  dataset: string,
): Float32Array {
  const shape = slots.target.shape;
  const width = elementsOf(shape);
  const misfit = (what: string, need: string): never => {
    throw new DatasetError(
      `dataset '${dataset}' does not fit ${slots.model}: its labels are ${what}, but the model's output ` +
        `'${slots.target.name}' has shape ${format(shape)} per sample${need}`,
    );
  };
  if (labels.kind === 'values') {
    if (elementsOf(labels.shape) !== width || (!shapeFits(shape, labels.shape) && width !== 1)) {
      return misfit(`values of shape ${format(labels.shape)}`, '');
    }
    return labels.values;
  }
  const classes = labels.classes.length;
  // A scalar target per sample can only be a class index, whatever the spec says.
  if (slots.targets === 'sparse' || shape.length === 0) {
    if (width !== 1) return misfit(`${classes} classes`, ' (a sparse loss takes one class index per sample)');
    return Float32Array.from(labels.indices);
  }
  if (width === 1 && classes === 2) return Float32Array.from(labels.indices);
  if (shape.length !== 1 || width < classes) {
    return misfit(`${classes} classes`, ` (one-hot targets need shape [${classes}])`);
  }
  const oneHot = new Float32Array(count * width);
  for (let i = 0; i < count; i++) oneHot[i * width + labels.indices[i]!] = 1;
  return oneHot;
}

/** Checks `set` against the model's slots and lays it out as the runtime's {@link Dataset}. */
export function toModelDataset(set: SampleSet, slots: ModelDataSlots, dataset: string): Dataset {
  return {
    count: set.count,
    inputs: splitInputs(set, slots, dataset),
    targets: { [slots.target.name]: encodeTargets(set.labels, set.count, slots, dataset) },
  };
}

/**
 * The features of `set` per model input: all of them for a one-input model; for a model with k
 * inputs, samples of shape `[k, …]` split along their first axis (a pairs array `(n, 2, 8)`
 * feeds `left: [8]` and `right: [8]`).
 */
function splitInputs(set: SampleSet, slots: ModelDataSlots, dataset: string): Record<string, Float32Array> {
  const { inputs } = slots;
  const names = inputs.map((input) => `'${input.name}' ${format(input.shape)}`).join(', ');
  if (inputs.length === 1) {
    if (shapeFits(inputs[0]!.shape, set.featureShape)) return { [inputs[0]!.name]: set.features };
    throw new DatasetError(
      `dataset '${dataset}' does not fit ${slots.model}: its inputs have shape ${format(set.featureShape)} ` +
        `per sample, but the model's input '${inputs[0]!.name}' has shape ${format(inputs[0]!.shape)}`,
    );
  }
  const part = set.featureShape.slice(1);
  if (set.featureShape[0] !== inputs.length || !inputs.every((input) => shapeFits(input.shape, part))) {
    throw new DatasetError(
      `dataset '${dataset}' does not fit ${slots.model}: its inputs have shape ${format(set.featureShape)} ` +
        `per sample, but the model's ${inputs.length} inputs ${names} need [${inputs.length}, …] split along the first axis`,
    );
  }
  const width = elementsOf(part);
  const split: Record<string, Float32Array> = {};
  inputs.forEach((input, k) => {
    const values = new Float32Array(set.count * width);
    for (let s = 0; s < set.count; s++) {
      const from = (s * inputs.length + k) * width;
      values.set(set.features.subarray(from, from + width), s * width);
    }
    split[input.name] = values;
  });
  return split;
}

/**
 * Throws the {@link DatasetError} loading would, for a dataset whose samples have
 * `featureShape` and one of `classes` labels, without the data: one all-zero sample of class 0
 * goes through the same fitting as the real ones.
 */
export function checkSamplesFit(
  featureShape: readonly number[],
  classes: number,
  slots: ModelDataSlots,
  dataset: string,
): void {
  const set: SampleSet = {
    count: 1,
    featureShape,
    features: new Float32Array(elementsOf(featureShape)),
    labels: {
      kind: 'classes',
      classes: Array.from({ length: classes }, (_, i) => String(i)),
      indices: Int32Array.of(0),
    },
  };
  toModelDataset(set, slots, dataset);
}
