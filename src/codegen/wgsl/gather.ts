/**
 * The `gather` kernel kind: ops that read by index: gather (table rows), scatter_add (its
 * adjoint, one invocation per table element looping over the indices, so no atomics) and
 * one_hot. Indices are f32 values; each is rounded as ⌊v + ½⌋, and one out of range selects
 * nothing, as the reference.
 */
import { type Node, sizeOf } from '../../ir/graph.js';
import { grid1d, main1d } from './builder.js';
import { type GeneratedKernel, type Operands, shapeOf } from './operands.js';

type GatherOp = 'gather' | 'scatter_add' | 'one_hot';

/** The row selected by index value `v` (an f32 expression): an i32, −1 when out of range. */
function row(v: string, rows: number): string {
  return `select(-1, i32(floor(${v} + 0.5)), ${v} >= -0.5 && ${v} < ${rows}.0 - 0.5)`;
}

export function gatherKernel(ops: Operands, node: Node<GatherOp>): GeneratedKernel {
  const out = shapeOf(node);
  let body: string[];
  if (node.op === 'gather') {
    const table = ops.shape(0);
    const width = sizeOf(table.slice(1));
    body = [
      `let r = ${row(ops.load(1, `i / ${width}u`), table[0]!)};`,
      `out[i] = select(0.0, ${ops.load(0, `u32(max(r, 0)) * ${width}u + i % ${width}u`)}, r >= 0);`,
    ];
  } else if (node.op === 'scatter_add') {
    const count = sizeOf(ops.shape(0));
    const width = sizeOf(out.slice(1));
    body = [
      `let r = i32(i / ${width}u);`,
      `let k = i % ${width}u;`,
      'var acc = 0.0;',
      `for (var j = 0u; j < ${count}u; j++) {`,
      `  if (${row(ops.load(0, 'j'), out[0]!)} == r) { acc += ${ops.load(1, `j * ${width}u + k`)}; }`,
      '}',
      'out[i] = acc;',
    ];
  } else {
    const depth = out[out.length - 1]!;
    body = [`out[i] = select(0.0, 1.0, ${row(ops.load(0, `i / ${depth}u`), depth)} == i32(i % ${depth}u));`];
  }
  const n = sizeOf(out);
  const { workgroups, strideX } = grid1d(n);
  const wgsl = [ops.header(), '', main1d(n, strideX, body.join('\n'))].join('\n') + '\n';
  return { name: node.op, wgsl, buffers: ops.buffers, access: ops.access(), workgroups };
}
