/**
 * What the named datasets hold per sample, known without loading them: `nnxc check` fits a
 * model against it, so a model the dataset cannot feed is an error before any training.
 */
import { ownEntry } from '../util/own.js';

/** The feature shape and the class names of one named dataset's samples. */
export interface NamedDatasetShape {
  readonly featureShape: readonly number[];
  readonly classes: number;
}

const SHAPES: Readonly<Record<string, NamedDatasetShape>> = {
  mnist: { featureShape: [28, 28], classes: 10 },
  fashion_mnist: { featureShape: [28, 28], classes: 10 },
  iris: { featureShape: [4], classes: 3 },
  xor: { featureShape: [2], classes: 2 },
  majority: { featureShape: [20], classes: 2 },
  far_repeat: { featureShape: [24], classes: 2 },
};

/** The per-sample shape of a named dataset; undefined for file datasets (csv, npy). */
export function namedDatasetShape(name: string): NamedDatasetShape | undefined {
  return ownEntry(SHAPES, name);
}
