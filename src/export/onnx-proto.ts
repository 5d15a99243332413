/**
 * ONNX's messages (onnx/onnx.proto3, IR version 8) as plain data, and their encoding with
 * {@link ProtoWriter}. Only what an inference graph of f32 tensors needs: nodes with int, float,
 * string and tensor attributes, initializers as raw little-endian data, inputs and outputs
 * with symbolic dimensions.
 */
import { ProtoWriter } from './protobuf.js';

/** ONNX's TensorProto.DataType values used here. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;
export const ONNX_BOOL = 9;
export type OnnxElemType = typeof ONNX_FLOAT | typeof ONNX_INT64 | typeof ONNX_BOOL;

/** IR version 8 is the one that goes with opset 17 (ONNX 1.12). */
const IR_VERSION = 8;

export interface OnnxTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly type: typeof ONNX_FLOAT | typeof ONNX_INT64;
  readonly data: Float32Array | BigInt64Array;
}

export type OnnxAttribute =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'tensor'; readonly value: OnnxTensor };

export interface OnnxNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name: string;
  readonly attributes?: Readonly<Record<string, OnnxAttribute>>;
  /** Where it came from (the .nnx layer path and op), kept in the file for people reading it. */
  readonly doc?: string;
}

/** A graph input or output: its name, element type and shape (a string is a symbolic dimension). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly type: OnnxElemType;
  readonly dims: readonly (number | string)[];
}

export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly doc?: string;
}

export interface OnnxModel {
  readonly graph: OnnxGraph;
  readonly opset: number;
  readonly producer: string;
  readonly producerVersion: string;
}

// Field numbers, from onnx.proto3.
const ATTR_TYPE = { float: 1, int: 2, tensor: 4, ints: 7 } as const;

function encodeTensor(t: OnnxTensor): ProtoWriter {
  const w = new ProtoWriter().packedInts(1, t.dims).int(2, t.type).string(8, t.name);
  // raw_data is little-endian by the spec; typed arrays are in host order, which is little-endian
  // on every platform Node supports.
  return w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function encodeAttribute(name: string, a: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value);
      break;
    case 'int':
      w.int(3, a.value);
      break;
    case 'tensor':
      w.message(5, encodeTensor(a.value));
      break;
    case 'ints':
      w.packedInts(8, a.value);
      break;
  }
  return w.int(20, ATTR_TYPE[a.kind]);
}

function encodeNode(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.op);
  for (const [name, a] of Object.entries(n.attributes ?? {})) w.message(5, encodeAttribute(name, a));
  if (n.doc) w.string(6, n.doc);
  return w;
}

function encodeValueInfo(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims) {
    shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  }
  const tensorType = new ProtoWriter().int(1, v.type).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

function encodeGraph(g: OnnxGraph): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, encodeTensor(t));
  if (g.doc) w.string(10, g.doc);
  for (const v of g.inputs) w.message(11, encodeValueInfo(v));
  for (const v of g.outputs) w.message(12, encodeValueInfo(v));
  return w;
}

/** The bytes of a `.onnx` file. */
export function encodeOnnxModel(m: OnnxModel): Uint8Array {
  return new ProtoWriter()
    .int(1, IR_VERSION)
    .string(2, m.producer)
    .string(3, m.producerVersion)
    .message(7, encodeGraph(m.graph))
    .message(8, new ProtoWriter().string(1, '').int(2, m.opset))
    .finish();
}
