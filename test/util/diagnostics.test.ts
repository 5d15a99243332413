/**
 * The diagnostic catalogue: every code in DIAGNOSTIC_CODES, shown by a program that produces it
 * and the exact text the compiler prints for it.
 */
import { describe, expect, it } from 'vitest';
import { check, compile } from '../../src/compile.js';
import { exportOnnx } from '../../src/export/onnx.js';
import { DIAGNOSTIC_CODES, renderDiagnostics } from '../../src/util/diagnostics.js';
import { CATALOGUE_CASES } from './catalogue-cases.js';

const RENDERED: Readonly<Record<string, string>> = {
  E0001: `m.nnx:2:12: error: unexpected character '$' [E0001]
  |
2 |   Dense(1) $
  |            ^`,
  E0002: `m.nnx:2:11: error: expected an argument, found ')' [E0002]
  |
2 |   Dense(1,)
  |           ^`,
  E0101: `m.nnx:2:3: error: unknown layer \`Dens\`; did you mean \`Dense\`? [E0101]
  |
2 |   Dens(1)
  |   ^^^^`,
  E0102: `m.nnx:4:7: error: \`M\` is defined twice [E0102]
  |
4 | block M(x) {
  |       ^
m.nnx:1:12: note: first defined here
  |
1 | sequential M(x: [2]) {
  |            ^`,
  E0103: `m.nnx:2:12: error: argument \`units\` of Dense is given twice [E0103]
  |
2 |   Dense(1, units: 2)
  |            ^^^^^^^^
m.nnx:2:9: note: first given here
  |
2 |   Dense(1, units: 2)
  |         ^`,
  E0104: `m.nnx:1:7: error: block B has no \`return\` [E0104]
  |
1 | block B(x) {
  |       ^
m.nnx:5:3: note: in this instance of B
  |
5 |   B()
  |   ^^^`,
  E0105: `m.nnx:2:13: error: \`let\` names a layer instance, such as \`let enc = Dense(64)\` [E0105]
  |
2 |   let enc = relu
  |             ^^^^`,
  E0106: `m.nnx:2:10: error: Loop uses itself, so it would never end [E0106]
  |
2 |   return Loop()(x)
  |          ^^^^^^^^^
m.nnx:1:7: note: Loop is defined here
  |
1 | block Loop(x) {
  |       ^^^^
m.nnx:5:3: note: in this instance of Loop
  |
5 |   Loop()
  |   ^^^^^^`,
  E0107: `m.nnx:5:10: error: \`pair_1\` takes 2 tensors, but 1 is given [E0107]
  |
5 |   return Pair()(x)
  |          ^^^^^^^^^`,
  E0108: `m.nnx:3:5: error: the model unrolls to more than 20000 repeat iterations and block instances [E0108]
  |
3 |     repeat 1000 { relu }
  |     ^^^^^^^^^^^^^^^^^^^^`,
  E0201: `m.nnx:2:12: error: cannot apply \`*\` to shapes [2] and [3] (per sample): dimension 0 is 2 in one and 3 in the other [E0201]
  |
2 |   return a * b
  |            ^
m.nnx:1:9: note: \`a\` is [2] per sample, from here
  |
1 | model M(a: [2], b: [3]) {
  |         ^^^^^^
m.nnx:1:17: note: \`b\` is [3] per sample, from here
  |
1 | model M(a: [2], b: [3]) {
  |                 ^^^^^^`,
  E0202: `m.nnx:5:3: error: Enc expects input \`x\` of shape [4,4] per sample, got [16]: it has 1 dimension, not 2 [E0202]
  |
5 |   Enc()
  |   ^^^^^
m.nnx:1:14: note: declared here
  |
1 | model Enc(x: [4, 4]) {
  |              ^^^^^^`,
  E0301: `<command line>:1:7: error: expected \`--set field=value\` or \`--set field.name=value\`, as in \`--set optimizer.lr=0.01\` [E0301]
  |
1 | --set epochs
  |       ^^^^^^`,
  E0302: `m.nnx:1:1: error: there is no train block for any model; add one, e.g. \`train Name { data: xor, loss: mse }\` [E0302]
  |
1 | sequential M(x: [2]) {
  | ^`,
  E0303: `m.nnx:4:7: error: M has the symbolic dimension \`T\`; give its size in the train block, as in \`dims: { T: 8 }\` [E0303]
  |
4 | train M { data: xor, loss: mse }
  |       ^`,
  E0401: `m.nnx:1:8: error: cannot import "layers.nnx": no such file (looked for layers.nnx) [E0401]
  |
1 | import "layers.nnx"
  |        ^^^^^^^^^^^^`,
  E0402: `a.nnx:1:8: error: import cycle: m.nnx → a.nnx → m.nnx [E0402]
  |
1 | import "m.nnx"
  |        ^^^^^^^
  = note: a file cannot import itself, directly or through others; move the shared blocks to a file both import`,
  E0501: `m.nnx:7:38: error: the discriminator \`D\` must give one score per sample (shape [1]), not [2]; end it with \`Dense(1, activation: sigmoid)\` [E0501]
  |
7 | gan P { generator: G, discriminator: D, data: mnist }
  |                                      ^`,
  E0502: `m.nnx:7:38: error: the generator \`G\` makes samples of shape [3], but the discriminator \`D\` takes [4] [E0502]
  |
7 | gan P { generator: G, discriminator: D, data: mnist }
  |                                      ^
m.nnx:1:12: note: \`G\` is defined here
  |
1 | sequential G(z: [2]) {
  |            ^
m.nnx:4:14: note: \`D\` declares its input here
  |
4 | sequential D(x: [4]) {
  |              ^^^^^^`,
  E0601: `m.nnx:4:43: error: unknown augmentation \`flop\`; did you mean \`flip\`? [E0601]
  |
4 | train M { data: xor, loss: mse, augment: [flop] }
  |                                           ^^^^
  = note: expected one of: invert, flip, shift, crop, noise`,
  E0602: `m.nnx:4:43: error: flip needs an image input [H, W, C], but input \`x\` is [16] [E0602]
  |
4 | train M { data: xor, loss: mse, augment: [flip(p: 0.5)] }
  |                                           ^^^^^^^^^^^^
  = note: flip, shift and crop move pixels of [H, W, C] images; invert and noise take any input`,
  E0603: `m.nnx:4:43: error: shift by up to 4 pixels does not fit input \`x\` of 4×6 pixels [E0603]
  |
4 | train M { data: xor, loss: mse, augment: [shift(pixels: 4)] }
  |                                           ^^^^^^^^^^^^^^^^
  = note: an image can move by at most 3, one less than its smaller side`,
  E0701: `m.nnx:2:3: error: layer \`dropout_1\` computes \`random_uniform\`, which the ONNX export cannot express [E0701]
  |
2 |   Dropout(0.5)
  |   ^^^^^^^^^^^^`,
  W0101: `m.nnx:2:7: warning: layer instance \`unused\` is never called, so it has no weights [W0101]
  |
2 |   let unused = Dense(4)
  |       ^^^^^^`,
  W0102: `m.nnx:1:17: warning: input \`y\` is never used [W0102]
  |
1 | model M(x: [2], y: [2]) {
  |                 ^`,
  W0104: `m.nnx:3:3: warning: Dense on the image [26, 26, 4] applies to its channels only, one pixel at a time: add Flatten() before it to see the whole image [W0104]
  |
3 |   Dense(10)
  |   ^^^^^^^^^`,
  W0103: `m.nnx:1:1: warning: the file defines nothing [W0103]
  |
1 | # only a comment
  | ^
  = note: a file holds models (\`sequential\`, \`model\`), \`block\`s, and \`train\` or \`gan\` blocks`,
};

function render(code: string): string {
  const c = CATALOGUE_CASES[code]!;
  const options = { path: 'm.nnx', readFile: (p: string) => c.files?.[p], settings: c.settings ?? [] };
  const result = c.compile || c.exportTrainingGraph ? compile(c.text, options) : check(c.text, options);
  const diagnostics = c.exportTrainingGraph
    ? exportOnnx((result as ReturnType<typeof compile>).model!.training!, new Map()).diagnostics
    : result.diagnostics;
  return renderDiagnostics({ path: 'm.nnx', text: c.text }, diagnostics, result.sources);
}

describe('diagnostic catalogue', () => {
  it('has an example for every code, and no example for a code it lacks', () => {
    expect(Object.keys(CATALOGUE_CASES).sort()).toEqual(Object.keys(DIAGNOSTIC_CODES).sort());
    expect(Object.keys(RENDERED).sort()).toEqual(Object.keys(DIAGNOSTIC_CODES).sort());
  });

  for (const code of Object.keys(DIAGNOSTIC_CODES)) {
    it(`${code} (${DIAGNOSTIC_CODES[code as keyof typeof DIAGNOSTIC_CODES]})`, () => {
      const text = render(code);
      expect(text).toBe(RENDERED[code]);
      expect(text).toContain(`[${code}]`);
    });
  }
});

/** Diagnostics that say the fix: each rendered exactly as the compiler prints it. */
describe('diagnostics that say the fix', () => {
  const rendered = (text: string) =>
    renderDiagnostics({ path: 'm.nnx', text }, check(text, { path: 'm.nnx' }).diagnostics);

  it('Conv2D on a flat input says how to make it an image', () => {
    expect(rendered('sequential M(x: [784]) {\n  Conv2D(4, 3)\n}\n'))
      .toBe(`m.nnx:2:3: error: Conv2D expects an image [H, W, C] per sample, got [784]: declare the input as an image, as in \`x: [28, 28, 1]\`, or add \`Reshape([28, 28, 1])\` before it [E0201]
  |
2 |   Conv2D(4, 3)
  |   ^^^^^^^^^^^^`);
  });

  it('Conv2D on a grey image without a channel axis says to add one', () => {
    expect(rendered('sequential M(x: [28, 28]) {\n  Conv2D(4, 3)\n}\n'))
      .toBe(`m.nnx:2:3: error: Conv2D expects an image [H, W, C] per sample, got [28, 28]: give it a channel axis, as in \`Reshape([28, 28, 1])\` [E0201]
  |
2 |   Conv2D(4, 3)
  |   ^^^^^^^^^^^^`);
  });

  it("a missing ',' between arguments says so", () => {
    expect(rendered('sequential M(x: [784]) {\n  Dense(10 activation: relu)\n}\n'))
      .toBe(`m.nnx:2:12: error: missing ',' between the arguments of 'Dense': expected ',' or ')', found 'activation' [E0002]
  |
2 |   Dense(10 activation: relu)
  |            ^^^^^^^^^^`);
  });

  it("Keras' input_shape= says the shape goes in the model header, written out", () => {
    expect(rendered('sequential Net(x: [784]) {\n  Dense(64, input_shape=(784,))\n}\n'))
      .toBe(`m.nnx:2:24: error: in nnx the input shape goes in the model header, not on a layer: write 'sequential Net(x: [784]) { ... }' [E0002]
  |
2 |   Dense(64, input_shape=(784,))
  |                        ^`);
  });

  it('input_dim on a first layer says the same, with the header', () => {
    expect(rendered('sequential Net(x: [784]) {\n  Dense(64, activation: relu, input_dim: 784)\n}\n'))
      .toBe(`m.nnx:2:31: error: \`input_dim\` of Dense: in nnx the input shape goes in the model header, not on a layer: write \`sequential Net(x: [784]) { ... }\` [E0103]
  |
2 |   Dense(64, activation: relu, input_dim: 784)
  |                               ^^^^^^^^^^^^^^
m.nnx:1:12: note: Net's inputs are declared here
  |
1 | sequential Net(x: [784]) {
  |            ^^^`);
  });

  it('a block called with too many arguments shows its signature', () => {
    expect(
      rendered(
        'block B(c: int, act: enum(relu, tanh) = relu)(x) {\n  return Dense(c, activation: act)(x)\n}\nsequential M(x: [784]) {\n  B(1, relu, 3)\n}\n',
      ),
    ).toBe(`m.nnx:5:14: error: B takes at most 2 positional arguments [E0103]
  |
5 |   B(1, relu, 3)
  |              ^
m.nnx:1:7: note: B is declared as \`block B(c: int, act: enum(relu, tanh) = relu)(x)\`
  |
1 | block B(c: int, act: enum(relu, tanh) = relu)(x) {
  |       ^`);
  });

  it('an unknown layer with no near name lists the layers', () => {
    expect(rendered('sequential M(x: [784]) {\n  Convolution2D(3, 3)\n}\n'))
      .toBe(`m.nnx:2:3: error: unknown layer \`Convolution2D\` [E0101]
  |
2 |   Convolution2D(3, 3)
  |   ^^^^^^^^^^^^^
  = note: the layers are: Dense, Activation, Flatten, Reshape, Conv2D, MaxPool2D, MaxPooling2D, AveragePooling2D, AvgPool2D, GlobalAveragePooling2D, GlobalMaxPooling2D, UpSampling2D, Dropout, BatchNormalization, LayerNormalization, Normalization, Embedding, SimpleRNN, LSTM, GRU, MultiHeadAttention, PositionEmbedding, SinePositionEncoding, GlobalAveragePooling1D, GlobalMaxPooling1D, Concatenate, Add, Multiply, Subtract, Average, Maximum, and the blocks and models of this file and its imports`);
  });

  it('an unknown optimizer lists the optimizers', () => {
    expect(
      rendered(
        'sequential M(x: [2]) {\n  Dense(1)\n}\ntrain M { data: xor, loss: mse, optimizer: Adamax(lr: 0.1) }\n',
      ),
    ).toBe(`m.nnx:4:44: error: unknown optimizer \`Adamax\`; did you mean \`Adam\`? [E0101]
  |
4 | train M { data: xor, loss: mse, optimizer: Adamax(lr: 0.1) }
  |                                            ^^^^^^^^^^^^^^^
  = note: the optimizers are: SGD, Adam, AdamW, RMSProp, Adagrad`);
  });
});
