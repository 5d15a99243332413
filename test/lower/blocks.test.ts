/** Blocks, repeat, models used as layers, several inputs and outputs, concat and symbolic dims. */
import { describe, expect, it } from 'vitest';
import { check } from '../../src/compile.js';
import { printGraph } from '../../src/ir/print.js';
import { renderDiagnostics } from '../../src/util/diagnostics.js';

function lowered(text: string) {
  const checked = check(text, { path: 'm.nnx' });
  expect(renderDiagnostics({ path: 'm.nnx', text }, checked.diagnostics)).toBe('');
  return checked.models;
}

function errorsOf(text: string): string {
  return renderDiagnostics({ path: 'm.nnx', text }, check(text, { path: 'm.nnx' }).diagnostics);
}

function paramsOf(text: string, model: string): string[] {
  return lowered(text)
    .get(model)!
    .params.map((p) => `${p.name} [${p.shape}]`);
}

describe('blocks', () => {
  it('a block with typed parameters is a layer; its parameters carry the instance path', () => {
    const text = `block Residual(c: int, act: enum(relu, tanh) = relu)(x) {
  h = Dense(c, activation: act)(x)
  h = Dense(c)(h)
  return relu(x + h)
}
model M(x: [4]) -> (y: [4]) {
  let res = Residual(4)
  y = Residual(4, act: tanh)(res(x))
}
`;
    expect(paramsOf(text, 'M')).toEqual([
      'res/dense_1/kernel [4,4]',
      'res/dense_1/bias [4]',
      'res/dense_2/kernel [4,4]',
      'res/dense_2/bias [4]',
      'residual_1/dense_1/kernel [4,4]',
      'residual_1/dense_1/bias [4]',
      'residual_1/dense_2/kernel [4,4]',
      'residual_1/dense_2/bias [4]',
    ]);
    const graph = printGraph(lowered(text).get('M')!.graph);
    expect(graph).toContain('tanh');
  });

  it('a block of bare layers is a stack applied to its input; repeat unrolls with fresh layers', () => {
    const text = `block Mlp(units: int, depth: int) {
  repeat depth { Dense(units, activation: relu) }
}
sequential Deep(x: [2]) {
  Mlp(8, 2)
  repeat 2 { Dense(3) }
  Dense(1, activation: sigmoid)
}
`;
    expect(paramsOf(text, 'Deep').filter((p) => p.includes('kernel'))).toEqual([
      'mlp_1/dense_1/kernel [2,8]',
      'mlp_1/dense_2/kernel [8,8]',
      'dense_1/kernel [8,3]',
      'dense_2/kernel [3,3]',
      'dense_3/kernel [3,1]',
    ]);
  });

  it('calling one instance twice shares its weights, to any depth', () => {
    const text = `block Enc(x) {
  let inner = Dense(3)
  return inner(x)
}
sequential Tower(x: [5]) {
  Enc()
  Dense(2)
}
model S(a: [5], b: [5]) -> (d: [2]) {
  let tower = Tower()
  d = tower(a) - tower(b)
}
`;
    expect(paramsOf(text, 'S')).toEqual([
      'tower/enc_1/inner/kernel [5,3]',
      'tower/enc_1/inner/bias [3]',
      'tower/dense_1/kernel [3,2]',
      'tower/dense_1/bias [2]',
    ]);
  });

  it('several inputs and outputs, a multi-output block, concat and a residual', () => {
    const text = `block Split(x) {
  return Dense(2)(x), Dense(3)(x)
}
model Two(a: [4], b: [4]) -> (joined: [5], sum: [4]) {
  p, q = Split()(a)
  joined = concat(p, q, axis: -1)
  sum = a + b
}
`;
    const m = lowered(text).get('Two')!;
    expect(m.inputs.map((i) => i.name)).toEqual(['a', 'b']);
    expect(m.outputs.map((o) => `${o.name} [${o.shape}]`)).toEqual(['joined [B,5]', 'sum [B,4]']);
  });

  it('keeps symbolic dimensions through shape-agnostic layers and checks them at model calls', () => {
    const text = `model Seq(x: [T, 16]) -> (y: [T, 16]) {
  y = relu(x) * 2
}
model Outer(s: [T, 16]) -> (z: [T, 16]) {
  z = Seq()(s) + s
}
`;
    expect(lowered(text).get('Outer')!.outputs[0]!.shape).toEqual(['B', 'T', 16]);
  });
});

describe('block diagnostics', () => {
  it('a wrong parameter type suggests the right one', () => {
    expect(errorsOf('block B(n: integer)(x) {\n  return x\n}\nsequential M(x: [2]) {\n  B(3)\n}\n'))
      .toBe(`m.nnx:1:12: error: unknown parameter type \`integer\`; did you mean \`int\`? [E0101]
  |
1 | block B(n: integer)(x) {
  |            ^^^^^^^
  = note: the types are: int, float, bool, shape, enum(a, b, ...)`);
  });

  it('an error inside a block also points at the instance', () => {
    expect(errorsOf('block B(x) {\n  return x + Dense(3)(x)\n}\nsequential M(x: [2]) {\n  B()\n}\n'))
      .toBe(`m.nnx:2:12: error: cannot apply \`+\` to shapes [2] and [3] (per sample): dimension 0 is 2 in one and 3 in the other [E0201]
  |
2 |   return x + Dense(3)(x)
  |            ^
m.nnx:1:9: note: \`x\` is [2] per sample, from here
  |
1 | block B(x) {
  |         ^
m.nnx:5:3: note: in this instance of B
  |
5 |   B()
  |   ^^^`);
  });

  it('a shared layer called with another shape points at its first call', () => {
    expect(errorsOf('model M(a: [2], b: [3]) {\n  let enc = Dense(4)\n  h = enc(a)\n  return enc(b)\n}\n'))
      .toBe(`m.nnx:4:10: error: matmul inner dimensions differ: [B,3] has 3 columns but [2,4] has 2 rows [E0201]
  |
4 |   return enc(b)
  |          ^^^^^^
m.nnx:3:7: note: \`enc\` is shared: its first call, here, took [2] per sample
  |
3 |   h = enc(a)
  |       ^^^^^^`);
  });

  it('a model called with the wrong input shape names the disagreeing dimension', () => {
    expect(
      errorsOf('model Enc(x: [8]) -> (y: [2]) {\n  y = Dense(2)(x)\n}\nsequential M(x: [4]) {\n  Enc()\n}\n'),
    )
      .toBe(`m.nnx:5:3: error: Enc expects input \`x\` of shape [8] per sample, got [4]: dimension 0 is 4, not 8 [E0201]
  |
5 |   Enc()
  |   ^^^^^
m.nnx:1:14: note: declared here
  |
1 | model Enc(x: [8]) -> (y: [2]) {
  |              ^^^`);
  });

  it('a block that uses itself is an error, not a hang', () => {
    expect(errorsOf('block B(x) {\n  return B()(x)\n}\nsequential M(x: [2]) {\n  B()\n}\n')).toContain(
      'error: B uses itself, so it would never end [E0106]',
    );
  });

  it('unused instances and inputs are warnings', () => {
    expect(errorsOf('model M(a: [2], b: [2]) {\n  let enc = Dense(4)\n  return a\n}\n'))
      .toBe(`m.nnx:1:17: warning: input \`b\` is never used [W0102]
  |
1 | model M(a: [2], b: [2]) {
  |                 ^

m.nnx:2:7: warning: layer instance \`enc\` is never called, so it has no weights [W0101]
  |
2 |   let enc = Dense(4)
  |       ^^^`);
  });

  it('a destructuring assignment with the wrong count', () => {
    expect(errorsOf('model M(a: [2]) {\n  p, q = relu(a)\n  return p\n}\n'))
      .toBe(`m.nnx:2:3: error: 2 names are assigned, but the right-hand side gives 1 tensor [E0107]
  |
2 |   p, q = relu(a)
  |   ^^^^^^^^^^^^^^`);
  });

  it('concat of tensors whose other dimensions differ', () => {
    expect(errorsOf('model M(a: [2, 3], b: [4, 5]) {\n  return concat(a, b, axis: 0)\n}\n'))
      .toBe(`m.nnx:2:10: error: concat along axis 0 needs the other dimensions equal, but [2,3] and [4,5] differ in dimension 1 (3 vs 5) [E0201]
  |
2 |   return concat(a, b, axis: 0)
  |          ^^^^^^^^^^^^^^^^^^^^^
m.nnx:1:9: note: \`a\` is [2,3] per sample, from here
  |
1 | model M(a: [2, 3], b: [4, 5]) {
  |         ^^^^^^^^^
m.nnx:1:20: note: \`b\` is [4,5] per sample, from here
  |
1 | model M(a: [2, 3], b: [4, 5]) {
  |                    ^^^^^^^^^`);
  });
});
