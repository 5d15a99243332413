/** `nnxc fmt`'s formatter and its Prettier plugin: canonical, idempotent, comments kept. */
import { readdirSync, readFileSync } from 'node:fs';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import { commentsOf, formatNnx } from '../../src/format/index.js';
import * as plugin from '../../src/format/plugin.js';
import { parse } from '../../src/parser/index.js';

function formatted(text: string): string {
  const result = formatNnx(text);
  if (!('text' in result)) throw new Error(`did not format: ${JSON.stringify(result.diagnostics)}`);
  return result.text;
}

/** The AST without spans: what formatting must not change. */
function shapeOf(text: string): string {
  return JSON.stringify(parse(text).result, (k, v) => (k === 'span' || k === 'opSpan' ? undefined : v));
}

const MESSY = `# a residual stack
import   "lib.nnx"
block Residual( c:int,act:enum( relu,tanh )=relu )( x ){
  h=Dense(c,activation:act)( x )   # first
  // second layer
  h = Dense(c)(h)


  return relu((x+h))
}
sequential   Deep(x:[T,2]){ repeat 2 {
Residual(4)} Dense(1,activation:sigmoid)}
block Two(x) { repeat 2 {  h = relu(x)  # kept
  x = h } return x }
model M(a:[2],b:[2])->(y:[1]){let e=Dense(1)
  y=e(a)-(e(b)-a*-1e-3)}
train Deep{data:xor;loss:{output:mse},optimizer:SGD(lr:0.10),dims:{T:4}}
# the end
`;

const CANONICAL = `# a residual stack
import "lib.nnx"

block Residual(c: int, act: enum(relu, tanh) = relu)(x) {
  h = Dense(c, activation: act)(x) # first
  // second layer
  h = Dense(c)(h)

  return relu(x + h)
}

sequential Deep(x: [T, 2]) {
  repeat 2 { Residual(4) }
  Dense(1, activation: sigmoid)
}

block Two(x) {
  repeat 2 {
    h = relu(x) # kept
    x = h
  }
  return x
}

model M(a: [2], b: [2]) -> (y: [1]) {
  let e = Dense(1)
  y = e(a) - (e(b) - a * -1e-3)
}

train Deep {
  data: xor
  loss: { output: mse }
  optimizer: SGD(lr: 0.10)
  dims: { T: 4 }
}
# the end
`;

const SOURCES = [
  MESSY,
  ...readdirSync(new URL('../../examples', import.meta.url))
    .filter((f) => f.endsWith('.nnx'))
    .map((f) => readFileSync(new URL(`../../examples/${f}`, import.meta.url), 'utf8')),
];

describe('formatting', () => {
  it('lays a file out canonically and keeps its comments', () => {
    expect(formatted(MESSY)).toBe(CANONICAL);
  });

  it('prints a tuple in the one canonical form, a list', () => {
    const text = 'sequential C(x: [8, 8, 1]) {\n  Conv2D(4, (3, 3), strides: (1,))\n  Flatten()\n}\n';
    expect(formatted(text)).toBe(
      'sequential C(x: [8, 8, 1]) {\n  Conv2D(4, [3, 3], strides: [1])\n  Flatten()\n}\n',
    );
  });

  it('prints a constant expression where a number goes as written, parentheses where needed', () => {
    const text = 'block B(n: int)(x) {\n  repeat (n - 1) * 2 { Dense(4*4 * 50) }\n  Reshape([ 4*4*50 ])\n}\n';
    expect(formatted(text)).toBe(
      'block B(n: int)(x) {\n  repeat (n - 1) * 2 { Dense(4 * 4 * 50) }\n  Reshape([4 * 4 * 50])\n}\n',
    );
  });

  it('keeps a header size written as a product', () => {
    expect(formatted('sequential M(x: [28*28]) {\n  Dense(10)\n}\n')).toBe(
      'sequential M(x: [28 * 28]) {\n  Dense(10)\n}\n',
    );
  });

  it('is idempotent, keeps the meaning and every comment, for every example', () => {
    for (const text of SOURCES) {
      const once = formatted(text);
      expect(formatted(once)).toBe(once);
      expect(shapeOf(once)).toBe(shapeOf(text));
      expect(commentsOf(once).map((c) => c.text)).toEqual(commentsOf(text).map((c) => c.text));
    }
  });

  it('finds every example already in canonical form', () => {
    const examples = readdirSync(new URL('../../examples', import.meta.url)).filter((f) =>
      f.endsWith('.nnx'),
    );
    const unformatted = examples.filter((f) => {
      const text = readFileSync(new URL(`../../examples/${f}`, import.meta.url), 'utf8');
      return formatted(text) !== text;
    });
    expect(unformatted).toEqual([]);
  });

  it('refuses a file with syntax errors, returning its diagnostics', () => {
    const result = formatNnx('sequential M(x: [2]) {\n  Dense(3,\n}\n');
    expect('diagnostics' in result && result.diagnostics[0]!.code).toBe('E0002');
  });

  it('formats through Prettier with the plugin, exactly as nnxc fmt does', async () => {
    const out = await prettier.format(MESSY, { parser: 'nnx', plugins: [plugin] });
    expect(out).toBe(CANONICAL);
    await expect(prettier.format('model (', { parser: 'nnx', plugins: [plugin] })).rejects.toThrow(/E0002/);
  });

  it('reports a syntax error to Prettier as file:line:col with its location, not a stack', async () => {
    const error = await prettier
      .format('sequential M(x: [2]) {\n  Dense(3,\n}\n', {
        parser: 'nnx',
        plugins: [plugin],
        filepath: 'm.nnx',
      })
      .then(
        () => undefined,
        (e: Error & { loc?: unknown }) => e,
      );
    expect(error?.message).toMatch(/^m\.nnx:2:11: expected an argument, found '\}' \[E0002\]/);
    expect(error?.loc).toEqual({ start: { line: 2, column: 11 } });
  });

  it('breaks a line longer than printWidth one argument a line, indented by tabWidth', async () => {
    const source = `sequential M(x: [2]) {
  Dense(1, activation: sigmoid, kernel_initializer: glorot_uniform, bias_initializer: zeros)
}

train M {
  data: xor
  loss: { output: binary_crossentropy }
  metrics: [accuracy, mse]
}
`;
    // At 110 columns everything fits as it is; at 60 the Dense call and the record break.
    expect(await prettier.format(source, { parser: 'nnx', plugins: [plugin], printWidth: 110 })).toBe(source);
    const narrow = await prettier.format(source, {
      parser: 'nnx',
      plugins: [plugin],
      printWidth: 40,
      tabWidth: 4,
    });
    expect(narrow).toBe(`sequential M(x: [2]) {
    Dense(
        1,
        activation: sigmoid,
        kernel_initializer: glorot_uniform,
        bias_initializer: zeros
    )
}

train M {
    data: xor
    loss: {
        output: binary_crossentropy
    }
    metrics: [accuracy, mse]
}
`);
    expect(shapeOf(narrow)).toBe(shapeOf(source));
    expect(formatted(narrow)).toBe(formatted(source));
    const applied =
      'model M(x: [2]) -> (y: [1]) {\n  y = Dense(1, activation: sigmoid, use_bias: false)(x)\n}\n';
    expect(await prettier.format(applied, { parser: 'nnx', plugins: [plugin], printWidth: 40 })).toBe(
      'model M(x: [2]) -> (y: [1]) {\n  y = Dense(\n    1,\n    activation: sigmoid,\n    use_bias: false\n  )(x)\n}\n',
    );
  });

  it('keeps a comment after { on its line', () => {
    const text =
      'model M(x: [2]) -> (y: [1]) { # one head\n  y = Dense(1)(x)\n}\n\ntrain M { // fields\n  data: xor\n}\n';
    expect(formatted(text)).toBe(text);
    expect(formatted('sequential S(x: [2]) { # nothing yet\n}\n')).toBe(
      'sequential S(x: [2]) { # nothing yet\n}\n',
    );
  });
});
