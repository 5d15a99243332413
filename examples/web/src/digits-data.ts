/**
 * The MNIST slice the build cut into public/mnist (see build/mnist-slice.ts), fetched and laid
 * out for the model: pixels scaled to [0, 1], labels one-hot.
 */
import type { Dataset, ModelSpec } from 'nnx/runtime';

/** Digits of one split, row-major: `count` images of `pixelsPerImage` values. */
export interface DigitSamples {
  readonly count: number;
  readonly pixelsPerImage: number;
  /** Pixels in [0, 1]. */
  readonly images: Float32Array;
  /** The digit of each image, 0–9. */
  readonly labels: Uint8Array;
  /** The labels one-hot, ten values per image: what categorical cross-entropy compares with. */
  readonly oneHot: Float32Array;
}

/** The training and test digits of the slice. */
export interface DigitSplits {
  readonly train: DigitSamples;
  readonly test: DigitSamples;
}

interface SliceManifest {
  readonly rows: number;
  readonly cols: number;
  readonly splits: { readonly train: number; readonly test: number };
}

const DIGIT_CLASSES = 10;

/** Fetches the slice from `baseUrl` (a folder URL ending in `/`). */
export async function fetchDigits(baseUrl: string): Promise<DigitSplits> {
  const manifest = (await (await fetchOk(`${baseUrl}slice.json`)).json()) as SliceManifest;
  const pixelsPerImage = manifest.rows * manifest.cols;
  const [train, test] = await Promise.all(
    (['train', 'test'] as const).map((split) =>
      fetchSplit(baseUrl, split, manifest.splits[split], pixelsPerImage),
    ),
  );
  return { train: train!, test: test! };
}

async function fetchSplit(
  baseUrl: string,
  split: string,
  count: number,
  pixelsPerImage: number,
): Promise<DigitSamples> {
  const [pixels, labels] = await Promise.all([
    fetchBytes(`${baseUrl}${split}-images.u8`, count * pixelsPerImage),
    fetchBytes(`${baseUrl}${split}-labels.u8`, count),
  ]);
  const images = Float32Array.from(pixels, (value) => value / 255);
  const oneHot = new Float32Array(count * DIGIT_CLASSES);
  labels.forEach((digit, i) => (oneHot[i * DIGIT_CLASSES + digit] = 1));
  return { count, pixelsPerImage, images, labels, oneHot };
}

async function fetchBytes(url: string, expectedBytes: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(await (await fetchOk(url)).arrayBuffer());
  if (bytes.length !== expectedBytes) {
    throw new Error(`${url} has ${bytes.length} bytes, expected ${expectedBytes}; rebuild the page`);
  }
  return bytes;
}

async function fetchOk(url: string): Promise<Response> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url} failed: ${response.status} ${response.statusText}`);
  return response;
}

/**
 * Samples `start` to `end` of `samples` as a Dataset for `spec`'s train and evaluate entries,
 * keyed by the model's own input and target slot names. The arrays are views, not copies.
 */
export function datasetOf(spec: ModelSpec, samples: DigitSamples, start = 0, end = samples.count): Dataset {
  const slots = spec.entries.train.inputs;
  const input = slots.find((slot) => slot.role === 'input');
  const target = slots.find((slot) => slot.role === 'target');
  if (input === undefined || target === undefined) {
    throw new Error(`model '${spec.name}' needs one input and one target to train on digits`);
  }
  return {
    count: end - start,
    inputs: {
      [input.name]: samples.images.subarray(start * samples.pixelsPerImage, end * samples.pixelsPerImage),
    },
    targets: { [target.name]: samples.oneHot.subarray(start * DIGIT_CLASSES, end * DIGIT_CLASSES) },
  };
}
