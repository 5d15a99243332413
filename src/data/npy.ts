/**
 * NumPy's .npy format (versions 1–3): the magic `\x93NUMPY`, a version, a header length, a
 * Python-literal header `{'descr': '<f4', 'fortran_order': False, 'shape': (60000, 784), }`,
 * then the raw values. We read C-order arrays of the numeric dtypes and write float32 ones.
 */

import { DatasetError } from './errors.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** The numeric kinds of a dtype we read: float, signed and unsigned integer, bool. */
type NpyKind = 'f' | 'i' | 'u' | 'b';

/** A decoded .npy array; the values are converted to float32 (labels stay exact below 2^24). */
export interface NpyArray {
  readonly shape: readonly number[];
  /** The dtype as written in the file, e.g. `<f4`, `|u1`. */
  readonly dtype: string;
  /** Whether the values are integers (or bools) in the file: candidates for class labels. */
  readonly integral: boolean;
  readonly values: Float32Array;
}

/** Decodes a .npy file; `source` names it in errors. */
export function parseNpy(bytes: Uint8Array, source: string): NpyArray {
  const fail = (problem: string): never => {
    throw new DatasetError(`${source} is not a valid .npy file: ${problem}`);
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail('it does not start with \\x93NUMPY');
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLength: number;
  if (major === 1) {
    headerStart = 10;
    headerLength = view.getUint16(8, true);
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail('it is truncated inside its header length');
    headerStart = 12;
    headerLength = view.getUint32(8, true);
  } else {
    return fail(`format version ${major} is not supported (1, 2 and 3 are)`);
  }
  const dataStart = headerStart! + headerLength!;
  if (dataStart > bytes.length) fail(`it is truncated inside its ${headerLength!}-byte header`);
  const header = new TextDecoder().decode(bytes.subarray(headerStart!, dataStart));
  const descr = /'descr'\s*:\s*'([<>|=])([fiub])(\d+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeText) return fail(`its header is not understood: ${header.trim()}`);
  if (fortran[1] === 'True') fail('it is in Fortran order; save it with np.ascontiguousarray first');
  const shape = shapeText[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`its shape (${shapeText[1]}) is invalid`);
  const [, order, kind, sizeText] = descr;
  const size = Number(sizeText);
  const read = elementReader(kind as NpyKind, size, order === '>');
  if (!read) return fail(`dtype '${order}${kind}${size}' is not supported`);
  const count = shape.reduce((a, b) => a * b, 1);
  const needed = dataStart + count * size;
  if (bytes.length < needed) {
    fail(`it is truncated: shape (${shape.join(', ')}) needs ${needed} bytes, the file has ${bytes.length}`);
  }
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = read(view, dataStart + i * size);
  return { shape, dtype: `${order}${kind}${size}`, integral: kind !== 'f', values };
}

type ElementReader = (view: DataView, offset: number) => number;

function elementReader(kind: NpyKind, size: number, bigEndian: boolean): ElementReader | undefined {
  const le = !bigEndian;
  switch (`${kind}${size}`) {
    case 'f4':
      return (v, o) => v.getFloat32(o, le);
    case 'f8':
      return (v, o) => v.getFloat64(o, le);
    case 'i1':
      return (v, o) => v.getInt8(o);
    case 'u1':
    case 'b1':
      return (v, o) => v.getUint8(o);
    case 'i2':
      return (v, o) => v.getInt16(o, le);
    case 'u2':
      return (v, o) => v.getUint16(o, le);
    case 'i4':
      return (v, o) => v.getInt32(o, le);
    case 'u4':
      return (v, o) => v.getUint32(o, le);
    case 'i8':
      return (v, o) => Number(v.getBigInt64(o, le));
    case 'u8':
      return (v, o) => Number(v.getBigUint64(o, le));
    default:
      return undefined;
  }
}

/** Encodes a float32 array of `shape` as a version-1 .npy file, C order. */
export function encodeNpy(shape: readonly number[], values: Float32Array): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // The data starts at a multiple of 64 bytes; the header ends with a newline.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const bytes = new Uint8Array(total + values.length * 4);
  bytes.set(MAGIC, 0);
  bytes[6] = 1;
  const view = new DataView(bytes.buffer);
  view.setUint16(8, header.length, true);
  bytes.set(new TextEncoder().encode(header), 10);
  for (let i = 0; i < values.length; i++) view.setFloat32(total + i * 4, values[i]!, true);
  return bytes;
}
