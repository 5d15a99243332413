/** `--set` settings, per-output losses with weights, and sizes of symbolic dimensions. */
import { describe, expect, it } from 'vitest';
import { check, compile } from '../../src/compile.js';
import { renderDiagnostics } from '../../src/util/diagnostics.js';

const TWO_HEADS = `model Heads(x: [4]) -> (digit: [3], parity: [1]) {
  h = Dense(8, activation: relu)(x)
  digit = Dense(3, activation: softmax)(h)
  parity = Dense(1, activation: sigmoid)(h)
}
train Heads {
  data: xor
  loss: { digit: categorical_crossentropy, parity: binary_crossentropy }
  loss_weights: { digit: 1, parity: 0.5 }
  optimizer: SGD(lr: 0.1)
  epochs: 2
}
`;

function rendered(text: string, settings: string[] = []): string {
  const checked = check(text, { path: 'm.nnx', settings });
  return renderDiagnostics({ path: 'm.nnx', text }, checked.diagnostics, checked.sources);
}

describe('train settings', () => {
  it('reads one loss per output with weights', () => {
    const { trains, diagnostics } = check(TWO_HEADS, { path: 'm.nnx' });
    expect(diagnostics).toEqual([]);
    expect(trains[0]!.outputLosses.map((o) => `${o.output} ${o.loss} ${o.weight}`)).toEqual([
      'digit categorical_crossentropy 1',
      'parity binary_crossentropy 0.5',
    ]);
  });

  it('every field can be overridden with --set, nested ones too', () => {
    const settings = ['optimizer.lr=0.01', 'epochs=3', 'loss_weights.parity=0.25', 'optimizer.momentum=0.9'];
    const { trains, diagnostics } = check(TWO_HEADS, { path: 'm.nnx', settings });
    expect(diagnostics).toEqual([]);
    const t = trains[0]!;
    expect(t.optimizer).toMatchObject({ kind: 'sgd', lr: 0.01, momentum: 0.9 });
    expect(t.epochs).toBe(3);
    expect(t.outputLosses.map((o) => o.weight)).toEqual([1, 0.25]);
    const swapped = check(TWO_HEADS, { path: 'm.nnx', settings: ['optimizer=Adam(lr: 0.002)'] });
    expect(swapped.trains[0]!.optimizer).toMatchObject({ kind: 'adam', lr: 0.002 });
  });

  it('a bad setting points into the command line', () => {
    expect(rendered(TWO_HEADS, ['epochs=3', 'optimizer.lr=fast'])).toBe(
      `<command line>:1:35: error: argument \`lr\` of SGD must be a number, not \`fast\` [E0105]
  |
1 | --set epochs=3 --set optimizer.lr=fast
  |                                   ^^^^`,
    );
    expect(rendered(TWO_HEADS, ['epochs'])).toBe(
      `<command line>:1:7: error: expected \`--set field=value\` or \`--set field.name=value\`, as in \`--set optimizer.lr=0.01\` [E0301]
  |
1 | --set epochs
  |       ^^^^^^`,
    );
  });

  it('a loss for an output the model lacks suggests the nearest', () => {
    const text = TWO_HEADS.replace('parity: binary_crossentropy }', 'party: binary_crossentropy }');
    expect(rendered(text)).toContain(
      'm.nnx:8:44: error: Heads has no output `party`; did you mean `parity`? [E0101]',
    );
  });

  it('symbolic dimensions need sizes before compiling, and get them from dims', () => {
    const model = `model Seq(x: [T, 4]) -> (y: [T, 4]) {\n  y = relu(x) * 2\n}\n`;
    expect(rendered(`${model}train Seq { data: xor, loss: mse }\n`)).toBe(
      `m.nnx:4:7: error: Seq has the symbolic dimension \`T\`; give its size in the train block, as in \`dims: { T: 8 }\` [E0303]
  |
4 | train Seq { data: xor, loss: mse }
  |       ^^^`,
    );
    const result = compile(`${model}train Seq { data: xor, loss: mse, dims: { T: 3 } }\n`, { path: 'm.nnx' });
    expect(result.diagnostics).toEqual([]);
    expect(result.compiled!.spec.entries.predict.inputs[0]!.shape).toEqual([32, 3, 4]);
  });

  it('sizes the train-mode lowering too, when Dropout makes one', () => {
    const text = `sequential S(x: [T]) {
  Embedding(10, 4)
  Dropout(0.5)
  GlobalAveragePooling1D()
  Dense(1, activation: sigmoid)
}
train S { data: majority, loss: binary_crossentropy, dims: { T: 20 }, batch: 8 }
`;
    const result = compile(text, { path: 'm.nnx' });
    expect(result.diagnostics).toEqual([]);
    expect(result.model!.training).toBeDefined();
    expect(result.compiled!.spec.entries.train.inputs.find((s) => s.role === 'input')!.shape).toEqual([
      8, 20,
    ]);
  });

  it("a block without an optimizer trains with Keras' default: RMSprop(lr 0.001, rho 0.9, eps 1e-7 in the root)", () => {
    const text = `sequential S(x: [2]) {\n  Dense(1, activation: sigmoid)\n}\ntrain S { data: xor, loss: mse }\n`;
    const { trains, diagnostics } = check(text, { path: 'm.nnx' });
    expect(diagnostics).toEqual([]);
    expect(trains[0]!.optimizer).toEqual({
      kind: 'rmsprop',
      lr: 0.001,
      rho: 0.9,
      epsilon: 1e-7,
      epsilonPlacement: 'keras',
    });
    expect(trains[0]!.batch).toBe(32);
    expect(trains[0]!.epochs).toBe(1);
    // `--set optimizer.lr=…` refines that default rather than some other optimizer.
    const refined = check(text, { path: 'm.nnx', settings: ['optimizer.lr=0.01'] });
    expect(refined.trains[0]!.optimizer).toMatchObject({
      kind: 'rmsprop',
      lr: 0.01,
      rho: 0.9,
      epsilonPlacement: 'keras',
    });
    const placed = check(text, { path: 'm.nnx', settings: ['optimizer.epsilon_placement=pytorch'] });
    expect(placed.trains[0]!.optimizer).toMatchObject({ kind: 'rmsprop', epsilonPlacement: 'pytorch' });
    // Named explicitly, RMSProp() keeps nnx's own default placement.
    const named = check(text.replace('loss: mse', 'loss: mse, optimizer: RMSProp()'), { path: 'm.nnx' });
    expect(named.trains[0]!.optimizer).toMatchObject({ kind: 'rmsprop', epsilonPlacement: 'pytorch' });
  });
});
