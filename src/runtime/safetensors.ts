/**
 * The safetensors format, F32 only: an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {key: value}}` padded with
 * spaces to 8-byte alignment, then the raw little-endian tensor data. Pure functions over bytes.
 */

import { elementCount } from './init.js';

/** One tensor of a safetensors file. */
export interface SafetensorsTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A decoded safetensors file. Tensors keep the order of their data in the file. */
export interface SafetensorsFile {
  readonly tensors: Map<string, SafetensorsTensor>;
  readonly metadata: Record<string, string>;
}

const METADATA_KEY = '__metadata__';
const HEADER_LENGTH_BYTES = 8;
/** The reference implementation refuses headers over 100 MB; so do we, before parsing. */
const MAX_HEADER_BYTES = 100_000_000;
const BYTES_PER_F32 = 4;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Thrown by {@link decodeSafetensors} and {@link encodeSafetensors} for malformed data. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** Encodes `tensors` (in iteration order) and `metadata` as a safetensors file. */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, SafetensorsTensor>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header[METADATA_KEY] = { ...metadata };
  let dataBytes = 0;
  for (const [name, tensor] of tensors) {
    checkEncodable(name, tensor);
    const size = tensor.data.length * BYTES_PER_F32;
    header[name] = { dtype: 'F32', shape: [...tensor.shape], data_offsets: [dataBytes, dataBytes + size] };
    dataBytes += size;
  }
  const headerText = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = Math.ceil(headerText.length / 8) * 8;
  const file = new Uint8Array(HEADER_LENGTH_BYTES + headerBytes + dataBytes);
  new DataView(file.buffer).setBigUint64(0, BigInt(headerBytes), true);
  file.set(headerText, HEADER_LENGTH_BYTES);
  file.fill(0x20, HEADER_LENGTH_BYTES + headerText.length, HEADER_LENGTH_BYTES + headerBytes);
  let offset = HEADER_LENGTH_BYTES + headerBytes;
  for (const tensor of tensors.values()) {
    writeF32LittleEndian(file, offset, tensor.data);
    offset += tensor.data.length * BYTES_PER_F32;
  }
  return file;
}

function checkEncodable(name: string, tensor: SafetensorsTensor): void {
  if (name === METADATA_KEY) throw new SafetensorsError(`a tensor cannot be named '${METADATA_KEY}'`);
  if (!isShape(tensor.shape)) {
    throw new SafetensorsError(`tensor '${name}' has an invalid shape ${JSON.stringify(tensor.shape)}`);
  }
  if (elementCount(tensor.shape) !== tensor.data.length) {
    throw new SafetensorsError(
      `tensor '${name}' has ${tensor.data.length} values but its shape [${tensor.shape}] ` +
        `needs ${elementCount(tensor.shape)}`,
    );
  }
}

function writeF32LittleEndian(file: Uint8Array, offset: number, data: Float32Array): void {
  if (LITTLE_ENDIAN) {
    file.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
    return;
  }
  const view = new DataView(file.buffer, file.byteOffset);
  for (let i = 0; i < data.length; i++) view.setFloat32(offset + i * BYTES_PER_F32, data[i]!, true);
}

/** Decodes a safetensors file, validating its header and layout; every error names the problem. */
export function decodeSafetensors(bytes: Uint8Array, source?: string): SafetensorsFile {
  try {
    return decodeFile(bytes);
  } catch (error) {
    if (source === undefined || !(error instanceof SafetensorsError)) throw error;
    throw new SafetensorsError(`${source}: ${error.message}`);
  }
}

function decodeFile(bytes: Uint8Array): SafetensorsFile {
  const header = parseHeader(bytes);
  const dataStart = HEADER_LENGTH_BYTES + header.byteLength;
  const dataBytes = bytes.length - dataStart;
  const metadata = parseMetadata(header.json[METADATA_KEY]);
  const entries: TensorEntry[] = [];
  for (const [name, value] of Object.entries(header.json)) {
    if (name !== METADATA_KEY) entries.push(parseTensorEntry(name, value, dataBytes));
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  checkNoOverlap(entries);
  checkCovered(entries, dataBytes);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const entry of entries) {
    const data = readF32LittleEndian(bytes, dataStart + entry.begin, dataStart + entry.end);
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new SafetensorsError(
        `safetensors tensor '${entry.name}' holds ${data[bad]} at index ${bad}; weights must be finite`,
      );
    }
    tensors.set(entry.name, { shape: entry.shape, data });
  }
  return { tensors, metadata };
}

interface ParsedHeader {
  readonly byteLength: number;
  readonly json: Record<string, unknown>;
}

function parseHeader(bytes: Uint8Array): ParsedHeader {
  if (bytes.length < HEADER_LENGTH_BYTES) {
    throw new SafetensorsError(
      `safetensors file is truncated: ${bytes.length} bytes, too short for the 8-byte header length`,
    );
  }
  const declared = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(
      `safetensors header length ${declared} exceeds the ${MAX_HEADER_BYTES}-byte limit`,
    );
  }
  const byteLength = Number(declared);
  if (HEADER_LENGTH_BYTES + byteLength > bytes.length) {
    throw new SafetensorsError(
      `safetensors file is truncated: the header declares ${byteLength} bytes but only ` +
        `${bytes.length - HEADER_LENGTH_BYTES} follow the length`,
    );
  }
  // As the reference implementation: the header is a JSON object from its first byte (a
  // byte-order mark is refused; TextDecoder would drop it silently).
  if (byteLength === 0 || bytes[HEADER_LENGTH_BYTES] !== 0x7b) {
    throw new SafetensorsError(
      `safetensors header does not start with '{'` +
        (bytes[HEADER_LENGTH_BYTES] === 0xef ? ' (it starts with a UTF-8 byte-order mark)' : ''),
    );
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(
    bytes.subarray(HEADER_LENGTH_BYTES, HEADER_LENGTH_BYTES + byteLength),
  );
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SafetensorsError(`safetensors header is not valid JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(json)) throw new SafetensorsError('safetensors header is not a JSON object');
  return { byteLength, json };
}

function parseMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw new SafetensorsError(`safetensors ${METADATA_KEY} is not an object`);
  const metadata: Record<string, string> = {};
  for (const [key, text] of Object.entries(value)) {
    if (typeof text !== 'string') {
      throw new SafetensorsError(`safetensors ${METADATA_KEY} entry '${key}' is not a string`);
    }
    metadata[key] = text;
  }
  return metadata;
}

interface TensorEntry {
  readonly name: string;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

function parseTensorEntry(name: string, value: unknown, dataBytes: number): TensorEntry {
  const fail = (problem: string): never => {
    throw new SafetensorsError(`safetensors tensor '${name}': ${problem}`);
  };
  if (!isPlainObject(value)) return fail('its header entry is not an object');
  const { dtype, shape, data_offsets: offsets } = value;
  if (dtype !== 'F32') return fail(`dtype ${JSON.stringify(dtype)} is not supported; nnx reads only F32`);
  if (!isShape(shape)) return fail(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
    return fail(`data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataBytes) {
    return fail(`data_offsets [${begin}, ${end}] lie outside the ${dataBytes}-byte data section`);
  }
  const expectedBytes = elementCount(shape) * BYTES_PER_F32;
  if (end - begin !== expectedBytes) {
    return fail(
      `data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape [${shape}] of F32 ` +
        `needs ${expectedBytes}`,
    );
  }
  return { name, shape: [...shape], begin, end };
}

function checkNoOverlap(sortedEntries: readonly TensorEntry[]): void {
  for (let i = 1; i < sortedEntries.length; i++) {
    const previous = sortedEntries[i - 1]!;
    const current = sortedEntries[i]!;
    if (current.begin < previous.end) {
      throw new SafetensorsError(
        `safetensors tensors '${previous.name}' [${previous.begin}, ${previous.end}] and ` +
          `'${current.name}' [${current.begin}, ${current.end}] overlap`,
      );
    }
  }
}

/**
 * The tensors fill the data section end to end, as the reference implementation requires: no
 * gap between two, and no bytes after the last (a file with more appended is refused).
 */
function checkCovered(sortedEntries: readonly TensorEntry[], dataBytes: number): void {
  let offset = 0;
  for (const entry of sortedEntries) {
    if (entry.begin !== offset) {
      throw new SafetensorsError(
        `safetensors tensor '${entry.name}' starts at byte ${entry.begin} of the data section, not at ${offset} where the previous one ends`,
      );
    }
    offset = entry.end;
  }
  if (offset !== dataBytes) {
    throw new SafetensorsError(
      `safetensors file has ${dataBytes - offset} bytes after the data its tensors declare (${offset} of ${dataBytes})`,
    );
  }
}

function readF32LittleEndian(bytes: Uint8Array, begin: number, end: number): Float32Array {
  // Copy into a fresh, aligned array, so the tensor does not pin the file. (Not bytes.slice():
  // on a Node Buffer that is a view of Node's shared pool.)
  const data = new Float32Array((end - begin) / BYTES_PER_F32);
  if (LITTLE_ENDIAN) {
    new Uint8Array(data.buffer).set(bytes.subarray(begin, end));
    return data;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + begin, end - begin);
  for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(i * BYTES_PER_F32, true);
  return data;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isShape(value: unknown): value is number[] {
  return Array.isArray(value) && value.every(isNonNegativeInteger);
}
