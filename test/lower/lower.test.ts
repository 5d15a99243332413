/** Lowering .nnx models to IR: shapes, parameter names, and every user error rendered exactly. */
import { describe, expect, it } from 'vitest';
import { check } from '../../src/compile.js';
import { printGraph } from '../../src/ir/print.js';
import { renderDiagnostics } from '../../src/util/diagnostics.js';

function errorsOf(text: string): string {
  return renderDiagnostics({ path: 'm.nnx', text }, check(text).diagnostics);
}

describe('lowering', () => {
  it('takes tuples where lists are accepted: kernel sizes, strides, pool sizes', () => {
    const tuples = check(
      'sequential C(x: [8, 8, 1]) {\n  Conv2D(4, (3, 3), strides: (1, 1))\n  MaxPool2D((2, 2))\n  Flatten()\n  Dense(2)\n}\n',
    );
    const lists = check(
      'sequential C(x: [8, 8, 1]) {\n  Conv2D(4, [3, 3], strides: [1, 1])\n  MaxPool2D([2, 2])\n  Flatten()\n  Dense(2)\n}\n',
    );
    expect(tuples.diagnostics).toEqual([]);
    expect(printGraph(tuples.models.get('C')!.graph)).toBe(printGraph(lists.models.get('C')!.graph));
  });

  it('gives a sequential model a symbolic batch and named parameters', () => {
    const { models, diagnostics } = check(
      'sequential M(x: [4]) {\n  Dense(5, activation: relu)\n  Dense(2)\n}\n',
    );
    expect(diagnostics).toEqual([]);
    const m = models.get('M')!;
    expect(m.params.map((p) => `${p.name} [${p.shape}]`)).toEqual([
      'dense_1/kernel [4,5]',
      'dense_1/bias [5]',
      'dense_2/kernel [5,2]',
      'dense_2/bias [2]',
    ]);
    expect(m.outputs[0]!.shape).toEqual(['B', 2]);
  });

  it('lowers a functional model with a shared layer to one parameter set', () => {
    const text = `model S(a: [3], b: [3]) -> (d: [4]) {
  let enc = Dense(4, use_bias: false)
  d = abs(enc(a) - enc(b)) * 0.5
}
`;
    const { models, diagnostics } = check(text);
    expect(diagnostics).toEqual([]);
    const m = models.get('S')!;
    expect(m.params.map((p) => p.name)).toEqual(['enc/kernel']);
    expect(printGraph(m.graph)).toBe(`%0 = input a (data) : [B,3]
%1 = input b (data) : [B,3]
%2 = input enc/kernel (param, glorot_uniform) : [3,4]
%3 = matmul %0, %2 : [B,4]
%4 = matmul %1, %2 : [B,4]
%5 = sub %3, %4 : [B,4]
%6 = abs %5 : [B,4]
%7 = const 0.5 : []
%8 = mul %6, %7 : [B,4]
prediction d = %8
`);
  });
});

describe('lowering diagnostics', () => {
  it('an unknown layer suggests the nearest one', () => {
    expect(errorsOf('sequential M(x: [2]) {\n  Dens(3)\n}\n'))
      .toBe(`m.nnx:2:3: error: unknown layer \`Dens\`; did you mean \`Dense\`? [E0101]
  |
2 |   Dens(3)
  |   ^^^^`);
  });

  it('a bad argument value names the argument and the choices', () => {
    expect(errorsOf('sequential M(x: [2]) {\n  Dense(3, activation: sigmoidd)\n}\n'))
      .toBe(`m.nnx:2:24: error: unknown activation \`sigmoidd\` for Dense; did you mean \`sigmoid\`? [E0103]
  |
2 |   Dense(3, activation: sigmoidd)
  |                        ^^^^^^^^
  = note: expected one of: linear, relu, sigmoid, tanh, softplus, softmax, leaky_relu, elu, log_softmax, gelu, swish, silu`);
  });

  it('an activation used by name, not as an argument, takes its default arguments', () => {
    // leaky_relu as a bare item and as a function had no alpha: a constant `undefined` reached WGSL.
    const bare = check('sequential M(x: [2]) {\n  Dense(3)\n  leaky_relu\n}\n');
    const called = check('model M(x: [2]) {\n  y = leaky_relu(Dense(3)(x))\n  return y\n}\n');
    const explicit = check('sequential M(x: [2]) {\n  Dense(3, activation: leaky_relu)\n}\n');
    for (const r of [bare, called, explicit]) expect(r.diagnostics).toEqual([]);
    const text = (r: typeof bare) => printGraph(r.models.get('M')!.graph);
    expect(text(bare)).toMatch(/const 0\.2 : \[\]/);
    expect(text(called)).toMatch(/const 0\.2 : \[\]/);
    expect(text(explicit)).toMatch(/const 0\.2 : \[\]/);
  });

  it('an argument of the wrong type', () => {
    expect(errorsOf('sequential M(x: [2]) {\n  Dense(2.5)\n}\n'))
      .toBe(`m.nnx:2:9: error: argument \`units\` of Dense must be an integer, not the number 2.5 [E0105]
  |
2 |   Dense(2.5)
  |         ^^^`);
  });

  it('an unknown argument name and a missing argument, both reported', () => {
    expect(errorsOf('sequential M(x: [2]) {\n  Dense(unit: 3)\n}\n'))
      .toBe(`m.nnx:2:9: error: Dense has no argument \`unit\`; did you mean \`units\`? [E0103]
  |
2 |   Dense(unit: 3)
  |         ^^^^
  = note: its arguments are: units, activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer

m.nnx:2:3: error: Dense needs the argument \`units\` [E0104]
  |
2 |   Dense(unit: 3)
  |   ^^^^^^^^^^^^^^`);
  });

  it('a shape mismatch names both shapes at the operator', () => {
    const text = 'model M(a: [3], b: [4]) -> (c: [3]) {\n  c = a + b\n}\n';
    expect(errorsOf(text))
      .toBe(`m.nnx:2:9: error: cannot apply \`+\` to shapes [3] and [4] (per sample): dimension 0 is 3 in one and 4 in the other [E0201]
  |
2 |   c = a + b
  |         ^
m.nnx:1:9: note: \`a\` is [3] per sample, from here
  |
1 | model M(a: [3], b: [4]) -> (c: [3]) {
  |         ^^^^^^
m.nnx:1:17: note: \`b\` is [4] per sample, from here
  |
1 | model M(a: [3], b: [4]) -> (c: [3]) {
  |                 ^^^^^^`);
  });

  it('an output whose shape differs from its declaration points at both', () => {
    const text = 'model M(a: [3]) -> (c: [2]) {\n  c = Dense(4)(a)\n}\n';
    expect(errorsOf(text))
      .toBe(`m.nnx:2:3: error: output \`c\` has shape [4] per sample, but it is declared as [2]: dimension 0 is 4, not 2 [E0201]
  |
2 |   c = Dense(4)(a)
  |   ^^^^^^^^^^^^^^^
m.nnx:1:24: note: declared here
  |
1 | model M(a: [3]) -> (c: [2]) {
  |                        ^^^`);
  });

  it('a Dense on an input without a fixed feature axis says so', () => {
    expect(
      errorsOf(
        'sequential M(x: [4, T]) {\n  Dense(3)\n}\ntrain M { data: xor, loss: mse, dims: { T: 2 } }\n',
      ),
    ).toBe(`m.nnx:2:3: error: Dense needs a fixed last (feature) axis, got [4, T] per sample [E0201]
  |
2 |   Dense(3)
  |   ^^^^^^^^`);
  });

  it('an unknown name in a model suggests a tensor in scope', () => {
    expect(errorsOf('model M(input: [3]) {\n  return relu(inptu)\n}\n'))
      .toBe(`m.nnx:2:15: error: unknown name \`inptu\`; did you mean \`input\`? [E0101]
  |
2 |   return relu(inptu)
  |               ^^^^^`);
  });

  it('a train block for a model that does not exist', () => {
    expect(errorsOf('sequential Xor(x: [2]) {\n  Dense(1)\n}\ntrain Xr { data: xor, loss: mse }\n'))
      .toBe(`m.nnx:4:7: error: no model named \`Xr\` to train; did you mean \`Xor\`? [E0101]
  |
4 | train Xr { data: xor, loss: mse }
  |       ^^`);
  });

  it('reports a syntax error in one definition and a shape error in another, in one run', () => {
    const text =
      'model A(a: [2]) {\n  return Dense(3,)(a)\n}\nmodel B(x: [2], y: [3]) {\n  return x + y\n}\n';
    const rendered = errorsOf(text);
    expect(rendered).toContain("m.nnx:2:18: error: expected an argument, found ')' [E0002]");
    expect(rendered).toContain('m.nnx:5:12: error: cannot apply `+` to shapes [2] and [3]');
  });
});
