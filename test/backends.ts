/**
 * Which backend a whole-model test runs on, and creating its model there.
 *
 * On this project's CPU-only machines WebGPU is lavapipe, which compiles every shader with LLVM
 * on first use: a conv, LSTM or attention model costs minutes with a cold Mesa shader cache. The
 * wasm backend has no shader JIT, so the whole-model tests (examples, Keras transcriptions, the
 * runtime's init-from, freezing and divergence) run there: `MODEL_TEST_BACKEND`, `wasm`
 * unless `NNX_TEST_BACKEND=webgpu` asks for WebGPU (to run the same tests on a GPU). Their
 * assertions are the backend's to meet, whichever it is. The CLI tests run on `auto`, the
 * CLI's default: wasm on lavapipe, WebGPU on a hardware adapter.
 *
 * The WebGPU set stays on the adapter (lavapipe here) and covers every WGSL kernel generator of
 * src/codegen/wgsl/index.ts, each for a reason:
 * - test/codegen/kernels.test.ts: the fused kernels (unary, binary, reductions incl. the split
 *   ones, every matmul tiling with prologues and epilogues, broadcast, reshape, transpose, iota,
 *   grids past 65,535 workgroups) op by op against the interpreter on awkward sizes.
 * - test/codegen/kernels-nn.test.ts: conv2d and both its gradients, max/avg pooling and their
 *   gradients, gather, scatter_add, one_hot, slice, pad, concat, image_shift and random_uniform
 *   (the counter-based draws, bit for bit), op by op.
 * - test/codegen/train-step.test.ts: whole steps with the optimizer updates fused into WGSL
 *   (SGD with Nesterov momentum, Adam, RMSProp, both ε placements) and attention (causal
 *   softmax, LayerNormalization, position embeddings, global pooling).
 * - test/codegen/train-step-nn.test.ts: whole steps of a CNN (BatchNormalization, Dropout's
 *   masks drawn on the GPU, AdamW with a schedule), the recurrent layers (LSTM, GRU, Embedding)
 *   and augmentation.
 * - test/codegen/adam-f32.test.ts: Adam's f32 bias correction on the adapter (#16).
 * - test/runtime/gan.test.ts, test/bind/gan.test.ts, test/cli/train-gan.test.ts: GANs run on
 *   WebGPU only for now.
 * - test/runtime/model.test.ts, device.test.ts: the WebGPU runtime itself
 *   (device limits, shader errors, readback), which wasm does not exercise.
 * - test/runtime/fit.test.ts: resume bit for bit from a checkpoint on WebGPU, with dropout's
 *   masks drawn on the GPU (small Dense models: few pipelines).
 * - test/codegen/fusion.test.ts, test/ir/passes/split.test.ts, test/ir/train/augment.test.ts,
 *   test/ir/train/gan-noise.test.ts: fused graphs, split reductions, the augmentation and GAN
 *   noise graphs as WGSL, against the interpreter.
 * - test/codegen/origin.test.ts: a shader error names the layer it came from.
 * - test/fuzz/*: generated programs' WGSL validated by the adapter.
 * - test/cli/backend.test.ts: weights trained on wasm predicted on WebGPU (interchangeable).
 * The wasm twins of the kernel and step tests are under test/codegen/wasm/.
 */
import { expect } from 'vitest';
import { type CompileOptions, type CompileResult, compile } from '../src/compile.js';
import type { BackendKind } from '../src/runtime/backend.js';
import { type CreateModelOptions, type ModelSpec, NnxModel } from '../src/runtime/index.js';

/** The backend of the whole-model tests: wasm unless NNX_TEST_BACKEND says webgpu. */
export const MODEL_TEST_BACKEND: BackendKind = backendFromEnvironment(process.env['NNX_TEST_BACKEND']);

function backendFromEnvironment(value: string | undefined): BackendKind {
  if (value === undefined || value === '' || value === 'wasm') return 'wasm';
  if (value === 'webgpu') return 'webgpu';
  throw new Error(`NNX_TEST_BACKEND must be wasm or webgpu, got '${value}'`);
}

/** `compile`, with the wasm module when the model is to run on wasm. */
export function compileFor(backend: BackendKind, text: string, options: CompileOptions = {}): CompileResult {
  return compile(text, { ...options, wasm: backend === 'wasm' });
}

/** The model on exactly `backend` (never a fall back): a test that says where it runs runs there. */
export async function createOn(
  backend: BackendKind,
  spec: ModelSpec,
  options: Omit<CreateModelOptions, 'backend'> = {},
): Promise<NnxModel> {
  const model = await NnxModel.create(spec, { ...options, backend });
  expect(model.backend.kind).toBe(backend);
  return model;
}
