/**
 * The WGSL target: every planned kernel rendered as one compute shader. Elementwise, layout,
 * matmul and reduction kernels, fused or alone, come from fused.ts; `conv2d` and its gradients
 * (implicit GEMM), pooling, gather/scatter, slice/concat, random numbers and image shifts have a
 * generator of their own, one file each.
 */
import { BINARY_OPS, type Node, REDUCE_OPS, UNARY_OPS } from '../../ir/graph.js';
import {
  type PlannedKernel,
  type TargetKernels,
  renderKernel,
  runsNoKernel,
  sameRenderer,
} from '../target.js';
import { conv2dKernel } from './conv2d.js';
import { fusedKernel } from './fused.js';
import { gatherKernel } from './gather.js';
import { imageShiftKernel } from './image.js';
import type { MatmulTiling } from './matmul.js';
import { type GeneratedKernel, Operands } from './operands.js';
import type { Tiles } from '../../runtime/spec.js';
import { poolKernel } from './pool.js';
import { randomKernel } from './random.js';
import { rowBlockKernel } from './rows.js';
import { sliceKernel } from './slice.js';
import { wholeStepKernel } from './whole-step.js';

export type { GeneratedKernel } from './operands.js';
export type { MatmulTiling } from './matmul.js';

/**
 * WGSL-only choices: the matmul tiling, by default the `cpu` tiles chosen per shape
 * (`tilingFor`); `tiles: 'gpu'` picks the GPU tiles per shape (`gpuTilingFor`) instead, for
 * matmuls and convolutions alike (a given `matmulTiling` leaves convolutions register-blocked).
 */
export interface WgslOptions {
  readonly matmulTiling?: MatmulTiling;
  readonly tiles?: Tiles;
}

/** A generator that reads every source of `root` from a buffer (or as a literal). */
function alone<P extends Node['op']>(
  generate: (ops: Operands, node: Node<P>) => GeneratedKernel,
): (planned: PlannedKernel, root: Node<P>) => GeneratedKernel {
  return ({ g, bufferOf }, root) => generate(new Operands(g, root, bufferOf), root);
}

function wgslKernels(options: WgslOptions): TargetKernels<GeneratedKernel> {
  const fused = ({ g, kernel, bufferOf }: PlannedKernel) =>
    fusedKernel(g, kernel, bufferOf, options.matmulTiling ?? options.tiles ?? 'cpu');
  return {
    ...sameRenderer(UNARY_OPS, fused),
    ...sameRenderer(BINARY_OPS, fused),
    ...sameRenderer(REDUCE_OPS, fused),
    ...sameRenderer(['matmul', 'broadcast', 'reshape', 'transpose', 'iota'] as const, fused),
    ...sameRenderer(
      ['conv2d', 'conv2d_input_grad', 'conv2d_filter_grad'] as const,
      alone((ops, node) => conv2dKernel(ops, node, options.tiles)),
    ),
    ...sameRenderer(
      ['max_pool2d', 'max_pool2d_grad', 'avg_pool2d', 'avg_pool2d_grad'] as const,
      alone(poolKernel),
    ),
    ...sameRenderer(['gather', 'scatter_add', 'one_hot'] as const, alone(gatherKernel)),
    ...sameRenderer(['slice', 'concat', 'pad'] as const, alone(sliceKernel)),
    random_uniform: alone(randomKernel),
    image_shift: alone(imageShiftKernel),
    ...sameRenderer(['input', 'const', 'dimsize'] as const, runsNoKernel),
    rowBlock: ({ g, kernel, bufferOf }) => rowBlockKernel(g, kernel, bufferOf),
    wholeStep: ({ g, kernel, bufferOf }) => wholeStepKernel(g, kernel, bufferOf),
  };
}

const DEFAULT_KERNELS = wgslKernels({});
const GPU_TILES_KERNELS = wgslKernels({ tiles: 'gpu' });

/** The WGSL of one planned kernel, with its bindings and grid. */
export function wgslKernel(planned: PlannedKernel, options: WgslOptions = {}): GeneratedKernel {
  const table = options.matmulTiling
    ? wgslKernels(options)
    : options.tiles === 'gpu'
      ? GPU_TILES_KERNELS
      : DEFAULT_KERNELS;
  return renderKernel(table, planned);
}

const CONV_OPS: ReadonlySet<Node['op']> = new Set(['conv2d', 'conv2d_input_grad', 'conv2d_filter_grad']);

/**
 * The other tilings of a planned kernel besides its default (`cpu`) one: the `gpu` tiles of a
 * matmul-anchored kernel, and of conv2d and its gradients (their implicit GEMMs through the
 * same staged tiles).
 */
export function wgslVariants(
  planned: PlannedKernel,
): { readonly tiles: Tiles; readonly kernel: GeneratedKernel }[] {
  const { kernel, g } = planned;
  if (kernel.rows || kernel.steps) return [];
  const matmul = kernel.anchor !== undefined && g.nodes[kernel.anchor]!.op === 'matmul';
  const conv = CONV_OPS.has(g.nodes[kernel.roots[0]!]!.op);
  if (!matmul && !conv) return [];
  return [{ tiles: 'gpu', kernel: renderKernel(GPU_TILES_KERNELS, planned) }];
}
