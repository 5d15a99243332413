/**
 * Datasets by the names train blocks use (`data: xor`). Each loader returns samples laid out
 * for the model's slots: row-major inputs and targets, one row per sample.
 */

export interface LoadedDataset {
  readonly name: string;
  readonly train: Samples;
  /** A held-out split, when the dataset has one. */
  readonly test?: Samples;
}

export interface Samples {
  readonly count: number;
  /** Per-sample feature shape and values, row-major. */
  readonly inputShape: readonly number[];
  readonly inputs: Float32Array;
  readonly targetShape: readonly number[];
  readonly targets: Float32Array;
}

/** The four points of XOR; the classic has no test split (it is its own test). */
function xor(): LoadedDataset {
  const inputs = Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]);
  const targets = Float32Array.from([0, 1, 1, 0]);
  return { name: 'xor', train: { count: 4, inputShape: [2], inputs, targetShape: [1], targets } };
}

const LOADERS: Readonly<Record<string, () => Promise<LoadedDataset> | LoadedDataset>> = { xor };

export async function loadDataset(name: string): Promise<LoadedDataset> {
  const loader = LOADERS[name];
  if (!loader)
    throw new Error(`unknown dataset '${name}'; known datasets: ${Object.keys(LOADERS).join(', ')}`);
  return loader();
}

/** Checks that a dataset's per-sample shapes fit the model's; returns a message naming both. */
export function shapeMismatch(
  what: string,
  model: readonly number[],
  data: readonly number[],
): string | undefined {
  const same = model.length === data.length && model.every((d, i) => d === data[i]);
  return same
    ? undefined
    : `the dataset's ${what} have shape [${data.join(', ')}] per sample, but the model expects [${model.join(', ')}]`;
}
