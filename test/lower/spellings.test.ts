/** Keras' string names read as the nnx names they spell, one rule everywhere; `nnxc fmt` rewrites them. */
import { describe, expect, it } from 'vitest';
import { check } from '../../src/compile.js';
import { formatNnx } from '../../src/format/index.js';
import { printGraph } from '../../src/ir/print.js';
import { LOSS_NAMES, METRIC_NAMES } from '../../src/bind/losses.js';
import { OPTIMIZERS } from '../../src/bind/optimizers.js';
import { ACTIVATION_NAMES } from '../../src/lower/layers/activations.js';
import { INITIALIZERS } from '../../src/lower/layers/options.js';
import { KERAS_ALIASES, foldSpelling, resolveSpelling } from '../../src/lower/spellings.js';
import { renderDiagnostics } from '../../src/util/diagnostics.js';

const KERAS = `sequential Net(x: [8, 8, 1]) {
  Conv2D(4, (3, 3), padding: 'SAME', activation: 'relu', kernel_initializer: 'HeNormal')
  MaxPool2D((2, 2), padding: "valid")
  Flatten()
  Dense(16, activation: "relu", kernel_initializer: 'he_normal')
  Dense(3)
  Activation('softmax')
}
train Net { data: 'iris', loss: 'CategoricalCrossentropy', optimizer: 'RMSprop', metrics: ['acc'] }
`;

const NNX = `sequential Net(x: [8, 8, 1]) {
  Conv2D(4, [3, 3], padding: same, activation: relu, kernel_initializer: he_normal)
  MaxPool2D([2, 2], padding: valid)
  Flatten()
  Dense(16, activation: relu, kernel_initializer: he_normal)
  Dense(3)
  Activation(softmax)
}
train Net { data: iris, loss: categorical_crossentropy, optimizer: RMSProp, metrics: [accuracy] }
`;

function errorsOf(text: string): string {
  return renderDiagnostics({ path: 'm.nnx', text }, check(text).diagnostics);
}

describe("Keras' string names", () => {
  it('compile exactly as the nnx names they spell: layers, losses, optimizers, metrics, datasets', () => {
    const keras = check(KERAS);
    const nnx = check(NNX);
    expect(keras.diagnostics).toEqual([]);
    expect(nnx.diagnostics).toEqual([]);
    expect(printGraph(keras.models.get('Net')!.graph)).toBe(printGraph(nnx.models.get('Net')!.graph));
    // Source positions differ between the two spellings (span, and the spans of the loss and optimizer values).
    const { span: _a, spans: _c, ...kerasTrain } = keras.trains[0]!;
    const { span: _b, spans: _d, ...nnxTrain } = nnx.trains[0]!;
    expect(kerasTrain.loss).toBe('categorical_crossentropy');
    expect(JSON.stringify(kerasTrain, (k, v) => (k === 'span' ? undefined : v))).toBe(
      JSON.stringify(nnxTrain, (k, v) => (k === 'span' ? undefined : v)),
    );
  });

  it("take Keras' spellings of the optimizers and losses", () => {
    const optimizers = Object.keys(OPTIMIZERS);
    expect(
      ['adam', 'Adam', 'sgd', 'SGD', 'RMSprop', 'rmsprop', 'adagrad', 'AdamW'].map((s) =>
        resolveSpelling(s, optimizers),
      ),
    ).toEqual(['Adam', 'Adam', 'SGD', 'SGD', 'RMSProp', 'RMSProp', 'Adagrad', 'AdamW']);
    expect(
      ['mean_squared_error', 'MeanAbsoluteError', 'binary_crossentropy', 'SparseCategoricalCrossentropy'].map(
        (s) => resolveSpelling(s, LOSS_NAMES),
      ),
    ).toEqual(['mse', 'mae', 'binary_crossentropy', 'sparse_categorical_crossentropy']);
    expect(resolveSpelling('adamax', optimizers)).toBeUndefined();
  });

  it('no alias hides an nnx name: no alias key folds to the spelling of one', () => {
    const all = [
      ...LOSS_NAMES,
      ...METRIC_NAMES,
      ...Object.keys(OPTIMIZERS),
      ...ACTIVATION_NAMES,
      ...INITIALIZERS,
    ];
    for (const key of Object.keys(KERAS_ALIASES)) expect(all.map(foldSpelling)).not.toContain(key);
  });

  it('an unknown string lists the names, with the nearest', () => {
    expect(errorsOf("sequential M(x: [2]) {\n  Dense(1, activation: 'rleu')\n}\n"))
      .toBe(`m.nnx:2:24: error: unknown activation "rleu" for Dense; did you mean \`relu\`? [E0103]
  |
2 |   Dense(1, activation: 'rleu')
  |                        ^^^^^^
  = note: expected one of: linear, relu, sigmoid, tanh, softplus, softmax, leaky_relu, elu, log_softmax, gelu, swish, silu`);
    expect(
      errorsOf(
        "sequential M(x: [2]) {\n  Dense(1)\n}\ntrain M { data: xor, loss: mse, optimizer: 'adamax' }\n",
      ),
    ).toBe(`m.nnx:4:44: error: unknown optimizer "adamax" for the train block; did you mean \`Adam\`? [E0103]
  |
4 | train M { data: xor, loss: mse, optimizer: 'adamax' }
  |                                            ^^^^^^^^
  = note: expected one of: SGD, Adam, AdamW, RMSProp, Adagrad`);
  });

  it('an unterminated single-quoted string names its own quote', () => {
    expect(errorsOf("sequential M(x: [2]) {\n  Dense(1, activation: 'relu)\n}\n")).toContain(
      `error: unterminated string: missing the closing "'" before the end of the line [E0001]`,
    );
  });

  it('nnxc fmt rewrites them to the nnx names, and leaves file names alone', () => {
    const result = formatNnx(KERAS);
    expect('text' in result && result.text).toBe(
      `sequential Net(x: [8, 8, 1]) {
  Conv2D(
    4,
    [3, 3],
    padding: same,
    activation: relu,
    kernel_initializer: he_normal
  )
  MaxPool2D([2, 2], padding: valid)
  Flatten()
  Dense(16, activation: relu, kernel_initializer: he_normal)
  Dense(3)
  Activation(softmax)
}

train Net {
  data: "iris"
  loss: categorical_crossentropy
  optimizer: RMSProp
  metrics: [accuracy]
}
`,
    );
    const csv = formatNnx("train M { data: csv('relu.csv', label: \"mse\"), loss: 'mse' }\n");
    expect('text' in csv && csv.text).toBe(
      'train M {\n  data: csv("relu.csv", label: "mse")\n  loss: mse\n}\n',
    );
  });
});
