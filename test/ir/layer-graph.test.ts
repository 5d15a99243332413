/**
 * The layer graph recovered from the IR: one node per layer call, shared instances as separate
 * calls that know each other, parameters counted once, bare ops placed in their block instance.
 */
import { describe, expect, it } from 'vitest';
import { check } from '../../src/compile.js';
import { describeOps, layerGraph } from '../../src/ir/layer-graph.js';

function graphOf(source: string, name: string) {
  const checked = check(source, { path: 'g.nnx', readFile: () => '' });
  expect(checked.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return layerGraph(checked.models.get(name)!);
}

const SIAMESE = `
block Encoder(width: int)(x) {
  h = Dense(width, activation: relu)(x)
  return Dense(width, activation: tanh)(h)
}
model Siamese(left: [8], right: [8]) -> (same: [1]) {
  let encoder = Encoder(16)
  d = abs(encoder(left) - encoder(right))
  same = Dense(1, activation: sigmoid)(d)
}
`;

describe('layerGraph', () => {
  it('keeps the two calls of a shared encoder apart, linked, with the parameters counted once', () => {
    const g = graphOf(SIAMESE, 'Siamese');
    const names = g.calls.map((c) => `${c.kind}:${c.name}`);
    expect(names).toEqual([
      'input:left',
      'input:right',
      'layer:encoder/dense_1',
      'layer:encoder/dense_2',
      'layer:encoder/dense_1',
      'layer:encoder/dense_2',
      'op:sub',
      'op:abs',
      'layer:dense_1',
      'output:same',
    ]);
    expect(g.calls[2]!.sharedWith).toEqual([4]);
    expect(g.calls[4]!.sharedWith).toEqual([2]);
    expect(g.calls.map((c) => c.params)).toEqual([0, 0, 8 * 16 + 16, 16 * 16 + 16, 0, 0, 0, 0, 17, 0]);
    expect(g.totalParams).toBe(144 + 272 + 17);
    expect(g.calls[2]!.ops).toEqual(['matmul', 'add', 'relu']);
    expect(g.calls[2]!.scope).toBe('encoder');
    expect(g.calls[6]!.scope).toBe(''); // `-` is written in the model, not in the block
    const edges = g.edges.map((e) => `${e.from}>${e.to}`);
    expect(edges).toEqual(expect.arrayContaining(['0>2', '1>4', '3>6', '5>6', '6>7', '7>8', '8>9']));
  });

  it('places the ops of a residual block in its instance', () => {
    const g = graphOf(
      `block Residual(width: int)(x) {
  h = Dense(width)(x)
  return relu(x + h)
}
sequential R(x: [4]) {
  Residual(4)
  Residual(4)
}`,
      'R',
    );
    const adds = g.calls.filter((c) => c.kind === 'op' && c.ops[0] === 'add');
    expect(adds.map((c) => c.scope)).toEqual(['residual_1', 'residual_2']);
  });

  it('names softmax and hides layout ops', () => {
    expect(
      describeOps(['matmul', 'add', 'reduce_max', 'broadcast', 'sub', 'exp', 'sum', 'broadcast', 'div']),
    ).toEqual(['matmul', 'add', 'softmax']);
  });
});
