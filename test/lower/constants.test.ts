/** Constant expressions wherever a number is required, folded with block parameters in scope. */
import { describe, expect, it } from 'vitest';
import { check } from '../../src/compile.js';
import { printGraph } from '../../src/ir/print.js';
import { renderDiagnostics } from '../../src/util/diagnostics.js';

function errorsOf(text: string): string {
  return renderDiagnostics({ path: 'm.nnx', text }, check(text).diagnostics);
}

function graphOf(text: string, model: string): string {
  const result = check(text);
  expect(result.diagnostics).toEqual([]);
  return printGraph(result.models.get(model)!.graph);
}

describe('constant expressions', () => {
  it('fold in layer arguments, list items and shapes as if written as literals', () => {
    const folded = graphOf(
      'sequential M(x: [28, 28, 1]) {\n  Conv2D(2 * 4, (1 + 2, 6 / 2), strides: (2 - 1, 1))\n  Flatten()\n  Reshape([26 * 26 * 8])\n  Dense(-(-10), activation: relu)\n  Dropout(1 / 4)\n}\n',
      'M',
    );
    const literal = graphOf(
      'sequential M(x: [28, 28, 1]) {\n  Conv2D(8, [3, 3], strides: [1, 1])\n  Flatten()\n  Reshape([5408])\n  Dense(10, activation: relu)\n  Dropout(0.25)\n}\n',
      'M',
    );
    expect(folded).toBe(literal);
  });

  it('fold in a model header: a size written as a product, as in input_shape=(28 * 28,)', () => {
    for (const [product, literal] of [
      ['28 * 28', '784'],
      ['2 * 3 * 4, 5', '24, 5'],
    ]) {
      const model = (shape: string) => `sequential M(x: [${shape}]) {\n  Dense(10)\n}\n`;
      expect(graphOf(model(product!), 'M')).toBe(graphOf(model(literal!), 'M'));
    }
    // A product past the size limit is the size error, at the whole product.
    expect(errorsOf('sequential M(x: [65536 * 65536]) {\n  Dense(1)\n}\n')).toContain('E0201');
  });

  it('fold with block parameters in scope: sizes, repeat counts', () => {
    const text = `block Mlp(units: int, depth: int)(x) {
  repeat depth - 1 { Dense(units * 2, activation: relu) }
  Dense(units / 2)
}
sequential M(x: [4]) {
  Mlp(8, 3)
}
`;
    const result = check(text);
    expect(result.diagnostics).toEqual([]);
    const m = result.models.get('M')!;
    expect(m.params.map((p) => `${p.name} [${p.shape}]`)).toEqual([
      'mlp_1/dense_1/kernel [4,16]',
      'mlp_1/dense_1/bias [16]',
      'mlp_1/dense_2/kernel [16,16]',
      'mlp_1/dense_2/bias [16]',
      'mlp_1/dense_3/kernel [16,4]',
      'mlp_1/dense_3/bias [4]',
    ]);
  });

  it('fold in a repeat count and in train settings', () => {
    const text = `sequential M(x: [2]) {
  repeat (1 + 1) * 2 { Dense(3) }
  Dense(1)
}
train M { data: xor, loss: mse, batch: 2 * 2, epochs: 10 - 9 }
`;
    const result = check(text);
    expect(result.diagnostics).toEqual([]);
    expect(result.models.get('M')!.params.length).toBe(10);
    expect(result.trains[0]!.batch).toBe(4);
    expect(result.trains[0]!.epochs).toBe(1);
  });

  it('a name that is not a constant is named at its span', () => {
    expect(errorsOf('sequential M(x: [2]) {\n  Dense(units * 2)\n}\n'))
      .toBe(`m.nnx:2:9: error: \`units\` is not a constant: argument \`units\` of Dense must be an integer known when compiling [E0105]
  |
2 |   Dense(units * 2)
  |         ^^^^^
  = note: a constant is built from numbers and the \`int\` and \`float\` parameters of the enclosing block, with + - * / and parentheses`);
  });

  it('a list item that is not a constant is named at its span', () => {
    expect(errorsOf('sequential M(x: [16]) {\n  Reshape([4 * n, 4])\n}\n'))
      .toBe(`m.nnx:2:16: error: \`n\` is not a constant: argument \`target_shape\` of Reshape must be a shape of whole numbers known when compiling [E0105]
  |
2 |   Reshape([4 * n, 4])
  |                ^
  = note: a constant is built from numbers and the \`int\` and \`float\` parameters of the enclosing block, with + - * / and parentheses`);
  });

  it('a result that is not whole where an integer is required shows its value', () => {
    expect(errorsOf('sequential M(x: [2]) {\n  Dense(7 / 2)\n}\n'))
      .toBe(`m.nnx:2:9: error: argument \`units\` of Dense must be an integer, but this expression is 3.5 [E0105]
  |
2 |   Dense(7 / 2)
  |         ^^^^^`);
  });

  it('a repeat count that is not a constant, and one that is not whole', () => {
    expect(errorsOf('block B(n: int)(x) {\n  repeat n - k { relu }\n}\nsequential M(x: [2]) {\n  B(2)\n}\n'))
      .toBe(`m.nnx:2:14: error: unknown repeat count \`k\`; did you mean \`n\`? [E0101]
  |
2 |   repeat n - k { relu }
  |              ^
  = note: a repeat count is a whole number or an \`int\` parameter of the block
m.nnx:5:3: note: in this instance of B
  |
5 |   B(2)
  |   ^^^^`);
    expect(errorsOf('sequential M(x: [2]) {\n  repeat 5 / 2 { relu }\n}\n'))
      .toBe(`m.nnx:2:10: error: a repeat count must be a whole number from 0 to 1000, not 2.5 [E0103]
  |
2 |   repeat 5 / 2 { relu }
  |          ^^^^^`);
  });
});
