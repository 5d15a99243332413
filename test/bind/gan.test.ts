/**
 * The gan block: its fields bound with their defaults, its models checked against each other,
 * every mistake a diagnostic at its line and column; and the step graphs it compiles to, read
 * as IR: which parameters each step differentiates and updates.
 */
import { describe, expect, it } from 'vitest';
import { check, compileGan } from '../../src/compile.js';
import { inputsOf } from '../../src/ir/graph.js';
import { renderDiagnostics } from '../../src/util/diagnostics.js';

const MODELS = `sequential G(z: [8]) {
  Dense(16, activation: leaky_relu)
  Dense(12, activation: tanh)
}
sequential D(x: [12]) {
  Dense(10, activation: leaky_relu)
  Dense(1, activation: sigmoid)
}
`;

function rendered(text: string): string {
  const result = check(text, { path: 'g.nnx' });
  return renderDiagnostics({ path: 'g.nnx', text }, result.diagnostics, result.sources);
}

describe('gan block', () => {
  it('binds its fields, with Adam for both sides unless told otherwise', () => {
    const text = `${MODELS}gan P {
  generator: G
  discriminator: D
  data: mnist
  data_range: [-1, 1]
  g_optimizer: SGD(lr: 0.5)
  batch: 16
}
`;
    const { gans, diagnostics } = check(text);
    expect(diagnostics).toEqual([]);
    const gan = gans[0]!;
    expect(gan).toMatchObject({
      name: 'P',
      generator: 'G',
      discriminator: 'D',
      noise: 'normal',
      loss: 'binary_crossentropy',
      dataRange: [-1, 1],
      batch: 16,
      epochs: 1,
    });
    expect(gan.discriminatorOptimizer.kind).toBe('adam');
    expect(gan.generatorOptimizer).toMatchObject({ kind: 'sgd', lr: 0.5 });
  });

  it('refuses weight regularizers, which its losses would silently leave out', () => {
    const text =
      MODELS.replace(
        'Dense(1, activation: sigmoid)',
        'Dense(1, activation: sigmoid, kernel_regularizer: l2(0.1))',
      ) + 'gan P {\n  generator: G\n  discriminator: D\n  data: mnist\n}\n';
    expect(rendered(text)).toContain(
      "g.nnx:11:18: error: `D` has weight regularizers (kernel_regularizer, bias_regularizer), which a GAN's losses do not include yet [E0501]",
    );
  });

  it('refuses a Normalization layer, whose statistics only a train block adapts', () => {
    const text =
      MODELS.replace('sequential D(x: [12]) {\n', 'sequential D(x: [12]) {\n  Normalization()\n') +
      'gan P {\n  generator: G\n  discriminator: D\n  data: mnist\n}\n';
    expect(rendered(text)).toContain(
      'g.nnx:12:18: error: `D` has a Normalization layer, whose mean and variance nnx adapts to the data only in a train block; in a GAN it would stay the identity [E0501]',
    );
  });

  it('reports a generator whose samples do not fit the discriminator, at the discriminator field', () => {
    const text =
      MODELS.replace('Dense(12, activation: tanh)', 'Dense(11, activation: tanh)') +
      'gan P {\n  generator: G\n  discriminator: D\n  data: mnist\n}\n';
    expect(rendered(text))
      .toBe(`g.nnx:11:18: error: the generator \`G\` makes samples of shape [11], but the discriminator \`D\` takes [12] [E0502]
   |
11 |   discriminator: D
   |                  ^
g.nnx:1:12: note: \`G\` is defined here
  |
1 | sequential G(z: [8]) {
  |            ^
g.nnx:5:14: note: \`D\` declares its input here
  |
5 | sequential D(x: [12]) {
  |              ^^^^^^^`);
  });

  it('reports an unknown model with a suggestion, and a block named as a model', () => {
    const text = `${MODELS}block B(x) {\n  return x\n}\ngan P {\n  generator: Gen\n  discriminator: B\n  data: mnist\n}\n`;
    expect(rendered(text))
      .toBe(`g.nnx:13:14: error: no model named \`Gen\` to be the generator of gan P; did you mean \`G\`? [E0101]
   |
13 |   generator: Gen
   |              ^^^

g.nnx:14:18: error: the discriminator of gan P must be a model, and \`B\` is a block [E0101]
   |
14 |   discriminator: B
   |                  ^`);
  });

  it('reports missing fields, a bad data_range and an unknown loss at their places', () => {
    const text = `${MODELS}gan P {\n  generator: G\n  data_range: [1, -1]\n  loss: hinge\n}\n`;
    const out = rendered(text);
    expect(out).toContain('g.nnx:11:15: error: `data_range` of gan P must be two numbers, low then high');
    expect(out).toContain('g.nnx:12:9: error: unknown loss `hinge` for gan P');
    expect(out).toContain('g.nnx:9:5: error: gan P needs the argument `discriminator` [E0104]');
    expect(out).toContain('g.nnx:9:5: error: gan P needs the argument `data` [E0104]');
  });

  it('refuses a discriminator without one score per sample, but takes models that change in training', () => {
    const wide = MODELS.replace('Dense(1, activation: sigmoid)', 'Dense(2)');
    expect(rendered(`${wide}gan P { generator: G, discriminator: D, data: mnist }\n`)).toContain(
      'the discriminator `D` must give one score per sample (shape [1]), not [2]',
    );
    const dropout = MODELS.replace('Dense(10, activation: leaky_relu)', 'Dense(10)\n  Dropout(0.3)');
    expect(rendered(`${dropout}gan P { generator: G, discriminator: D, data: mnist }\n`)).toBe('');
  });

  it('compiles to steps that each differentiate and update one side only', () => {
    const text = `${MODELS}gan P { generator: G, discriminator: D, data: mnist, batch: 4 }\n`;
    const { compiled, diagnostics } = compileGan(text);
    expect(diagnostics).toEqual([]);
    const { steps, spec } = compiled!;
    const updated = (step: 'd_step' | 'g_step') =>
      steps[step].outputs
        .filter((o) => o.role === 'update' && (o.name.endsWith('/kernel') || o.name.endsWith('/bias')))
        .map((o) => o.name);
    expect(updated('d_step')).toEqual([
      'discriminator/dense_1/kernel',
      'discriminator/dense_1/bias',
      'discriminator/dense_2/kernel',
      'discriminator/dense_2/bias',
    ]);
    expect(updated('g_step')).toEqual([
      'generator/dense_1/kernel',
      'generator/dense_1/bias',
      'generator/dense_2/kernel',
      'generator/dense_2/bias',
    ]);
    // Both steps read both models' parameters; only the host's real samples are uploaded, and
    // only to the discriminator step.
    for (const step of ['d_step', 'g_step'] as const) expect(inputsOf(steps[step], 'param').length).toBe(8);
    expect(spec.entries.d_step.inputs.map((s) => [s.name, s.shape])).toEqual([['x', [4, 12]]]);
    expect(spec.entries.g_step.inputs).toEqual([]);
    expect(spec.entries.generate.inputs.map((s) => [s.name, s.shape])).toEqual([['z', [4, 8]]]);
    // Each side keeps its own Adam state; the generate entry updates nothing.
    expect(spec.state.map((s) => s.name)).toContain('generator/optimizer/step');
    expect(spec.state.map((s) => s.name)).toContain('discriminator/dense_2/bias/m');
    expect(steps.generate.outputs.every((o) => o.role === 'prediction')).toBe(true);
  });
});
