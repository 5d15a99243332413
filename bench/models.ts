/** The benchmark's seed models, as .nnx sources, and the synthetic batches they train on. */

export interface BenchModel {
  readonly name: 'xor' | 'mlp' | 'cnn';
  readonly source: string;
  readonly batch: number;
  /** Per-sample input shape (NHWC for images) and number of classes/outputs. */
  readonly inputShape: readonly number[];
  readonly outputs: number;
}

export const XOR: BenchModel = {
  name: 'xor',
  batch: 4,
  inputShape: [2],
  outputs: 1,
  source: `
sequential Xor(x: [2]) {
  Dense(3, activation: sigmoid)
  Dense(1, activation: sigmoid)
}
train Xor { data: xor, loss: binary_crossentropy, optimizer: SGD(lr: 0.1), batch: 4 }
`,
};

export const MLP: BenchModel = {
  name: 'mlp',
  batch: 128,
  inputShape: [784],
  outputs: 10,
  source: `
sequential Mlp(x: [784]) {
  Dense(256, activation: relu, init: he_normal)
  Dense(256, activation: relu, init: he_normal)
  Dense(10, activation: softmax)
}
train Mlp { data: xor, loss: categorical_crossentropy, optimizer: Adam(lr: 0.001), metrics: [accuracy], batch: 128 }
`,
};

export const CNN: BenchModel = {
  name: 'cnn',
  batch: 32,
  inputShape: [28, 28, 1],
  outputs: 10,
  source: `
sequential Cnn(x: [28, 28, 1]) {
  Conv2D(32, 3, activation: relu)
  MaxPool2D(2)
  Conv2D(64, 3, activation: relu)
  MaxPool2D(2)
  Flatten()
  Dense(128, activation: relu)
  Dense(10, activation: softmax)
}
train Cnn { data: xor, loss: categorical_crossentropy, optimizer: Adam(lr: 0.001), metrics: [accuracy], batch: 32 }
`,
};

/** A seeded batch: inputs in [0, 1), one-hot (or 0/1 for one output) targets. */
export function syntheticBatch(model: BenchModel, seed = 1): { x: Float32Array; y: Float32Array } {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const perSample = model.inputShape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: model.batch * perSample }, next);
  const y = new Float32Array(model.batch * model.outputs);
  for (let i = 0; i < model.batch; i++) {
    if (model.outputs === 1) y[i] = next() < 0.5 ? 0 : 1;
    else y[i * model.outputs + Math.floor(next() * model.outputs)] = 1;
  }
  return { x, y };
}
