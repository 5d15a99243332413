/**
 * `npm run bench -- --check`: does each framework's step really train? Runs a few steps on the
 * fixed synthetic batch and reports the loss before and after; it should fall.
 */
import { compile } from '../src/compile.js';
import { NnxModel } from '../src/runtime/index.js';
import { createJaxjsTrainer, type JaxjsBackend } from './jaxjs.js';
import { type BenchModel, syntheticBatch } from './models.js';
import { createTfjsTrainer, type TfjsBackend } from './tfjs.js';

/** The loss of the first step and of the last of `steps` steps on the fixed batch. */
export interface LossCheck {
  readonly first: number;
  readonly last: number;
  readonly steps: number;
}

/**
 * nnx: evaluate's loss on the batch before training and after `steps` trainSteps, on a WebGPU
 * device or on the wasm backend (`'wasm'`, one thread).
 */
export async function checkNnx(
  model: BenchModel,
  device: GPUDevice | 'wasm',
  steps = 20,
): Promise<LossCheck> {
  const result = compile(model.source, { wasm: device === 'wasm' });
  if (!result.compiled)
    throw new Error(`does not compile: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  const m = await NnxModel.create(
    result.compiled.spec,
    device === 'wasm' ? { seed: 1, backend: 'wasm' } : { seed: 1, device },
  );
  try {
    const { x, y } = syntheticBatch(model);
    const data = { count: model.batch, inputs: { x }, targets: { target: y } };
    const first = (await m.evaluate(data))['loss'] ?? NaN;
    for (let i = 0; i < steps; i++) m.trainStep({ x, target: y });
    const last = (await m.evaluate(data))['loss'] ?? NaN;
    return { first, last, steps };
  } finally {
    m.destroy();
  }
}

/** TF.js (`optimizer.minimize`): the loss each step computes, at step 1 and step `steps`. */
export async function checkTfjs(
  model: BenchModel,
  backend: TfjsBackend = 'webgpu',
  steps = 20,
): Promise<LossCheck & { tensorsLeaked: number }> {
  const trainer = await createTfjsTrainer(model, 'minimize', backend);
  try {
    await trainer.step();
    const first = await trainer.lastLoss();
    const tensors = trainer.numTensors();
    for (let i = 1; i < steps; i++) await trainer.step();
    const last = await trainer.lastLoss();
    // Steady state holds the same tensors (weights, optimizer slots, last loss) after every step.
    return { first, last, steps, tensorsLeaked: trainer.numTensors() - tensors };
  } finally {
    trainer.dispose();
  }
}

/** jax-js: the loss each jitted step computes, at step 1 and step `steps`. */
export async function checkJaxjs(
  model: BenchModel,
  backend: JaxjsBackend = 'webgpu',
  steps = 20,
): Promise<LossCheck> {
  const trainer = await createJaxjsTrainer(model, backend);
  try {
    await trainer.step();
    const first = await trainer.lastLoss();
    for (let i = 1; i < steps; i++) await trainer.step();
    const last = await trainer.lastLoss();
    await trainer.sync();
    return { first, last, steps };
  } finally {
    trainer.dispose();
  }
}
