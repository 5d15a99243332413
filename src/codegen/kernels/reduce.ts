/** The `reduce` kernel kind: one invocation per output element, looping over the reduced axes. */
import { type Node, sizeOf } from '../../ir/graph.js';
import { contiguousStrides, grid1d, indent, main1d, offsetExpr } from '../wgsl.js';
import type { GeneratedKernel, Operands } from './operands.js';

/** One invocation per output element, looping over the reduced axes. */
export function reduceKernel(ops: Operands, node: Node<'sum' | 'reduce_max'>): GeneratedKernel {
  const inShape = ops.shape(0);
  const inStrides = contiguousStrides(inShape);
  const { axes } = node.params;
  const kept = inShape.map((_, d) => d).filter((d) => !axes.includes(d));
  const keptShape = kept.map((d) => inShape[d]!);
  const n = sizeOf(keptShape);
  const base = offsetExpr(
    keptShape,
    kept.map((d) => inStrides[d]!),
    'i',
  );
  // max starts from the first element: -inf is not a valid WGSL constant.
  const [init, combine] =
    node.op === 'sum'
      ? ['0.0', (x: string) => `acc + ${x}`]
      : [ops.load(0, 'base'), (x: string) => `max(acc, ${x})`];
  const reduced = axes.filter((d) => inShape[d]! > 1);
  let body = `acc = ${combine(ops.load(0, ['base', ...reduced.map((d) => (inStrides[d] === 1 ? `r${d}` : `r${d} * ${inStrides[d]}u`))].join(' + ')))};`;
  for (const d of [...reduced].reverse()) {
    body = [`for (var r${d} = 0u; r${d} < ${inShape[d]}u; r${d}++) {`, indent(body, 2), '}'].join('\n');
  }
  const { workgroups, strideX } = grid1d(n);
  const code = [`let base = ${base};`, `var acc = ${init};`, body, 'out[i] = acc;'].join('\n');
  const wgsl = [ops.header(), '', main1d(n, strideX, code)].join('\n') + '\n';
  return { name: node.op, wgsl, buffers: ops.buffers, workgroups };
}
