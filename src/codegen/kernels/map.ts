/**
 * The `map` kernel kind: elementwise ops and the layout ops broadcast, reshape and transpose,
 * all as out[i] = f(loads) with strided index arithmetic.
 */
import { type Node, isBinary, isUnary, sizeOf } from '../../ir/graph.js';
import { BINARY, UNARY } from '../../ir/ops.js';
import { broadcastStrides } from '../../ir/tensor.js';
import { contiguousStrides, grid1d, main1d, offsetExpr } from '../wgsl.js';
import { type GeneratedKernel, type Operands, shapeOf } from './operands.js';

/** out[i] = f(srcs read through strides over the output index). */
export function mapKernel(ops: Operands, node: Node): GeneratedKernel {
  const out = shapeOf(node);
  const n = sizeOf(out);
  const read = (k: number, strides: number[]) => ops.load(k, offsetExpr(out, strides, 'i'));
  let lets: string[];
  let value: string;
  if (isUnary(node.op)) {
    lets = [`let a = ${read(0, broadcastStrides(ops.shape(0), out))};`];
    value = UNARY[node.op].wgsl('a');
  } else if (isBinary(node.op)) {
    lets = [
      `let a = ${read(0, broadcastStrides(ops.shape(0), out))};`,
      `let b = ${read(1, broadcastStrides(ops.shape(1), out))};`,
    ];
    value = BINARY[node.op].wgsl('a', 'b');
  } else if (node.op === 'broadcast') {
    lets = [];
    value = read(0, broadcastStrides(ops.shape(0), out));
  } else if (node.op === 'reshape') {
    lets = [];
    value = ops.load(0, 'i');
  } else if (node.op === 'transpose') {
    const own = contiguousStrides(ops.shape(0));
    lets = [];
    value = read(
      0,
      (node as Node<'transpose'>).params.perm.map((p) => own[p]!),
    );
  } else {
    throw new Error(`internal: ${node.op} is not a map kernel`);
  }
  const { workgroups, strideX } = grid1d(n);
  const wgsl =
    [ops.header(), '', main1d(n, strideX, [...lets, `out[i] = ${value};`].join('\n'))].join('\n') + '\n';
  return { name: node.op, wgsl, buffers: ops.buffers, workgroups };
}
