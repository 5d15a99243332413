/**
 * The `random` kernel kind: uniform numbers in [0, 1) from the counter-based hash of
 * src/ir/ops/random.ts, the same bits as the reference. The counter and the seed are read from
 * their buffers, so a training step that increments the counter draws new numbers with no host work.
 */
import { type Node, sizeOf } from '../../ir/graph.js';
import { PCG_WGSL, counterValueWgsl } from './ops.js';
import { grid1d, main1d } from './builder.js';
import { type GeneratedKernel, type Operands, shapeOf } from './operands.js';

export function randomKernel(ops: Operands, node: Node<'random_uniform'>): GeneratedKernel {
  const n = sizeOf(shapeOf(node));
  const { workgroups, strideX } = grid1d(n);
  const counter = counterValueWgsl(ops.load(0, '0u'));
  const seed = counterValueWgsl(ops.load(1, '0u'));
  const body = `out[i] = random_unit(${node.params.salt}u ^ ${seed}, ${counter}, i);`;
  const wgsl = [ops.header(), '', PCG_WGSL, '', main1d(n, strideX, body)].join('\n') + '\n';
  return { name: 'random_uniform', wgsl, buffers: ops.buffers, access: ops.access(), workgroups };
}
