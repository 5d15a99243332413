/**
 * A hand-written ModelSpec for runtime tests, small enough to check on the host: one parameter
 * `w` of 37 values; training computes the loss of `pred = x * w` against `y`, then applies
 * `w -= 0.5 * sum over real samples of x`; predict computes `x * w`.
 */

import type { KernelSpec, ModelSpec } from '../../src/runtime/spec.js';

/** Values per sample. */
export const WIDTH = 37;
export const TRAIN_BATCH = 5;
export const EVAL_BATCH = 4;
export const PREDICT_BATCH = 3;
export const LEARNING_RATE = 0.5;

const B = {
  w: 0,
  trainX: 1,
  trainY: 2,
  trainMask: 3,
  loss: 4,
  mae: 5,
  count: 6,
  steps: 7,
  evalX: 8,
  evalY: 9,
  evalMask: 10,
  predictX: 11,
  predictOut: 12,
} as const;

// One thread walks the batch: sums over real samples of the squared and absolute errors.
const metricsKernel: KernelSpec = {
  name: 'metrics',
  bindings: 7,
  access: ['read', 'read', 'read', 'read', 'read_write', 'read_write', 'read_write'],
  wgsl: /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> mae: array<f32>;
@group(0) @binding(6) var<storage, read_write> count: array<f32>;

@compute @workgroup_size(1)
fn main() {
  for (var b = 0u; b < arrayLength(&mask); b++) {
    var squared = 0.0;
    var absolute = 0.0;
    for (var i = 0u; i < ${WIDTH}u; i++) {
      let err = x[b * ${WIDTH}u + i] * w[i] - y[b * ${WIDTH}u + i];
      squared += err * err;
      absolute += abs(err);
    }
    loss[0] += mask[b] * squared;
    mae[0] += mask[b] * absolute;
    count[0] += mask[b];
  }
}
`,
};

const updateKernel: KernelSpec = {
  name: 'update',
  bindings: 4,
  access: ['read', 'read', 'read_write', 'read_write'],
  wgsl: /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> mask: array<f32>;
@group(0) @binding(2) var<storage, read_write> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> steps: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let i = id.x;
  if (i == 0u) { steps[0] += 1.0; }
  if (i >= ${WIDTH}u) { return; }
  var total = 0.0;
  for (var b = 0u; b < arrayLength(&mask); b++) {
    total += mask[b] * x[b * ${WIDTH}u + i];
  }
  w[i] -= ${LEARNING_RATE} * total;
}
`,
};

const predictKernel: KernelSpec = {
  name: 'predict',
  bindings: 3,
  access: ['read', 'read', 'read_write'],
  wgsl: /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= arrayLength(&out)) { return; }
  out[id.x] = x[id.x] * w[id.x % ${WIDTH}u];
}
`,
};

function floats(count: number): number {
  return count * 4;
}

/** The tiny model's spec; `overrides` replace top-level fields (kernels, buffers …) for error tests. */
export function tinySpec(overrides: Partial<ModelSpec> = {}): ModelSpec {
  return {
    version: 1,
    name: 'tiny',
    buffers: [
      { id: B.w, bytes: floats(WIDTH), label: 'w' },
      { id: B.trainX, bytes: floats(TRAIN_BATCH * WIDTH), label: 'train/x' },
      { id: B.trainY, bytes: floats(TRAIN_BATCH * WIDTH), label: 'train/y' },
      { id: B.trainMask, bytes: floats(TRAIN_BATCH), label: 'train/mask' },
      { id: B.loss, bytes: floats(1), label: 'loss' },
      { id: B.mae, bytes: floats(1), label: 'mae' },
      { id: B.count, bytes: floats(1), label: 'count' },
      { id: B.steps, bytes: floats(1), label: 'steps' },
      { id: B.evalX, bytes: floats(EVAL_BATCH * WIDTH), label: 'evaluate/x' },
      { id: B.evalY, bytes: floats(EVAL_BATCH * WIDTH), label: 'evaluate/y' },
      { id: B.evalMask, bytes: floats(EVAL_BATCH), label: 'evaluate/mask' },
      { id: B.predictX, bytes: floats(PREDICT_BATCH * WIDTH), label: 'predict/x' },
      { id: B.predictOut, bytes: floats(PREDICT_BATCH * WIDTH), label: 'predict/out' },
    ],
    params: [
      { name: 'w', shape: [WIDTH], buffer: B.w, init: { kind: 'glorot_uniform', fanIn: WIDTH, fanOut: 1 } },
    ],
    state: [{ name: 'steps', shape: [1], buffer: B.steps }],
    accumulators: [
      { name: 'loss', buffer: B.loss },
      { name: 'mae', buffer: B.mae },
    ],
    sampleCount: B.count,
    kernels: [metricsKernel, updateKernel, predictKernel],
    entries: {
      train: {
        batch: TRAIN_BATCH,
        inputs: [
          { name: 'x', role: 'input', shape: [TRAIN_BATCH, WIDTH], buffer: B.trainX },
          { name: 'y', role: 'target', shape: [TRAIN_BATCH, WIDTH], buffer: B.trainY },
          { name: 'mask', role: 'mask', shape: [TRAIN_BATCH], buffer: B.trainMask },
        ],
        outputs: [],
        dispatches: [
          {
            kernel: 0,
            buffers: [B.trainX, B.trainY, B.trainMask, B.w, B.loss, B.mae, B.count],
            workgroups: [1, 1, 1],
          },
          { kernel: 1, buffers: [B.trainX, B.trainMask, B.w, B.steps], workgroups: [1, 1, 1] },
        ],
      },
      evaluate: {
        batch: EVAL_BATCH,
        inputs: [
          { name: 'x', role: 'input', shape: [EVAL_BATCH, WIDTH], buffer: B.evalX },
          { name: 'y', role: 'target', shape: [EVAL_BATCH, WIDTH], buffer: B.evalY },
          { name: 'mask', role: 'mask', shape: [EVAL_BATCH], buffer: B.evalMask },
        ],
        outputs: [],
        dispatches: [
          {
            kernel: 0,
            buffers: [B.evalX, B.evalY, B.evalMask, B.w, B.loss, B.mae, B.count],
            workgroups: [1, 1, 1],
          },
        ],
      },
      predict: {
        batch: PREDICT_BATCH,
        inputs: [{ name: 'x', role: 'input', shape: [PREDICT_BATCH, WIDTH], buffer: B.predictX }],
        outputs: [{ name: 'out', shape: [PREDICT_BATCH, WIDTH], buffer: B.predictOut }],
        dispatches: [
          {
            kernel: 2,
            buffers: [B.predictX, B.w, B.predictOut],
            workgroups: [Math.ceil((PREDICT_BATCH * WIDTH) / 64), 1, 1],
          },
        ],
      },
    },
    training: { batch: TRAIN_BATCH, epochs: 2, loss: 'mse', targets: 'dense' },
    ...overrides,
  };
}

/** Host reference of the tiny model, in float64. */
export class TinyReference {
  constructor(public w: Float64Array) {}

  /** Sums of squared and absolute errors of the given samples. */
  errors(x: Float32Array, y: Float32Array, samples: readonly number[]): { loss: number; mae: number } {
    let loss = 0;
    let mae = 0;
    for (const s of samples) {
      for (let i = 0; i < WIDTH; i++) {
        const err = x[s * WIDTH + i]! * this.w[i]! - y[s * WIDTH + i]!;
        loss += err * err;
        mae += Math.abs(err);
      }
    }
    return { loss, mae };
  }

  /** One training step over the given samples. */
  update(x: Float32Array, samples: readonly number[]): void {
    for (let i = 0; i < WIDTH; i++) {
      let total = 0;
      for (const s of samples) total += x[s * WIDTH + i]!;
      this.w[i]! -= LEARNING_RATE * total;
    }
  }

  predict(x: Float32Array): Float64Array {
    return Float64Array.from(x, (value, k) => value * this.w[k % WIDTH]!);
  }
}
