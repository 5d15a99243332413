/**
 * `trainable: false` on a layer, block or model instance: its parameters leave the trained set,
 * so the training step takes no gradient of them and keeps no optimizer state for them.
 */
import { describe, expect, it } from 'vitest';
import { check, compile } from '../../src/compile.js';
import { inputsOf } from '../../src/ir/graph.js';
import { renderDiagnostics } from '../../src/util/diagnostics.js';

const FROZEN = `block Trunk(x: [4]) {
  Dense(5, activation: relu)
  Dense(5, activation: relu)
}
sequential F(x: [2]) {
  Dense(4, activation: relu, trainable: false)
  Trunk(trainable: false)
  Dense(1, activation: sigmoid, trainable: true)
}
train F { data: xor, loss: binary_crossentropy, optimizer: Adam(lr: 0.01), batch: 4, epochs: 10 }
`;

const FROZEN_PARAMS = [
  'dense_1/kernel',
  'dense_1/bias',
  'trunk_1/dense_1/kernel',
  'trunk_1/dense_1/bias',
  'trunk_1/dense_2/kernel',
  'trunk_1/dense_2/bias',
];

describe('trainable: false', () => {
  it('keeps frozen parameters in the graph but out of the trained set', () => {
    const { models, diagnostics } = check(FROZEN);
    expect(diagnostics).toEqual([]);
    const m = models.get('F')!;
    expect(m.params.map((p) => p.name)).toEqual(['dense_2/kernel', 'dense_2/bias']);
    const all = inputsOf(m.graph, 'param').map((n) => n.params.name);
    expect(all).toEqual([...FROZEN_PARAMS, 'dense_2/kernel', 'dense_2/bias']);
  });

  it('gives the frozen parameters no gradient, no update and no optimizer slots', () => {
    const result = compile(FROZEN);
    expect(result.diagnostics).toEqual([]);
    const { steps, spec } = result.compiled!;
    const train = steps.train;
    const updated = train.outputs.filter((o) => o.role === 'update').map((o) => o.name);
    for (const name of FROZEN_PARAMS) {
      expect(updated).not.toContain(name);
      expect(updated.filter((u) => u.startsWith(`${name}/`))).toEqual([]);
      expect(spec.state.map((s) => s.name).filter((s) => s.startsWith(`${name}/`))).toEqual([]);
    }
    expect(updated).toContain('dense_2/kernel');
    expect(spec.state.map((s) => s.name)).toEqual(
      expect.arrayContaining(['dense_2/kernel/m', 'dense_2/kernel/v', 'dense_2/bias/m', 'dense_2/bias/v']),
    );
    // Even before dead-code elimination, no gradient node has a frozen kernel's shape.
    const frozenKernelShapes = ['2,4', '4,5', '5,5'];
    const gradShapes = train.nodes
      .filter((n) => n.label === 'grad' || n.label?.endsWith(' (gradient)'))
      .map((n) => n.shape.join(','));
    expect(gradShapes).toContain('5,1');
    for (const shape of frozenKernelShapes) expect(gradShapes).not.toContain(shape);
  });

  it('freezes a shared instance for every call', () => {
    const { models, diagnostics } = check(`model S(a: [3], b: [3]) -> (y: [1]) {
  let enc = Dense(4, trainable: false)
  y = Dense(1)(enc(a) + enc(b))
}
`);
    expect(diagnostics).toEqual([]);
    expect(models.get('S')!.params.map((p) => p.name)).toEqual(['dense_1/kernel', 'dense_1/bias']);
  });

  it('reports a trainable value that is not a bool at its line and column', () => {
    const text = 'sequential M(x: [4]) {\n  Dense(5, trainable: 0)\n  Dense(2)\n}\n';
    expect(renderDiagnostics({ path: 'm.nnx', text }, check(text).diagnostics)).toBe(
      'm.nnx:2:23: error: argument `trainable` of Dense must be `true` or `false`, not the number 0 [E0105]\n' +
        '  |\n2 |   Dense(5, trainable: 0)\n  |                       ^',
    );
  });
});

describe('freeze in a train block', () => {
  const UNFROZEN = FROZEN.replace(/(, )?trainable: (false|true)/g, '');
  const withFreeze = (freeze: string) => UNFROZEN.replace('epochs: 10', `epochs: 10, freeze: ${freeze}`);

  it('takes the named layers, nested paths included, out of the trained set', () => {
    const result = compile(withFreeze('[dense_1, trunk_1/dense_2]'));
    expect(result.diagnostics).toEqual([]);
    expect(result.model!.params.map((p) => p.name)).toEqual([
      'trunk_1/dense_1/kernel',
      'trunk_1/dense_1/bias',
      'dense_2/kernel',
      'dense_2/bias',
    ]);
    const updated = result.compiled!.steps.train.outputs.map((o) => o.name);
    expect(updated).not.toContain('dense_1/kernel');
    expect(updated).not.toContain('trunk_1/dense_2/kernel');
    expect(updated).toContain('trunk_1/dense_1/kernel');
  });

  it('is overridden from the command line: --set freeze=[] trains everything', () => {
    const result = compile(withFreeze('[trunk_1]'), { settings: ['freeze=[]'] });
    expect(result.diagnostics).toEqual([]);
    expect(result.model!.params).toHaveLength(8);
  });

  it('reports a name that is no layer with parameters, and an item that is no path', () => {
    const text = withFreeze('[trunk, "dense_2", 3]');
    expect(renderDiagnostics({ path: 'f.nnx', text }, check(text).diagnostics)).toBe(
      [
        'f.nnx:10:125: error: `freeze` lists layer paths, as in `freeze: [trunk_1, dense_1]` [E0105]',
        '   |',
        `10 | ${text.split('\n')[9]}`,
        `   | ${' '.repeat(124)}^`,
        '',
        'f.nnx:10:107: error: F has no layer `trunk` with parameters to freeze; did you mean `trunk_1`? [E0101]',
        '   |',
        `10 | ${text.split('\n')[9]}`,
        `   | ${' '.repeat(106)}^^^^^`,
        '  = note: its layers with parameters are: dense_1, trunk_1, dense_2',
      ].join('\n'),
    );
  });
});
