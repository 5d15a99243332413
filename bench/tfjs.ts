/**
 * TensorFlow.js's side of the benchmark: the seed models as a TF.js user writes them
 * (`tf.sequential` of layers) trained on the webgpu backend, on the same `navigator.gpu` as nnx,
 * or on `@tensorflow/tfjs-backend-wasm` (the CPU rows).
 *
 * TF.js wasm under Node runs SIMD on one thread: its WASM_HAS_MULTITHREAD_SUPPORT flag is false
 * whenever IS_NODE (tensorflow/tfjs#3830), and forcing the flag on fails at init, because the
 * Emscripten pthread glue starts its workers from a `blob:` URL, which Node's `Worker` refuses
 * (ERR_WORKER_PATH). So threads do not engage here; in a cross-origin-isolated browser they would.
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

/** The TF.js backend a trainer runs on. */
export type TfjsBackend = 'webgpu' | 'wasm';

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
  /** The adapter TF.js's device runs on ('TF.js wasm, SIMD, n threads' on the wasm backend). */
  readonly adapter: string;
  dispose(): void;
}

let tfPromise: { backend: TfjsBackend; tf: Promise<typeof TF> } | undefined;

/**
 * Loads TF.js and selects `backend` (once per process: a process benchmarks one backend). The
 * webgpu backend opens its own device on `navigator.gpu`; the wasm backend needs no GPU.
 */
async function loadTf(backend: TfjsBackend): Promise<typeof TF> {
  if (tfPromise !== undefined && tfPromise.backend !== backend)
    throw new Error(`TF.js is already loaded on ${tfPromise.backend}`);
  tfPromise ??= {
    backend,
    tf: (async () => {
      if (backend === 'webgpu') await installNodeGpu();
      const tf = await import('@tensorflow/tfjs');
      // The webgpu backend registers itself only if navigator.gpu exists when it is imported.
      if (backend === 'webgpu') await import('@tensorflow/tfjs-backend-webgpu');
      else await import('@tensorflow/tfjs-backend-wasm');
      if (!(await tf.setBackend(backend)))
        throw new Error(`TF.js could not initialise its ${backend} backend`);
      await tf.ready();
      return tf;
    })(),
  };
  return tfPromise.tf;
}

/** One line naming what the wasm backend runs with: SIMD or not, and its thread count. */
async function describeTfjsWasm(tf: typeof TF): Promise<string> {
  const { getThreadsCount } = await import('@tensorflow/tfjs-backend-wasm');
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  const threads = getThreadsCount();
  return `TF.js wasm${simd ? ', SIMD' : ''}, ${threads} thread${threads > 1 ? 's' : ''}`;
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
  backend: TfjsBackend = 'webgpu',
): Promise<TfjsTrainer> {
  const tf = await loadTf(backend);
  const device = backend === 'webgpu' ? (tf.backend() as unknown as { device: GPUDevice }).device : undefined;
  const adapter = device !== undefined ? describeAdapter(device) : await describeTfjsWasm(tf);
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
      await device?.queue.onSubmittedWorkDone();
    },
    async lastLoss() {
      if (idiom === 'trainOnBatch') return lastValue ?? NaN;
      return last === undefined ? NaN : (await last.data())[0]!;
    },
    numTensors: () => tf.memory().numTensors,
    adapter,
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
  backend: TfjsBackend = 'webgpu',
): Promise<TfjsTiming> {
  let best: TfjsTiming | undefined;
  for (const idiom of idioms) {
    const trainer = await createTfjsTrainer(model, idiom, backend);
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
