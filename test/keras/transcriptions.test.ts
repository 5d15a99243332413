/**
 * The classic Keras and PyTorch exercises, each transcribed into .nnx line for line as a Keras
 * or PyTorch user would write it (the original is in the comment above each). Each must check,
 * have exactly the parameter count worked out by hand, and train: a few steps of its own train
 * block (batch overridden to a handful of samples) on one generated batch, run by the f64
 * reference interpreter, must lower the loss. Keras' spellings stay as written: constant
 * expressions (`4 * 4 * 50`) and quoted names (`'adam'`, `activation: 'relu'`).
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { type Graph, inputsOf, sizeOf } from '../../src/ir/graph.js';
import { interpret } from '../../src/ir/interpret.js';
import type { Tensor } from '../../src/ir/tensor.js';
import { initialWeights } from '../../src/export/weights.js';
import { seededRandom } from '../ir/random.js';
import { MODEL_TEST_BACKEND, compileFor, createOn } from '../backends.js';
import { MASK_INPUT } from '../../src/lower/layers/types.js';

interface Transcription {
  readonly name: string;
  readonly source: string;
  /** The hand-computed count, the arithmetic in a comment beside it. */
  readonly params: number;
  /** One generated batch of `count` samples, by the train graph's input names. */
  readonly batch: (rand: () => number, count: number) => Record<string, Float64Array>;
  readonly count: number;
  readonly steps: number;
}

const pixels = (rand: () => number, n: number) => Float64Array.from({ length: n }, () => rand());
const classes = (rand: () => number, n: number, k: number) =>
  Float64Array.from({ length: n }, () => Math.floor(rand() * k));
const oneHot = (labels: Float64Array, k: number) => {
  const out = new Float64Array(labels.length * k);
  labels.forEach((c, i) => (out[i * k + c] = 1));
  return out;
};

const TRANSCRIPTIONS: Transcription[] = [
  {
    // Keras' mnist_mlp.py:
    //   model = Sequential()
    //   model.add(Dense(512, activation='relu', input_shape=(784,)))
    //   model.add(Dropout(0.2))
    //   model.add(Dense(512, activation='relu'))
    //   model.add(Dropout(0.2))
    //   model.add(Dense(10, activation='softmax'))
    //   model.compile(loss='categorical_crossentropy', optimizer=RMSprop(), metrics=['accuracy'])
    //   model.fit(x_train, y_train, batch_size=128, epochs=20, validation_data=...)
    name: 'the MNIST DNN with dropout (Keras)',
    source: `sequential MnistMlp(x: [784]) {
  Dense(512, activation: relu)
  Dropout(0.2)
  Dense(512, activation: relu)
  Dropout(0.2)
  Dense(10, activation: softmax)
}
train MnistMlp {
  data: mnist
  loss: categorical_crossentropy
  optimizer: RMSProp()
  metrics: [accuracy]
  batch: 128
  epochs: 20
}
`,
    // 784·512 + 512 = 401 920; 512·512 + 512 = 262 656; 512·10 + 10 = 5 130 → 669 706
    params: 669_706,
    batch: (rand, n) => ({ x: pixels(rand, n * 784), target: oneHot(classes(rand, n, 10), 10) }),
    count: 4,
    steps: 4,
  },
  {
    // PyTorch's NetFF:
    //   class NetFF(nn.Module):
    //       def __init__(self):
    //           super().__init__()
    //           self.fc1 = nn.Linear(28 * 28, 128)
    //           self.fc2 = nn.Linear(128, 64)
    //           self.fc3 = nn.Linear(64, 10)
    //       def forward(self, x):
    //           x = x.view(-1, 28 * 28)
    //           x = F.relu(self.fc1(x))
    //           x = F.relu(self.fc2(x))
    //           return F.log_softmax(self.fc3(x), dim=1)
    //   optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.5); F.nll_loss(output, target)
    // nn.Linear's in_features are implied by the input; its default initialisation is named.
    name: 'NetFF (PyTorch MLP)',
    source: `model NetFF(x: [28, 28, 1]) -> (y: [10]) {
  let fc1 = Dense(128, init: pytorch_uniform, bias_initializer: pytorch_uniform)
  let fc2 = Dense(64, init: pytorch_uniform, bias_initializer: pytorch_uniform)
  let fc3 = Dense(10, init: pytorch_uniform, bias_initializer: pytorch_uniform)
  h = Flatten()(x)
  h = relu(fc1(h))
  h = relu(fc2(h))
  y = log_softmax(fc3(h))
}
train NetFF {
  data: mnist
  loss: nll
  optimizer: SGD(lr: 0.01, momentum: 0.5)
  batch: 64
  epochs: 10
}
`,
    // 784·128 + 128 = 100 480; 128·64 + 64 = 8 256; 64·10 + 10 = 650 → 109 386
    params: 109_386,
    batch: (rand, n) => ({ x: pixels(rand, n * 784), target: classes(rand, n, 10) }),
    count: 4,
    steps: 4,
  },
  {
    // PyTorch's NetCNN (the classic examples/mnist Net):
    //   self.conv1 = nn.Conv2d(1, 20, 5, 1)
    //   self.conv2 = nn.Conv2d(20, 50, 5, 1)
    //   self.fc1 = nn.Linear(4 * 4 * 50, 500)
    //   self.fc2 = nn.Linear(500, 10)
    //   forward: x = F.relu(self.conv1(x)); x = F.max_pool2d(x, 2, 2)
    //            x = F.relu(self.conv2(x)); x = F.max_pool2d(x, 2, 2)
    //            x = x.view(-1, 4 * 4 * 50); x = F.relu(self.fc1(x))
    //            return F.log_softmax(self.fc2(x), dim=1)
    //   optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    name: 'NetCNN (PyTorch 2-conv CNN)',
    source: `model NetCNN(x: [28, 28, 1]) -> (y: [10]) {
  let conv1 = Conv2D(20, 5, strides: 1, init: pytorch_uniform, bias_initializer: pytorch_uniform)
  let conv2 = Conv2D(50, 5, strides: 1, init: pytorch_uniform, bias_initializer: pytorch_uniform)
  let fc1 = Dense(500, init: pytorch_uniform, bias_initializer: pytorch_uniform)
  let fc2 = Dense(10, init: pytorch_uniform, bias_initializer: pytorch_uniform)
  h = MaxPool2D(2, strides: 2)(relu(conv1(x)))
  h = MaxPool2D(2, strides: 2)(relu(conv2(h)))
  h = relu(fc1(Reshape([4 * 4 * 50])(h)))
  y = log_softmax(fc2(h))
}
train NetCNN {
  data: mnist
  loss: nll
  optimizer: SGD(lr: 0.01, momentum: 0.5)
  batch: 64
  epochs: 10
}
`,
    // conv1 5·5·1·20 + 20 = 520; conv2 5·5·20·50 + 50 = 25 050; fc1 800·500 + 500 = 400 500;
    // fc2 500·10 + 10 = 5 010 → 431 080
    params: 431_080,
    batch: (rand, n) => ({ x: pixels(rand, n * 784), target: classes(rand, n, 10) }),
    count: 3,
    steps: 4,
  },
  {
    // Keras' subclassed CNN (TensorFlow's advanced quickstart):
    //   class MyModel(Model):
    //       def __init__(self):
    //           super().__init__()
    //           self.conv1 = Conv2D(32, 3, activation='relu')
    //           self.flatten = Flatten()
    //           self.d1 = Dense(128, activation='relu')
    //           self.d2 = Dense(10)
    //       def call(self, x):
    //           x = self.conv1(x)
    //           x = self.flatten(x)
    //           x = self.d1(x)
    //           return self.d2(x)
    //   loss_object = SparseCategoricalCrossentropy(from_logits=True); optimizer = Adam()
    //   train_ds = ....batch(32)
    name: 'the Keras subclassed CNN',
    source: `model MyModel(x: [28, 28, 1]) -> (logits: [10]) {
  let conv1 = Conv2D(32, 3, activation: 'relu')
  let flatten = Flatten()
  let d1 = Dense(128, activation: relu)
  let d2 = Dense(10)
  h = conv1(x)
  h = flatten(h)
  h = d1(h)
  logits = d2(h)
}
train MyModel {
  data: mnist
  loss: sparse_categorical_crossentropy_from_logits
  optimizer: Adam()
  metrics: [accuracy]
  batch: 32
  epochs: 5
}
`,
    // conv1 3·3·1·32 + 32 = 320; flatten 26·26·32 = 21 632; d1 21 632·128 + 128 = 2 769 024;
    // d2 128·10 + 10 = 1 290 → 2 770 634
    params: 2_770_634,
    batch: (rand, n) => ({ x: pixels(rand, n * 784), target: classes(rand, n, 10) }),
    count: 3,
    steps: 2, // 2.77 M parameters: each Adam step is slow in the interpreter
  },
  {
    // The iris network (Keras):
    //   model = Sequential([Dense(10, activation='relu', input_shape=(4,)),
    //                       Dense(10, activation='relu'),
    //                       Dense(3, activation='softmax')])
    //   model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
    //   model.fit(X_train, y_train_onehot, epochs=100, batch_size=5)
    name: 'the iris network (Keras)',
    source: `sequential Iris(x: [4]) {
  Dense(10, activation: relu)
  Dense(10, activation: relu)
  Dense(3, activation: softmax)
}
train Iris {
  data: iris
  loss: categorical_crossentropy
  optimizer: 'adam'
  metrics: [accuracy]
  batch: 5
  epochs: 100
}
`,
    // 4·10 + 10 = 50; 10·10 + 10 = 110; 10·3 + 3 = 33 → 193
    params: 193,
    // Flowers-like measurements (cm) with one-hot species.
    batch: (rand, n) => ({
      x: Float64Array.from({ length: n * 4 }, (_, i) => [5.8, 3, 3.8, 1.2][i % 4]! + rand() - 0.5),
      target: oneHot(classes(rand, n, 3), 3),
    }),
    count: 5,
    steps: 5,
  },
  {
    // A four-convolution MNIST CNN (Keras):
    //   model = Sequential()
    //   model.add(Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)))
    //   model.add(Conv2D(32, (3, 3), activation='relu'))
    //   model.add(MaxPooling2D(pool_size=(2, 2)))
    //   model.add(Dropout(0.25))
    //   model.add(Conv2D(64, (3, 3), activation='relu'))
    //   model.add(Conv2D(64, (3, 3), activation='relu'))
    //   model.add(MaxPooling2D(pool_size=(2, 2)))
    //   model.add(Dropout(0.25))
    //   model.add(Flatten())
    //   model.add(Dense(256, activation='relu'))
    //   model.add(Dropout(0.5))
    //   model.add(Dense(10, activation='softmax'))
    //   model.compile(loss='categorical_crossentropy', optimizer='rmsprop', metrics=['accuracy'])
    //   model.fit(x_train, y_train, batch_size=128, epochs=12)
    // No optimizer line: nnx's default is Keras' RMSprop (lr 0.001).
    name: 'a four-convolution MNIST CNN (Keras)',
    source: `sequential MnistCnn4(x: [28, 28, 1]) {
  Conv2D(32, (3, 3), activation: relu)
  Conv2D(32, (3, 3), activation: relu)
  MaxPooling2D(pool_size: (2, 2))
  Dropout(0.25)
  Conv2D(64, (3, 3), activation: relu)
  Conv2D(64, (3, 3), activation: relu)
  MaxPooling2D(pool_size: (2, 2))
  Dropout(0.25)
  Flatten()
  Dense(256, activation: relu)
  Dropout(0.5)
  Dense(10, activation: softmax)
}
train MnistCnn4 {
  data: mnist
  loss: categorical_crossentropy
  metrics: [accuracy]
  batch: 128
  epochs: 12
}
`,
    // 3·3·1·32 + 32 = 320; 3·3·32·32 + 32 = 9 248; (pool → 12·12·32) 3·3·32·64 + 64 = 18 496;
    // 3·3·64·64 + 64 = 36 928; (pool → 4·4·64 = 1 024) 1 024·256 + 256 = 262 400;
    // 256·10 + 10 = 2 570 → 329 962
    params: 329_962,
    batch: (rand, n) => ({ x: pixels(rand, n * 784), target: oneHot(classes(rand, n, 10), 10) }),
    count: 2,
    steps: 3,
  },
  {
    // IMDB sentiment with an Embedding and a SimpleRNN (Keras, Chollet's listing 6.22):
    //   model = Sequential()
    //   model.add(Embedding(max_features, 32))      # max_features = 10000
    //   model.add(SimpleRNN(32))
    //   model.add(Dense(1, activation='sigmoid'))
    //   model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])
    //   model.fit(input_train, y_train, epochs=10, batch_size=128, validation_split=0.2)
    // The reviews are padded to maxlen tokens (pad_sequences), here 20 rather than 500 for the
    // interpreter's budget. A recurrent layer is unrolled, so the length is fixed in the header.
    name: 'an IMDB-style Embedding + SimpleRNN',
    source: `sequential Imdb(x: [20]) {
  Embedding(10000, 32)
  SimpleRNN(32)
  Dense(1, activation: sigmoid)
}
train Imdb {
  data: majority
  optimizer: 'rmsprop'
  loss: binary_crossentropy
  metrics: [accuracy]
  batch: 128
  epochs: 10
  validation_split: 0.2
}
`,
    // Embedding 10 000·32 = 320 000; SimpleRNN 32·32 + 32·32 + 32 = 2 080; Dense 32 + 1 = 33
    // → 322 113
    params: 322_113,
    // Generated reviews: the label is whether the small token ids are the majority.
    batch: (rand, n) => {
      const x = Float64Array.from({ length: n * 20 }, () => Math.floor(rand() * 10000));
      const y = Float64Array.from({ length: n }, (_, s) => {
        const small = x.slice(s * 20, s * 20 + 20).filter((t) => t < 5000).length;
        return small > 10 ? 1 : 0;
      });
      return { x, target: y };
    },
    count: 4,
    steps: 4,
  },
];

/** Runs `steps` training steps of `g` on one batch in f64; returns the loss of each step. */
function trainSteps(
  g: Graph,
  weights: ReadonlyMap<string, Float32Array>,
  batch: Record<string, Float64Array>,
  count: number,
  steps: number,
): number[] {
  const values = new Map<string, Tensor>();
  for (const n of inputsOf(g)) {
    const shape = n.shape.map((d) => (d === 'B' ? count : (d as number)));
    const data = new Float64Array(sizeOf(shape));
    const given = weights.get(n.params.name) ?? batch[n.params.name];
    if (given) data.set(given);
    if (n.params.name === MASK_INPUT) data.fill(1);
    values.set(n.params.name, { shape, data });
  }
  const loss = g.outputs.find((o) => o.role === 'loss')!.node;
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const result = interpret(g, values, { dtype: 'f64' });
    losses.push(result[loss]!.data[0]!);
    for (const o of g.outputs) {
      if (o.role !== 'update') continue;
      values.set((g.nodes[o.target!]!.params as { name: string }).name, result[o.node]!);
    }
  }
  return losses;
}

describe('Keras and PyTorch exercises transcribed literally', () => {
  for (const t of TRANSCRIPTIONS) {
    it(`${t.name}: checks, has ${t.params} parameters, and trains`, () => {
      const result = compile(t.source, { path: 'transcription.nnx', settings: [`batch=${t.count}`] });
      expect(result.diagnostics).toEqual([]);
      const compiled = result.compiled!;
      const count = compiled.spec.params.reduce((n, p) => n + sizeOf(p.shape), 0);
      expect(count).toBe(t.params);
      const rand = seededRandom(11);
      const losses = trainSteps(
        compiled.steps.train,
        initialWeights(compiled, 1),
        t.batch(rand, t.count),
        t.count,
        t.steps,
      );
      for (const l of losses) expect(Number.isFinite(l)).toBe(true);
      // Repeated steps on one batch fit it: the last loss is below the first.
      expect(losses[losses.length - 1]!).toBeLessThan(losses[0]!);
    });
  }
});

describe(`the iris network's accuracy on ${MODEL_TEST_BACKEND}, with soft labels`, () => {
  it("is Keras' categorical accuracy: arg-max of the prediction against arg-max of the label", async () => {
    const source = TRANSCRIPTIONS.find((t) => t.name.startsWith('the iris'))!.source;
    const { compiled, diagnostics } = compileFor(MODEL_TEST_BACKEND, source, {
      path: 'iris.nnx',
      settings: ['batch=5'],
    });
    expect(diagnostics).toEqual([]);
    const model = await createOn(MODEL_TEST_BACKEND, compiled!.spec, { seed: 2 });
    const rand = seededRandom(5);
    const count = 13; // two full batches of 5 and a padded one
    const x = Float32Array.from({ length: count * 4 }, () => 4 * rand());
    const soft = Float32Array.from({ length: count * 3 }, () => rand());
    for (let i = 0; i < count; i++) {
      const row = soft.subarray(i * 3, i * 3 + 3);
      const sum = row.reduce((a, v) => a + v, 0);
      row.forEach((v, j) => (row[j] = v / sum));
    }
    const p = (await model.predict({ x })) as Float32Array;
    const argmax = (a: Float32Array, i: number) => {
      const row = Array.from(a.subarray(i * 3, i * 3 + 3));
      return row.indexOf(Math.max(...row));
    };
    let hits = 0;
    for (let i = 0; i < count; i++) if (argmax(p, i) === argmax(soft, i)) hits++;
    // Neither all nor none: the comparison is decided sample by sample.
    expect(hits).toBeGreaterThan(0);
    expect(hits).toBeLessThan(count);
    const values = await model.evaluate({ count, inputs: { x }, targets: { target: soft } });
    expect(values['accuracy']).toBeCloseTo(hits / count, 6);
    model.destroy();
  });
});
