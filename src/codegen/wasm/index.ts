/**
 * The wasm target's lowering table, typed over every op like the WGSL one. Elementwise, layout,
 * matmul and reduction kernels (fused or alone) and random draws come from fused.ts; the ops
 * by index (gather, scatter_add, one_hot, slice, pad, concat) from indexing.ts; convolutions and
 * pooling from conv-gemm.ts and window.ts, image shifts from image.ts. An op without a lowering
 * would throw {@link WasmUnsupportedError} from its renderer: a clear error, never wrong numbers.
 */
import { BINARY_OPS, type Node, type Op, REDUCE_OPS, UNARY_OPS } from '../../ir/graph.js';
import {
  type KernelRenderer,
  type PlannedKernel,
  type TargetKernels,
  renderKernel,
  runsNoKernel,
  sameRenderer,
} from '../target.js';
import { type ConvOp, convGemmKernel } from './conv-gemm.js';
import { fusedKernel } from './fused.js';
import { imageShiftKernel } from './image.js';
import { indexingKernel } from './indexing.js';
import { rowBlockKernel } from './rows.js';
import { type PoolOp, windowKernel } from './window.js';
import { wholeStepKernel } from './whole-step.js';
import type { WasmContext, WasmKernel } from './writer.js';

/** What a renderer returns: the kernel, once the module says where everything lives. */
export type WasmKernelWriter = (ctx: WasmContext) => WasmKernel;

/** A model uses an op the wasm backend cannot run yet. */
export class WasmUnsupportedError extends Error {
  constructor(readonly op: Op) {
    super(`the wasm backend does not support the op '${op}' yet; run this model with --backend webgpu`);
    this.name = 'WasmUnsupportedError';
  }
}

const fused: KernelRenderer<WasmKernelWriter> =
  ({ g, kernel, bufferOf }: PlannedKernel) =>
  (ctx) =>
    fusedKernel(g, kernel, bufferOf, ctx);

const indexing: KernelRenderer<
  WasmKernelWriter,
  'gather' | 'scatter_add' | 'one_hot' | 'slice' | 'concat' | 'pad'
> = (planned, root) => (ctx) => indexingKernel(planned, root, ctx);

const convolutions: KernelRenderer<WasmKernelWriter, ConvOp> = (planned, root) => (ctx) =>
  convGemmKernel(planned, root, ctx);

const windowOps: KernelRenderer<WasmKernelWriter, PoolOp> = (planned, root) => (ctx) =>
  windowKernel(planned, root, ctx);

const imageShift: KernelRenderer<WasmKernelWriter, 'image_shift'> = (planned, root) => (ctx) =>
  imageShiftKernel(planned, root, ctx);

const WASM_KERNELS: TargetKernels<WasmKernelWriter> = {
  ...sameRenderer(UNARY_OPS, fused),
  ...sameRenderer(BINARY_OPS, fused),
  ...sameRenderer(REDUCE_OPS, fused),
  ...sameRenderer(['matmul', 'broadcast', 'reshape', 'transpose', 'iota', 'random_uniform'] as const, fused),
  ...sameRenderer(['conv2d', 'conv2d_input_grad', 'conv2d_filter_grad'] as const, convolutions),
  ...sameRenderer(['max_pool2d', 'max_pool2d_grad', 'avg_pool2d', 'avg_pool2d_grad'] as const, windowOps),
  ...sameRenderer(['gather', 'scatter_add', 'one_hot', 'slice', 'concat', 'pad'] as const, indexing),
  image_shift: imageShift,
  ...sameRenderer(['input', 'const', 'dimsize'] as const, runsNoKernel),
  rowBlock: (planned) => (ctx) => rowBlockKernel(planned, ctx),
  wholeStep: (planned) => (ctx) => wholeStepKernel(planned, ctx, wasmKernel),
};

/** The wasm of one planned kernel, to be placed once the module's layout is known. */
export function wasmKernel(planned: PlannedKernel): WasmKernelWriter {
  return renderKernel(WASM_KERNELS, planned);
}
