/**
 * One program per diagnostic code, each producing that diagnostic: the catalogue's examples.
 * Imported files come from `files`; `settings` are `--set` values.
 */
export interface CatalogueCase {
  readonly text: string;
  readonly files?: Readonly<Record<string, string>>;
  readonly settings?: readonly string[];
  /** Compile rather than only check: the code is reported when a model is compiled. */
  readonly compile?: boolean;
  /**
   * Compile, then export the model's training-mode graph to ONNX: the code is reported by an
   * exporter (src/export), for a graph holding an op the target cannot express.
   */
  readonly exportTrainingGraph?: boolean;
}

const XOR_TRAIN = 'train M { data: xor, loss: mse }\n';

export const CATALOGUE_CASES: Readonly<Record<string, CatalogueCase>> = {
  E0001: { text: 'sequential M(x: [2]) {\n  Dense(1) $\n}\n' },
  E0002: { text: 'sequential M(x: [2]) {\n  Dense(1,)\n}\n' },
  E0101: { text: 'sequential M(x: [2]) {\n  Dens(1)\n}\n' },
  E0102: { text: 'sequential M(x: [2]) {\n  Dense(1)\n}\nblock M(x) {\n  return x\n}\n' },
  E0103: { text: 'sequential M(x: [2]) {\n  Dense(1, units: 2)\n}\n' },
  E0104: { text: 'block B(x) {\n  h = relu(x)\n}\nsequential M(x: [2]) {\n  B()\n}\n' },
  E0105: { text: 'model M(x: [2]) {\n  let enc = relu\n  return x\n}\n' },
  E0106: { text: 'block Loop(x) {\n  return Loop()(x)\n}\nsequential M(x: [2]) {\n  Loop()\n}\n' },
  E0107: { text: 'block Pair(a, b) {\n  return a + b\n}\nmodel M(x: [2]) {\n  return Pair()(x)\n}\n' },
  E0108: { text: 'sequential M(x: [2]) {\n  repeat 1000 {\n    repeat 1000 { relu }\n  }\n}\n' },
  E0201: { text: 'model M(a: [2], b: [3]) {\n  return a * b\n}\n' },
  E0202: { text: 'model Enc(x: [4, 4]) {\n  return x\n}\nsequential M(x: [16]) {\n  Enc()\n}\n' },
  E0301: { text: `sequential M(x: [2]) {\n  Dense(1)\n}\n${XOR_TRAIN}`, settings: ['epochs'] },
  E0302: { text: 'sequential M(x: [2]) {\n  Dense(1)\n}\n', compile: true },
  E0303: { text: `model M(x: [T, 2]) {\n  return relu(x)\n}\n${XOR_TRAIN}` },
  E0401: { text: 'import "layers.nnx"\n' },
  E0402: { text: 'import "a.nnx"\n', files: { 'a.nnx': 'import "m.nnx"\n' } },
  E0501: {
    text: 'sequential G(z: [2]) {\n  Dense(4)\n}\nsequential D(x: [4]) {\n  Dense(2)\n}\ngan P { generator: G, discriminator: D, data: mnist }\n',
  },
  E0502: {
    text: 'sequential G(z: [2]) {\n  Dense(3)\n}\nsequential D(x: [4]) {\n  Dense(1)\n}\ngan P { generator: G, discriminator: D, data: mnist }\n',
  },
  E0601: {
    text: 'sequential M(x: [4, 4, 1]) {\n  Flatten()\n}\ntrain M { data: xor, loss: mse, augment: [flop] }\n',
  },
  E0602: {
    text: 'sequential M(x: [16]) {\n  Dense(1)\n}\ntrain M { data: xor, loss: mse, augment: [flip(p: 0.5)] }\n',
  },
  E0603: {
    text: 'sequential M(x: [4, 6, 1]) {\n  Flatten()\n}\ntrain M { data: xor, loss: mse, augment: [shift(pixels: 4)] }\n',
  },
  E0701: {
    text: 'sequential M(x: [2]) {\n  Dropout(0.5)\n}\ntrain M { data: xor, loss: mse }\n',
    exportTrainingGraph: true,
  },
  W0101: { text: 'model M(x: [2]) {\n  let unused = Dense(4)\n  return x\n}\n' },
  W0102: { text: 'model M(x: [2], y: [2]) {\n  return x\n}\n' },
  W0103: { text: '# only a comment\n' },
  W0104: { text: 'sequential M(x: [28, 28, 1]) {\n  Conv2D(4, 3)\n  Dense(10)\n}\n' },
};
