/**
 * TensorFlow.js's side of the benchmark: the seed models as a TF.js user writes them
 * (`tf.sequential` of layers) trained on the webgpu backend, on the same `navigator.gpu` as nnx.
 */
import type * as TF from '@tensorflow/tfjs';
import { describeAdapter, installNodeGpu } from './gpu.js';
import type { BenchModel } from './models.js';
import { syntheticBatch } from './models.js';
import { timeSteps } from './timing.js';

/**
 * How a TF.js step is written. `minimize`: `optimizer.minimize(() => loss(model.apply(x)))`, which
 * queues the step and returns without reading anything back. `trainOnBatch`: Keras'
 * `model.trainOnBatch`, which awaits the loss's data every step, so each step waits for the GPU.
 */
export type TfjsIdiom = 'minimize' | 'trainOnBatch';

/** A TF.js trainer for one seed model on the fixed synthetic batch. */
export interface TfjsTrainer {
  /** Queues one training step (for `trainOnBatch`, also waits for it). */
  step(): void | Promise<void>;
  /** Waits until every step queued so far has finished on the GPU. */
  sync(): Promise<void>;
  /** The loss of the last step (reads it back). */
  lastLoss(): Promise<number>;
  /** Live tensors in TF.js's engine, to check that steps do not leak. */
  numTensors(): number;
  /** The adapter TF.js's device runs on. */
  readonly adapter: string;
  dispose(): void;
}

let tfPromise: Promise<typeof TF> | undefined;

/** Loads TF.js and selects its webgpu backend (once); the backend opens its own device on `navigator.gpu`. */
async function loadTf(): Promise<typeof TF> {
  tfPromise ??= (async () => {
    await installNodeGpu();
    const tf = await import('@tensorflow/tfjs');
    // The backend registers itself only if navigator.gpu exists when it is imported.
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js could not initialise its webgpu backend');
    await tf.ready();
    return tf;
  })();
  return tfPromise;
}

/** The seed model as tf.layers (Keras defaults: glorot_uniform kernels, zero biases). */
function buildModel(tf: typeof TF, model: BenchModel): TF.Sequential {
  const L = tf.layers;
  switch (model.name) {
    case 'xor':
      return tf.sequential({
        layers: [
          L.dense({ units: 3, activation: 'sigmoid', inputShape: [2] }),
          L.dense({ units: 1, activation: 'sigmoid' }),
        ],
      });
    case 'mlp':
      return tf.sequential({
        layers: [
          L.dense({ units: 256, activation: 'relu', kernelInitializer: 'heNormal', inputShape: [784] }),
          L.dense({ units: 256, activation: 'relu', kernelInitializer: 'heNormal' }),
          L.dense({ units: 10, activation: 'softmax' }),
        ],
      });
    case 'cnn':
      return tf.sequential({
        layers: [
          L.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
          L.maxPooling2d({ poolSize: 2 }),
          L.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
          L.maxPooling2d({ poolSize: 2 }),
          L.flatten(),
          L.dense({ units: 128, activation: 'relu' }),
          L.dense({ units: 10, activation: 'softmax' }),
        ],
      });
  }
}

/** Creates a TF.js trainer for `model` on its synthetic batch, written in the given idiom. */
export async function createTfjsTrainer(
  model: BenchModel,
  idiom: TfjsIdiom = 'minimize',
): Promise<TfjsTrainer> {
  const tf = await loadTf();
  const backend = tf.backend() as unknown as { device: GPUDevice };
  const device = backend.device;
  const net = buildModel(tf, model);
  const optimizer = model.name === 'xor' ? tf.train.sgd(0.1) : tf.train.adam(0.001);
  const lossName = model.name === 'xor' ? 'binaryCrossentropy' : 'categoricalCrossentropy';
  // tf.metrics.* are the per-sample functions tfjs-layers uses for these loss names in compile().
  const perSample = model.name === 'xor' ? tf.metrics.binaryCrossentropy : tf.metrics.categoricalCrossentropy;
  const vars = net.trainableWeights.map((w) => w.read() as TF.Variable);
  if (idiom === 'trainOnBatch') net.compile({ optimizer, loss: lossName });
  const { x, y } = syntheticBatch(model);
  const xShape = [model.batch, ...model.inputShape];
  const yShape = [model.batch, model.outputs];
  let last: TF.Scalar | undefined;
  let lastValue: number | undefined;

  // Each step uploads the host batch, as nnx's trainStep does.
  const minimizeStep = (): void => {
    const xs = tf.tensor(x, xShape);
    const ys = tf.tensor(y, yShape);
    const loss = optimizer.minimize(
      () => tf.mean(perSample(ys, net.apply(xs) as TF.Tensor)) as TF.Scalar,
      true,
      vars,
    );
    xs.dispose();
    ys.dispose();
    last?.dispose();
    last = loss ?? undefined;
  };
  const trainOnBatchStep = async (): Promise<void> => {
    const xs = tf.tensor(x, xShape);
    const ys = tf.tensor(y, yShape);
    lastValue = (await net.trainOnBatch(xs, ys)) as number;
    xs.dispose();
    ys.dispose();
  };

  return {
    step: idiom === 'minimize' ? minimizeStep : trainOnBatchStep,
    async sync() {
      // data() submits TF.js's pending command encoder and maps a copy made after the last step's
      // updates; onSubmittedWorkDone then covers anything TF.js submitted after that.
      if (last !== undefined) await last.data();
      await device.queue.onSubmittedWorkDone();
    },
    async lastLoss() {
      if (idiom === 'trainOnBatch') return lastValue ?? NaN;
      return last === undefined ? NaN : (await last.data())[0]!;
    },
    numTensors: () => tf.memory().numTensors,
    adapter: describeAdapter(device),
    dispose() {
      last?.dispose();
      optimizer.dispose();
      net.dispose();
    },
  };
}

/** The idioms worth timing for `model`: both for xor (cheap, and close), `minimize` otherwise. */
export function tfjsIdioms(model: BenchModel): TfjsIdiom[] {
  // trainOnBatch waits for the GPU every step; on mlp that made it ≈2× slower than minimize here.
  return model.name === 'xor' ? ['minimize', 'trainOnBatch'] : ['minimize'];
}

/** A TF.js timing: median ms per step in the fastest idiom tried, and the adapter it ran on. */
export interface TfjsTiming {
  readonly ms: number;
  readonly idiom: TfjsIdiom;
  readonly adapter: string;
}

/**
 * Median ms per TF.js training step of `model`, timed as {@link timeSteps} does (steps queued back
 * to back, one wait at the end), in each of `idioms`; returns the fastest.
 */
export async function timeTfjs(
  model: BenchModel,
  opts: { steps: number; repeats: number; warmup: number },
  idioms: readonly TfjsIdiom[] = tfjsIdioms(model),
): Promise<TfjsTiming> {
  let best: TfjsTiming | undefined;
  for (const idiom of idioms) {
    const trainer = await createTfjsTrainer(model, idiom);
    try {
      const ms = await timeSteps(trainer.step, trainer.sync, opts);
      if (best === undefined || ms < best.ms) best = { ms, idiom, adapter: trainer.adapter };
    } finally {
      trainer.dispose();
    }
  }
  if (best === undefined) throw new Error('timeTfjs: no idiom to time');
  return best;
}
