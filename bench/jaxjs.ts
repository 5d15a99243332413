/**
 * jax-js's side of the benchmark: the seed models as pure functions of a flat parameter list, and
 * one jitted training step (forward, `valueAndGrad`, SGD or Adam written as array ops) that maps
 * (params, optimizer state, loss sum, batch) to their new values, on jax-js's webgpu device or on
 * its own wasm backend (the CPU rows).
 */
import type * as JAX from '@jax-js/jax';
import { describeAdapter, installNodeGpu } from './gpu.js';
import type { BenchModel } from './models.js';
import { syntheticBatch } from './models.js';
import { timeSteps } from './timing.js';

type Jax = typeof JAX;
type Arr = JAX.Array;

/** The jax-js device a trainer runs on: 'webgpu' (on `navigator.gpu`) or its own 'wasm' backend. */
export type JaxjsBackend = 'webgpu' | 'wasm';

// `type` aliases, not interfaces: jax-js' JsTree typing needs index-compatible object types.
type OptState = {
  m: Arr[];
  v: Arr[];
  /** beta1^t and beta2^t, kept on the device so the step needs no retrace per t. */
  b1t: Arr;
  b2t: Arr;
};

type TrainState = {
  params: Arr[];
  opt: OptState;
  /** Sum of the losses so far: keeps every step's loss computed on the GPU, as nnx accumulates it. */
  acc: Arr;
};

/** A jax-js trainer for one seed model on the fixed synthetic batch. */
export interface JaxjsTrainer {
  /** Dispatches one training step without waiting for it. */
  step(): Promise<void>;
  /** Dispatches and waits for every step so far (params, optimizer state and losses). */
  sync(): Promise<void>;
  /** The loss of the last step (reads it back). */
  lastLoss(): Promise<number>;
  /** The adapter jax-js's device runs on ('jax-js wasm' on the wasm backend). */
  readonly adapter: string;
  dispose(): void;
}

const LR_ADAM = 0.001;
const LR_SGD = 0.1;
const B1 = 0.9;
const B2 = 0.999;
const EPS = 1e-7; // TF.js/Keras' Adam epsilon

const jaxPromises = new Map<JaxjsBackend, Promise<Jax>>();

/**
 * Loads jax-js and makes `backend` its default device (once per backend). For webgpu it opens its
 * own device on `navigator.gpu`; the wasm backend needs no GPU, so none is installed for it.
 */
async function loadJax(backend: JaxjsBackend): Promise<Jax> {
  let promise = jaxPromises.get(backend);
  if (promise === undefined) {
    promise = (async () => {
      // jax-js reads navigator.gpu when init() creates the webgpu backend.
      if (backend === 'webgpu') await installNodeGpu();
      const jax = await import('@jax-js/jax');
      const devices = await jax.init(backend);
      if (!devices.includes(backend)) throw new Error(`jax-js could not initialise its ${backend} backend`);
      jax.defaultDevice(backend);
      return jax;
    })();
    jaxPromises.set(backend, promise);
  }
  return promise;
}

/** A seeded uniform [0, 1) source (the same LCG as models.ts' batches). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** Host-side Keras-style initialisers: glorot_uniform, or he_normal (scaled Box–Muller normals). */
function initTensor(
  next: () => number,
  shape: number[],
  fanIn: number,
  fanOut: number,
  kind: 'glorot' | 'he' | 'zeros',
): Float32Array<ArrayBuffer> {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  if (kind === 'zeros') return out;
  if (kind === 'glorot') {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < n; i++) out[i] = (next() * 2 - 1) * limit;
    return out;
  }
  const std = Math.sqrt(2 / fanIn);
  for (let i = 0; i < n; i++)
    out[i] = std * Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return out;
}

/** Parameter shapes and initialisers, in the order the forward functions consume them. */
function paramSpecs(
  model: BenchModel,
): { shape: number[]; fanIn: number; fanOut: number; kind: 'glorot' | 'he' | 'zeros' }[] {
  const dense = (i: number, o: number, kind: 'glorot' | 'he' = 'glorot') => [
    { shape: [i, o], fanIn: i, fanOut: o, kind },
    { shape: [o], fanIn: i, fanOut: o, kind: 'zeros' as const },
  ];
  // jax-js convolutions are NCHW with OIHW kernels.
  const conv = (i: number, o: number) => [
    { shape: [o, i, 3, 3], fanIn: i * 9, fanOut: o * 9, kind: 'glorot' as const },
    { shape: [o], fanIn: i * 9, fanOut: o * 9, kind: 'zeros' as const },
  ];
  switch (model.name) {
    case 'xor':
      return [...dense(2, 3), ...dense(3, 1)];
    case 'mlp':
      return [...dense(784, 256, 'he'), ...dense(256, 256, 'he'), ...dense(256, 10)];
    case 'cnn':
      return [...conv(1, 32), ...conv(32, 64), ...dense(64 * 5 * 5, 128), ...dense(128, 10)];
  }
}

/**
 * The mean training loss of `model` as a function of its parameters (each used exactly once, as
 * jax-js' ownership rules require). Outputs are logits: sigmoid + BCE is `softplus(z) - y·z`,
 * softmax + categorical cross-entropy is `-Σ y·logSoftmax(z)`, the numerically stable forms.
 */
function lossFunction(jax: Jax, model: BenchModel): (params: Arr[], x: Arr, y: Arr) => Arr {
  const { numpy: np, nn, lax } = jax;
  const dense = (h: Arr, w: Arr, b: Arr) => np.matmul(h, w).add(b);
  const conv = (h: Arr, w: Arr, b: Arr) => lax.conv(h, w, [1, 1], 'VALID').add(b.reshape([1, -1, 1, 1]));
  const maxPool = (h: Arr) => lax.reduceWindow(h, (w) => w.max(), [2, 2], [2, 2]);
  const softmaxCrossEntropy = (z: Arr, y: Arr) => y.mul(nn.logSoftmax(z, -1)).sum(-1).mean().neg();
  const batch = model.batch;
  switch (model.name) {
    case 'xor':
      return ([w0, b0, w1, b1], x, y) => {
        const z = dense(nn.sigmoid(dense(x, w0!, b0!)), w1!, b1!);
        return nn.softplus(z.ref).sub(y.mul(z)).mean();
      };
    case 'mlp':
      return ([w0, b0, w1, b1, w2, b2], x, y) => {
        const h = nn.relu(dense(nn.relu(dense(x, w0!, b0!)), w1!, b1!));
        return softmaxCrossEntropy(dense(h, w2!, b2!), y);
      };
    case 'cnn':
      return ([c0, cb0, c1, cb1, w0, b0, w1, b1], x, y) => {
        // The batch arrives NHWC like the other frameworks'; jax-js convolves NCHW.
        let h = maxPool(nn.relu(conv(x.transpose([0, 3, 1, 2]), c0!, cb0!)));
        h = maxPool(nn.relu(conv(h, c1!, cb1!)));
        h = nn.relu(dense(h.reshape([batch, -1]), w0!, b0!));
        return softmaxCrossEntropy(dense(h, w1!, b1!), y);
      };
  }
}

/** Creates a jax-js trainer for `model` on its synthetic batch. */
export async function createJaxjsTrainer(
  model: BenchModel,
  backend: JaxjsBackend = 'webgpu',
): Promise<JaxjsTrainer> {
  const jax = await loadJax(backend);
  const { numpy: np, tree } = jax;
  const loss = lossFunction(jax, model);
  const adam = model.name !== 'xor';
  const lossAndGrad = jax.valueAndGrad(loss);

  // One jitted step: params, optimizer state and loss sum in, their new values and the loss out.
  // Every input is consumed (jax-js ownership), so the previous state is freed as the step runs.
  const step = jax.jit((params: Arr[], opt: OptState, acc: Arr, x: Arr, y: Arr) => {
    const [value, grads] = lossAndGrad(tree.ref(params), x, y);
    const newAcc = acc.add(value.ref);
    if (!adam) {
      const newParams = params.map((p, i) => p.sub(grads[i]!.mul(LR_SGD)));
      return { params: newParams, opt, acc: newAcc, loss: value };
    }
    const b1t = opt.b1t.mul(B1);
    const b2t = opt.b2t.mul(B2);
    // Keras/TF.js form: lr_t = lr·sqrt(1 − β2^t)/(1 − β1^t), p −= lr_t·m/(sqrt(v) + ε).
    const lrT = np.sqrt(b2t.ref.neg().add(1)).mul(LR_ADAM).div(b1t.ref.neg().add(1));
    const m: Arr[] = [];
    const v: Arr[] = [];
    const newParams = params.map((p, i) => {
      const g = grads[i]!;
      const mi = opt.m[i]!.mul(B1).add(g.ref.mul(1 - B1));
      const vi = opt.v[i]!.mul(B2).add(g.ref.mul(g).mul(1 - B2));
      m.push(mi.ref);
      v.push(vi.ref);
      return p.sub(lrT.ref.mul(mi).div(np.sqrt(vi).add(EPS)));
    });
    lrT.dispose();
    return { params: newParams, opt: { m, v, b1t, b2t }, acc: newAcc, loss: value };
  });

  const next = lcg(1);
  const params = paramSpecs(model).map((s) =>
    np.array(initTensor(next, s.shape, s.fanIn, s.fanOut, s.kind), { shape: s.shape }),
  );
  const zerosLike = () => params.map((p) => np.zeros(p.shape));
  // SGD has no state; empty lists and unit scalars keep one step signature.
  let state: TrainState = {
    params,
    opt: { m: adam ? zerosLike() : [], v: adam ? zerosLike() : [], b1t: np.ones([]), b2t: np.ones([]) },
    acc: np.zeros([]),
  };
  let last: Arr | undefined;
  const inFlight: Promise<unknown>[] = [];
  const device = backend === 'webgpu' ? jax.getWebGPUDevice() : undefined;
  const batch = syntheticBatch(model);
  // Copies typed as ArrayBuffer-backed, which np.array's signature asks for.
  const x = new Float32Array(batch.x);
  const y = new Float32Array(batch.y);
  const xShape = [model.batch, ...model.inputShape];
  const yShape = [model.batch, model.outputs];
  await jax.blockUntilReady(state);

  return {
    async step() {
      // Each step uploads the host batch, as nnx's trainStep does.
      const out = step(
        state.params,
        state.opt,
        state.acc,
        np.array(x, { shape: xShape }),
        np.array(y, { shape: yShape }),
      );
      state = { params: out.params, opt: out.opt, acc: out.acc };
      last?.dispose();
      last = out.loss;
      // jax-js is lazy: left alone, each step's outputs carry every earlier step's undispatched
      // kernels and the bookkeeping grows with the chain (≈3 ms/step after 50 xor steps, ≈8 after
      // 200). blockUntilReady on the new loss sum dispatches, without waiting here, everything it
      // depends on: this step's forward and backward and the previous step's update (the last
      // update goes out in sync). The extra ref keeps the array alive until its empty read resolves.
      const acc = out.acc.ref;
      const dispatched = acc.blockUntilReady().finally(() => acc.dispose());
      dispatched.catch(() => undefined); // sync() reports failures; a timing cut short must not crash
      inFlight.push(dispatched);
      // blockUntilReady submits after a few microtask turns; one macrotask turn lets it happen.
      await new Promise((resolve) => setImmediate(resolve));
    },
    async sync() {
      await Promise.all(inFlight.splice(0));
      // Dispatches anything the final state still depends on and waits for a read queued after it.
      await jax.blockUntilReady(state);
      await device?.queue.onSubmittedWorkDone();
    },
    async lastLoss() {
      return last === undefined ? NaN : (await last.ref.data())[0]!;
    },
    adapter: device !== undefined ? describeAdapter(device) : 'jax-js wasm',
    dispose() {
      last?.dispose();
      tree.dispose(state);
      step.dispose();
    },
  };
}

/** A jax-js timing: median ms per step and the adapter it ran on. */
export interface JaxjsTiming {
  readonly ms: number;
  readonly adapter: string;
}

/**
 * Median ms per jax-js training step of `model`, timed as {@link timeSteps} does: steps dispatched
 * back to back, one wait at the end.
 */
export async function timeJaxjs(
  model: BenchModel,
  opts: { steps: number; repeats: number; warmup: number },
  backend: JaxjsBackend = 'webgpu',
): Promise<JaxjsTiming> {
  const trainer = await createJaxjsTrainer(model, backend);
  try {
    return { ms: await timeSteps(trainer.step, trainer.sync, opts), adapter: trainer.adapter };
  } finally {
    trainer.dispose();
  }
}
