/**
 * The `slice` kernel kind: slice, pad and concat along one axis, one invocation per output
 * element. A tensor is seen as (outer, axis, inner) around the axis, so the index arithmetic is
 * the same for every rank.
 */
import { type Node, sizeOf } from '../../ir/graph.js';
import { grid1d, main1d } from './builder.js';
import { type GeneratedKernel, type Operands, shapeOf } from './operands.js';

function around(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];
}

export function sliceKernel(ops: Operands, node: Node<'slice' | 'concat' | 'pad'>): GeneratedKernel {
  const out = shapeOf(node);
  const { axis } = node.params;
  const [, len, inner] = around(out, axis);
  const body = [
    `let o = i / ${len * inner}u;`,
    `let j = (i / ${inner}u) % ${len}u;`,
    `let k = i % ${inner}u;`,
  ];
  if (node.op === 'pad') {
    const { before } = node.params;
    const srcLen = ops.shape(0)[axis]!;
    const inside = `j >= ${before}u && j < ${before + srcLen}u`;
    const read = ops.load(
      0,
      `(o * ${srcLen}u + min(max(j, ${before}u) - ${before}u, ${srcLen - 1}u)) * ${inner}u + k`,
    );
    body.push(`out[i] = select(0.0, ${read}, ${inside});`);
  } else if (node.op === 'slice') {
    const srcLen = ops.shape(0)[axis]!;
    const { start } = node.params;
    body.push(`out[i] = ${ops.load(0, `(o * ${srcLen}u + j + ${start}u) * ${inner}u + k`)};`);
  } else {
    // The first source whose range along the axis holds j.
    const last = node.srcs.length - 1;
    let offset = 0;
    node.srcs.forEach((_, s) => {
      const size = ops.shape(s)[axis]!;
      const opener =
        s === 0
          ? `if (j < ${offset + size}u) {`
          : s < last
            ? `} else if (j < ${offset + size}u) {`
            : '} else {';
      if (last > 0) body.push(opener);
      body.push(
        `${last > 0 ? '  ' : ''}out[i] = ${ops.load(s, `(o * ${size}u + j - ${offset}u) * ${inner}u + k`)};`,
      );
      offset += size;
    });
    if (last > 0) body.push('}');
  }
  const n = sizeOf(out);
  const { workgroups, strideX } = grid1d(n);
  const wgsl = [ops.header(), '', main1d(n, strideX, body.join('\n'))].join('\n') + '\n';
  return { name: node.op, wgsl, buffers: ops.buffers, access: ops.access(), workgroups };
}
