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
