/**
 * The IDX format of the MNIST files: two zero bytes, a type code, the number of dimensions,
 * each dimension as a big-endian uint32, then the values, big-endian, row-major. Our own reader:
 * a truncated, padded or corrupt file is an error that says which and by how much, never a
 * silently short dataset.
 */

import { DatasetError } from './errors.js';

/** The element types IDX defines, by type code, with their size in bytes. */
const IDX_TYPES = {
  0x08: { name: 'ubyte', bytes: 1 },
  0x09: { name: 'sbyte', bytes: 1 },
  0x0b: { name: 'short', bytes: 2 },
  0x0c: { name: 'int', bytes: 4 },
  0x0d: { name: 'float', bytes: 4 },
  0x0e: { name: 'double', bytes: 8 },
} as const;

/** An IDX element type name. */
export type IdxType = (typeof IDX_TYPES)[keyof typeof IDX_TYPES]['name'];

/** A decoded IDX file: its shape, element type and values (bytes stay bytes, no copy). */
export interface IdxArray {
  readonly type: IdxType;
  readonly shape: readonly number[];
  /** Row-major values: the file's own bytes for `ubyte`, converted values otherwise. */
  readonly values: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const HEADER_PREFIX_BYTES = 4;

/**
 * Decodes an IDX file. `source` names it in errors (a path). Throws {@link DatasetError} when
 * the magic number is wrong, the type code unknown, or the data shorter or longer than the
 * dimensions declare.
 */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  const fail = (problem: string): never => {
    throw new DatasetError(`${source} is not a valid IDX file: ${problem}`);
  };
  if (bytes.length < HEADER_PREFIX_BYTES)
    fail(`it has ${bytes.length} bytes, too few for the 4-byte magic number`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    fail(
      `its magic number starts with 0x${hex(bytes[0]!)}${hex(bytes[1]!)}, not 0x0000 (is it gzip-compressed?)`,
    );
  }
  const typeCode = bytes[2]!;
  const type = IDX_TYPES[typeCode as keyof typeof IDX_TYPES];
  if (type === undefined) fail(`unknown element type code 0x${hex(typeCode)}`);
  const rank = bytes[3]!;
  if (rank === 0) fail('it declares 0 dimensions');
  const dataStart = HEADER_PREFIX_BYTES + 4 * rank;
  if (bytes.length < dataStart) {
    fail(
      `it is truncated: ${bytes.length} bytes, but its ${rank} dimensions need a ${dataStart}-byte header`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(HEADER_PREFIX_BYTES + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = dataStart + count * type!.bytes;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated' : 'longer than its header says';
    fail(
      `it is ${what}: shape [${shape.join(', ')}] of ${type!.name} needs ${expected} bytes, the file has ${bytes.length}`,
    );
  }
  return { type: type!.name, shape, values: decodeValues(type!.name, view, dataStart, count, bytes) };
}

function decodeValues(
  type: IdxType,
  view: DataView,
  start: number,
  count: number,
  bytes: Uint8Array,
): IdxArray['values'] {
  switch (type) {
    case 'ubyte':
      return bytes.subarray(start, start + count);
    case 'sbyte':
      return new Int8Array(bytes.buffer, bytes.byteOffset + start, count);
    case 'short':
      return Int16Array.from({ length: count }, (_, i) => view.getInt16(start + 2 * i, false));
    case 'int':
      return Int32Array.from({ length: count }, (_, i) => view.getInt32(start + 4 * i, false));
    case 'float':
      return Float32Array.from({ length: count }, (_, i) => view.getFloat32(start + 4 * i, false));
    case 'double':
      return Float64Array.from({ length: count }, (_, i) => view.getFloat64(start + 8 * i, false));
  }
}

/** Encodes `values` of `shape` as an IDX ubyte file (for tests and small fixtures). */
export function encodeIdxUbyte(shape: readonly number[], values: Uint8Array): Uint8Array {
  const dataStart = HEADER_PREFIX_BYTES + 4 * shape.length;
  const bytes = new Uint8Array(dataStart + values.length);
  const view = new DataView(bytes.buffer);
  bytes[2] = 0x08;
  bytes[3] = shape.length;
  shape.forEach((dim, i) => view.setUint32(HEADER_PREFIX_BYTES + 4 * i, dim, false));
  bytes.set(values, dataStart);
  return bytes;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
