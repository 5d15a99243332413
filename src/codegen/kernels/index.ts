/**
 * One WGSL generator per kernel kind, each in its own file: `map` (elementwise and layout ops),
 * `reduce`, a tiled `matmul`, `conv2d` (implicit GEMM), `pool`, `gather`, `slice` and `random`. Scalar constants are inlined as literals, so they never
 * occupy a buffer.
 */
import type { Graph, Node } from '../../ir/graph.js';
import { conv2dKernel } from './conv2d.js';
import { gatherKernel } from './gather.js';
import { mapKernel } from './map.js';
import { matmulKernel } from './matmul.js';
import { type GeneratedKernel, Operands } from './operands.js';
import { poolKernel } from './pool.js';
import { randomKernel } from './random.js';
import { reduceKernel } from './reduce.js';
import { sliceKernel } from './slice.js';

export type { GeneratedKernel } from './operands.js';

/** The kernel computing `node`, given where every value lives. */
export function generateKernel(g: Graph, node: Node, bufferOf: ReadonlyMap<number, number>): GeneratedKernel {
  const ops = new Operands(g, node, bufferOf);
  switch (node.op) {
    case 'matmul':
      return matmulKernel(ops, node as Node<'matmul'>);
    case 'sum':
    case 'reduce_max':
      return reduceKernel(ops, node as Node<'sum' | 'reduce_max'>);
    case 'conv2d':
    case 'conv2d_input_grad':
    case 'conv2d_filter_grad':
      return conv2dKernel(ops, node as Node<'conv2d' | 'conv2d_input_grad' | 'conv2d_filter_grad'>);
    case 'max_pool2d':
    case 'max_pool2d_grad':
    case 'avg_pool2d':
    case 'avg_pool2d_grad':
      return poolKernel(
        ops,
        node as Node<'max_pool2d' | 'max_pool2d_grad' | 'avg_pool2d' | 'avg_pool2d_grad'>,
      );
    case 'gather':
    case 'scatter_add':
    case 'one_hot':
      return gatherKernel(ops, node as Node<'gather' | 'scatter_add' | 'one_hot'>);
    case 'slice':
    case 'concat':
    case 'pad':
      return sliceKernel(ops, node as Node<'slice' | 'concat' | 'pad'>);
    case 'random_uniform':
      return randomKernel(ops, node as Node<'random_uniform'>);
    case 'input':
    case 'const':
    case 'dimsize':
      throw new Error(`internal: ${node.op} runs no kernel`);
    default:
      return mapKernel(ops, node);
  }
}
