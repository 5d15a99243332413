/**
 * One WGSL generator per kernel kind, each in its own file: `map` (elementwise and layout ops),
 * `reduce`, and a tiled `matmul`. Scalar constants are inlined as literals, so they never
 * occupy a buffer.
 */
import type { Graph, Node } from '../../ir/graph.js';
import { mapKernel } from './map.js';
import { matmulKernel } from './matmul.js';
import { type GeneratedKernel, Operands } from './operands.js';
import { reduceKernel } from './reduce.js';

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
    case 'input':
    case 'const':
    case 'dimsize':
      throw new Error(`internal: ${node.op} runs no kernel`);
    default:
      return mapKernel(ops, node);
  }
}
