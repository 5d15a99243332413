/**
 * Divergence under a huge learning rate: a non-finite loss stops training at its step, and a
 * non-finite parameter or optimizer slot behind a finite loss (an update that overflowed in the
 * last step) stops it at the end of its epoch, naming the tensor; `nnxc train` exits non-zero
 * and saves nothing. The model runs on the wasm backend (test/backends.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TrainingDivergedError } from '../../src/runtime/index.js';
import { MODEL_TEST_BACKEND, compileFor, createOn } from '../backends.js';
import { nnxc, tempDir, writeFiles } from '../cli/run-in-process.js';

/** Ones-initialised weights make the first step's gradients > 1, so lr 3e38 overflows the update. */
const HUGE_LR = (epochs: number) => `sequential M(x: [2]) {
  Dense(8, init: ones)
  Dense(1, init: ones)
}
train M {
  data: xor
  loss: mse
  optimizer: SGD(lr: 3e38)
  batch: 4
  epochs: ${epochs}
}
`;

const xor = () => ({
  count: 4,
  inputs: { x: Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]) },
  targets: { target: Float32Array.from([0, 1, 1, 0]) },
});

async function fitError(epochs: number, checkpoint?: string): Promise<TrainingDivergedError> {
  const { compiled } = compileFor(MODEL_TEST_BACKEND, HUGE_LR(epochs));
  const model = await createOn(MODEL_TEST_BACKEND, compiled!.spec, { seed: 1 });
  const error = await model
    .fit(xor(), {
      checkpoint: checkpoint ? { path: checkpoint } : undefined,
    })
    .catch((e: unknown) => e);
  model.destroy();
  expect(error).toBeInstanceOf(TrainingDivergedError);
  return error as TrainingDivergedError;
}

describe('divergence', () => {
  it('a parameter overflowed by the last update stops training, naming it, with nothing saved', async () => {
    const path = join(tempDir(), 'c.safetensors');
    const error = await fitError(1, path);
    expect([error.epoch, error.step, error.globalStep, error.tensor, error.value]).toEqual([
      1,
      1,
      1,
      'dense_1/kernel',
      -Infinity,
    ]);
    expect(error.message).toBe(
      '`dense_1/kernel` holds -Infinity after step 1 of epoch 1 (step 1 of the run); training stopped. ' +
        'No checkpoint was written; a lower learning rate may help',
    );
    expect(existsSync(path)).toBe(false);
  });

  it('the loss that follows stops training at its own step', async () => {
    const error = await fitError(3);
    expect([error.epoch, error.step, error.tensor]).toEqual([1, 1, 'dense_1/kernel']);
    const { compiled } = compileFor(MODEL_TEST_BACKEND, HUGE_LR(3));
    const model = await createOn(MODEL_TEST_BACKEND, compiled!.spec, { seed: 1 });
    // Train step by step past the check: the next step's loss is the first non-finite value.
    model.trainStep({ x: xor().inputs.x, target: xor().targets.target });
    const next = await model.fit(xor(), { epochs: 1 }).catch((e: unknown) => e);
    model.destroy();
    expect(next).toBeInstanceOf(TrainingDivergedError);
    expect((next as TrainingDivergedError).tensor).toBeUndefined();
    expect((next as TrainingDivergedError).message).toMatch(
      /^the loss became (NaN|-?Infinity) at step 1 of epoch 1/,
    );
  });

  it('nnxc train exits 1 with the message and writes neither --save nor --checkpoint', async () => {
    const dir = writeFiles({ 'm.nnx': HUGE_LR(2) });
    const save = join(dir, 'w.safetensors');
    const checkpoint = join(dir, 'c.safetensors');
    const r = await nnxc(['train', join(dir, 'm.nnx'), '--save', save, '--checkpoint', checkpoint]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nnxc: error: `dense_1/kernel` holds -Infinity after step 1 of epoch 1');
    expect(existsSync(save)).toBe(false);
    expect(existsSync(checkpoint)).toBe(false);
  });
});
