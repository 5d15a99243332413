/**
 * The `random` kernel kind: uniform numbers in [0, 1) from the counter-based hash of
 * src/ir/ops/random.ts, the same bits as the reference. The counter is read from its buffer, so
 * a training step that increments it draws new numbers with no host work.
 */
import { type Node, sizeOf } from '../../ir/graph.js';
import { PCG_WGSL } from '../../ir/ops/random.js';
import { grid1d, main1d } from '../wgsl.js';
import { type GeneratedKernel, type Operands, shapeOf } from './operands.js';

export function randomKernel(ops: Operands, node: Node<'random_uniform'>): GeneratedKernel {
  const n = sizeOf(shapeOf(node));
  const { workgroups, strideX } = grid1d(n);
  const counter = `u32(max(trunc(${ops.load(0, '0u')}), 0.0))`;
  const body = `out[i] = random_unit(${node.params.salt}u, ${counter}, i);`;
  const wgsl = [ops.header(), '', PCG_WGSL, '', main1d(n, strideX, body)].join('\n') + '\n';
  return { name: 'random_uniform', wgsl, buffers: ops.buffers, workgroups };
}
