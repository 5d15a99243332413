import { describe, expect, it } from 'vitest';
import type {
  BinaryExpr,
  CallExpr,
  Expr,
  ModelDef,
  Program,
  SequentialDef,
  Statement,
  TrainDef,
} from '../../src/parser/ast.js';
import { grammarProductions, parse } from '../../src/parser/index.js';
import { renderDiagnostics, type Span } from '../../src/util/diagnostics.js';

const XOR = `# XOR, the classic
sequential Xor(x: [2]) {
  Dense(3, activation: sigmoid)
  Dense(1, activation: sigmoid)
}

train Xor {
  data: xor
  loss: binary_crossentropy
  optimizer: SGD(lr: 0.1)
  metrics: [accuracy]
  batch: 4
  epochs: 2000
}
`;

const SIAMESE = `model Siamese(left: [784], right: [784]) -> (same: [1]) {
  let encoder = Dense(64, activation: relu)   // one instance
  d = encoder(left) - encoder(right)
  h = -d * 2.5 + d / 4
  same = Dense(1, activation: sigmoid)(abs(d))
}
`;

/** Parses text that must be free of errors and returns its AST. */
function parseOk(text: string): Program {
  const { result, diagnostics } = parse(text);
  expect(renderDiagnostics({ path: 'm.nnx', text }, diagnostics)).toBe('');
  expect(result).toBeDefined();
  return result!;
}

/** The diagnostics of `text` as the compiler prints them. */
function rendered(text: string): string {
  return renderDiagnostics({ path: 'm.nnx', text }, parse(text).diagnostics);
}

/** The first layer / statement value / field value of a one-definition program, as an expression. */
function modelValue(body: string): Expr {
  const program = parseOk(`model M(x: [1]) {\n  y = ${body}\n}`);
  const model = program.definitions[0] as ModelDef;
  return valueOf(model.body[0]!);
}

/** The expression a statement computes: an assignment's or let's value, a layer itself. */
function valueOf(s: Statement): Expr {
  if (s.kind === 'assign' || s.kind === 'let') return s.value;
  if (s.kind === 'return') return s.values[0]!;
  if (s.kind === 'repeat') throw new Error('a repeat has no single value');
  return s;
}

/** Renders an expression with explicit parentheses, to check precedence and associativity. */
function show(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return String(e.value);
    case 'string':
      return JSON.stringify(e.value);
    case 'name':
      return e.name;
    case 'list':
      return `[${e.items.map(show).join(', ')}]`;
    case 'negate':
      return `(-${show(e.operand)})`;
    case 'binary':
      return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case 'call':
      return `${show(e.callee)}(${e.args.map((a) => (a.name ? `${a.name.name}: ` : '') + show(a.value)).join(', ')})`;
    case 'record':
      return `{${e.fields.map((f) => `${f.name.name}: ${show(f.value)}`).join(', ')}}`;
  }
}

describe('parse: the example programs', () => {
  it('parses the XOR program: a sequential stack and its train block', () => {
    const text = XOR;
    const at = (span: Span) => text.slice(span.start, span.end);
    const program = parseOk(text);
    expect(program.definitions.map((d) => d.kind)).toEqual(['sequential', 'train']);
    expect(program.span).toEqual({ start: 0, end: text.length });

    const xor = program.definitions[0] as SequentialDef;
    expect(xor.name.name).toBe('Xor');
    expect(at(xor.name.span)).toBe('Xor');
    expect(at(xor.span)).toMatch(/^sequential Xor\(x: \[2\]\) \{[^]*\}$/);
    expect(xor.inputs).toHaveLength(1);
    expect(at(xor.inputs[0]!.span)).toBe('x: [2]');
    expect(at(xor.inputs[0]!.shape.span)).toBe('[2]');
    expect(xor.inputs[0]!.shape.dims).toEqual([{ kind: 'dim-int', value: 2, span: expect.anything() }]);

    expect(xor.layers.map((l) => l.kind)).toEqual(['call', 'call']);
    const dense = xor.layers[0] as CallExpr;
    expect(at(dense.span)).toBe('Dense(3, activation: sigmoid)');
    expect(at(dense.callee.span)).toBe('Dense');
    expect(dense.args.map((a) => a.name?.name)).toEqual([undefined, 'activation']);
    expect(at(dense.args[1]!.span)).toBe('activation: sigmoid');
    expect(at(dense.args[1]!.value.span)).toBe('sigmoid');
    expect(dense.args[0]!.value).toMatchObject({ kind: 'number', value: 3, isInteger: true });

    const train = program.definitions[1] as TrainDef;
    expect(train.model.name).toBe('Xor');
    expect(train.fields.map((f) => f.name.name)).toEqual([
      'data',
      'loss',
      'optimizer',
      'metrics',
      'batch',
      'epochs',
    ]);
    expect(train.fields.map((f) => at(f.value.span))).toEqual([
      'xor',
      'binary_crossentropy',
      'SGD(lr: 0.1)',
      '[accuracy]',
      '4',
      '2000',
    ]);
    expect(train.fields[2]!.value).toMatchObject({
      kind: 'call',
      args: [{ name: { name: 'lr' }, value: { kind: 'number', value: 0.1, isInteger: false } }],
    });
    expect(train.fields[3]!.value).toMatchObject({
      kind: 'list',
      items: [{ kind: 'name', name: 'accuracy' }],
    });
    expect(at(train.fields[5]!.span)).toBe('epochs: 2000');
  });

  it('parses the Siamese model: outputs, let, assignments, arithmetic and calls of calls', () => {
    const text = SIAMESE;
    const at = (span: Span) => text.slice(span.start, span.end);
    const program = parseOk(text);
    const model = program.definitions[0] as ModelDef;
    expect(model.kind).toBe('model');
    expect(model.name.name).toBe('Siamese');
    expect(model.inputs.map((i) => at(i.span))).toEqual(['left: [784]', 'right: [784]']);
    expect(model.outputs.map((o) => at(o.span))).toEqual(['same: [1]']);
    expect(model.body.map((s) => s.kind)).toEqual(['let', 'assign', 'assign', 'assign']);
    expect(
      model.body.map((s) =>
        s.kind === 'let' ? s.target.name : s.kind === 'assign' ? s.targets[0]!.name : '',
      ),
    ).toEqual(['encoder', 'd', 'h', 'same']);
    expect(at(model.body[0]!.span)).toBe('let encoder = Dense(64, activation: relu)');
    expect(model.body.map((s) => show(valueOf(s)))).toEqual([
      'Dense(64, activation: relu)',
      '(encoder(left) - encoder(right))',
      '(((-d) * 2.5) + (d / 4))',
      'Dense(1, activation: sigmoid)(abs(d))',
    ]);

    const d = valueOf(model.body[1]!) as BinaryExpr;
    expect(at(d.span)).toBe('encoder(left) - encoder(right)');
    expect(at(d.opSpan)).toBe('-');

    const same = valueOf(model.body[3]!) as CallExpr;
    expect(at(same.span)).toBe('Dense(1, activation: sigmoid)(abs(d))');
    expect(at(same.callee.span)).toBe('Dense(1, activation: sigmoid)');
    expect(same.args).toHaveLength(1);
    expect(at(same.args[0]!.span)).toBe('abs(d)');
  });
});

describe('parse: expressions', () => {
  it("says to use ':' for a named argument written with '=' as in Keras", () => {
    const text = 'sequential M(x: [4]) {\n  Dense(3, activation=relu)\n}\n';
    const [d] = parse(text).diagnostics;
    expect(d!.message).toBe("named arguments use ':' in nnx, not '=': write 'activation: …'");
    expect(text.slice(d!.span.start, d!.span.end)).toBe('=');
  });

  it('reads a tuple (3, 3) or (3,) as a list, and (3) as a grouped 3', () => {
    expect(modelValue('(3, 3)')).toMatchObject({ kind: 'list', items: [{ value: 3 }, { value: 3 }] });
    expect(modelValue('(3,)')).toMatchObject({ kind: 'list', items: [{ value: 3 }] });
    expect(modelValue('(2, 3,)')).toMatchObject({ kind: 'list', items: [{ value: 2 }, { value: 3 }] });
    expect(modelValue('(3)')).toMatchObject({ kind: 'number', value: 3 });
    expect(parse('model M(x: [1]) {\n  y = (3, , 4)\n}').diagnostics.length).toBeGreaterThan(0);
  });

  it('gives * and / precedence over + and -', () => {
    const e = modelValue('a + b * c') as BinaryExpr;
    expect(show(e)).toBe('(a + (b * c))');
    expect(e.op).toBe('+');
    expect(e.right).toMatchObject({ kind: 'binary', op: '*' });
  });

  it('folds operators of equal precedence to the left, with operator spans', () => {
    const text = 'model M(x: [1]) {\n  y = a - b - c / d / e\n}';
    const e = valueOf((parseOk(text).definitions[0] as ModelDef).body[0]!) as BinaryExpr;
    expect(show(e)).toBe('((a - b) - ((c / d) / e))');
    expect(text.slice(e.opSpan.start, e.opSpan.end)).toBe('-');
    expect(e.opSpan.start).toBe(text.lastIndexOf('-'));
    expect(text.slice(e.span.start, e.span.end)).toBe('a - b - c / d / e');
  });

  it('keeps parentheses in spans without adding nodes', () => {
    const text = 'model M(x: [1]) {\n  y = (a + b) * c\n}';
    const e = valueOf((parseOk(text).definitions[0] as ModelDef).body[0]!) as BinaryExpr;
    expect(show(e)).toBe('((a + b) * c)');
    expect(text.slice(e.span.start, e.span.end)).toBe('(a + b) * c');
    expect(text.slice(e.left.span.start, e.left.span.end)).toBe('a + b');
  });

  it('binds unary minus tighter than binary operators', () => {
    expect(show(modelValue('-a * -b - -c'))).toBe('(((-a) * (-b)) - (-c))');
  });

  it('parses calls of calls, left to right', () => {
    const e = modelValue('Dense(1, activation: sigmoid)(d)') as CallExpr;
    expect(show(e)).toBe('Dense(1, activation: sigmoid)(d)');
    expect(e.args.map((a) => a.name)).toEqual([undefined]);
    expect(e.callee).toMatchObject({ kind: 'call', callee: { kind: 'name', name: 'Dense' } });
    expect(show(modelValue('f()()(x)'))).toBe('f()()(x)');
  });

  it('reads integers, decimals and exponents', () => {
    const numbers = (modelValue('[10, 0.5, 1e-3, 2.5E+4, 7e2]') as Extract<Expr, { kind: 'list' }>).items;
    expect(numbers.map((n) => (n.kind === 'number' ? [n.value, n.isInteger] : n.kind))).toEqual([
      [10, true],
      [0.5, false],
      [0.001, false],
      [25000, false],
      [700, false],
    ]);
  });

  it('reads strings, nested lists and empty lists', () => {
    expect(show(modelValue('f("mnist.bin", [[1, 2], []])'))).toBe('f("mnist.bin", [[1, 2], []])');
  });
});

describe('parse: lexical details', () => {
  it('skips # and // comments, and keeps a lone / as division', () => {
    const text = '# header\nmodel M(x: [1]) { // trailing\n  y = a / b # done\n  // whole line\n}\n';
    const model = parseOk(text).definitions[0] as ModelDef;
    expect(model.body.map((s) => show(valueOf(s)))).toEqual(['(a / b)']);
  });

  it('does not let keywords swallow longer identifiers', () => {
    const text =
      'model modelA(trainer: [T, 16]) -> (returns: [16]) {\n  let letter = sequentially(trainer)\n  returns = letter\n}';
    const model = parseOk(text).definitions[0] as ModelDef;
    expect(model.name.name).toBe('modelA');
    expect(model.inputs[0]!.name.name).toBe('trainer');
    expect(model.inputs[0]!.shape.dims.map((d) => d.kind)).toEqual(['dim-name', 'dim-int']);
    expect(model.body.map((s) => s.kind)).toEqual(['let', 'assign']);
  });

  it('accepts return statements, empty output lists and train separators', () => {
    const program = parseOk(
      'model M(a: [2]) -> () { return a }\ntrain M { data: xor; loss: mse, epochs: 2 metrics: [accuracy, loss] }',
    );
    const [model, train] = program.definitions as [ModelDef, TrainDef];
    expect(model.outputs).toEqual([]);
    expect(model.body[0]!.kind).toBe('return');
    expect(train.fields.map((f) => f.name.name)).toEqual(['data', 'loss', 'epochs', 'metrics']);
  });

  it('parses an empty file to an empty program', () => {
    expect(parseOk('  # nothing\n')).toEqual({
      kind: 'program',
      imports: [],
      definitions: [],
      span: { start: 0, end: 12 },
    });
  });
});

describe('parse: diagnostics', () => {
  it('reports an unexpected character and still builds the AST', () => {
    const text = XOR.replace('sigmoid)\n  Dense(1', 'sigmoid) @\n  Dense(1');
    expect(rendered(text)).toBe(
      [
        "m.nnx:3:33: error: unexpected character '@' [E0001]",
        '  |',
        '3 |   Dense(3, activation: sigmoid) @',
        '  |                                 ^',
      ].join('\n'),
    );
    expect((parse(text).result!.definitions[0] as SequentialDef).layers).toHaveLength(2);
  });

  it('reports a missing ) right after the last good token and keeps both layers', () => {
    const text = XOR.replace('Dense(3, activation: sigmoid)', 'Dense(3, activation: sigmoid');
    expect(rendered(text)).toBe(
      [
        "m.nnx:3:31: error: expected ')' to close the argument list of 'Dense', found 'Dense' [E0002]",
        '  |',
        '3 |   Dense(3, activation: sigmoid',
        '  |                               ^',
      ].join('\n'),
    );
    const program = parse(text).result!;
    expect(program.definitions.map((d) => d.kind)).toEqual(['sequential', 'train']);
    expect((program.definitions[0] as SequentialDef).layers.map(valueOf).map(show)).toEqual([
      'Dense(3, activation: sigmoid)',
      'Dense(1, activation: sigmoid)',
    ]);
  });

  it('points at the token found when the missing ) is on the same line', () => {
    const text = 'sequential X(x: [2]) {\n  Dense(3 { activation: sigmoid)\n}';
    expect(rendered(text)).toBe(
      [
        "m.nnx:2:11: error: expected ')' to close the argument list of 'Dense', found '{' [E0002]",
        '  |',
        '2 |   Dense(3 { activation: sigmoid)',
        '  |           ^',
      ].join('\n'),
    );
  });

  it('reports two syntax errors in one file', () => {
    const text = 'model M(a: [2]) -> (b: [1]) {\n  h = Dense(4, activation: relu(a)\n  b = * h\n}\n';
    expect(rendered(text)).toBe(
      [
        "m.nnx:2:35: error: expected ')' to close the argument list of 'Dense', found 'b' [E0002]",
        '  |',
        '2 |   h = Dense(4, activation: relu(a)',
        '  |                                   ^',
        '',
        "m.nnx:3:7: error: expected an expression, found '*' [E0002]",
        '  |',
        '3 |   b = * h',
        '  |       ^',
      ].join('\n'),
    );
  });

  it('words common mistakes in terms of the grammar', () => {
    const message = (text: string) => parse(text).diagnostics.map((d) => `${d.code} ${d.message}`);
    expect(message('sequential')).toEqual([
      "E0002 expected a name after 'sequential', found the end of the file",
    ]);
    expect(message('model M(a: [2.5]) {}')).toEqual([
      "E0002 expected a dimension (a whole number or a name), found '2.5'",
    ]);
    expect(message('model M(a: [2] -> (b: [1]) { b = a }')).toEqual([
      "E0002 expected ')' to close the input list of 'M', found '->'",
    ]);
    expect(message('sequential X(x: [2]) { Dense(3, ) }')).toEqual(["E0002 expected an argument, found ')'"]);
    expect(message('sequential X(x: [2]) {\n  Dense(3) = 1\n}')).toEqual([
      "E0002 expected a layer or '}' to close the body of 'X', found '='",
    ]);
    expect(message('train X {\n  data xor\n}')).toEqual(["E0002 expected ':' after 'data', found 'xor'"]);
    expect(message('foo\nmodel M(a: [2]) { b = (a + 1 }')).toEqual([
      "E0002 expected a definition ('sequential', 'model', 'block', 'train' or 'import'), found 'foo'",
      "E0002 expected ')' to match the '(', found '}'",
    ]);
    expect(message('train X { data: "xor }')).toEqual([
      "E0001 unterminated string: missing the closing '\"' before the end of the line",
    ]);
    expect(message('x = 1 @@ 2')[0]).toBe("E0001 unexpected characters '@@'");
  });
});

describe('parse: robustness', () => {
  /** mulberry32: a small seeded generator, so a failing mutation can be replayed. */
  function random(seed: number): () => number {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
  }

  const PIECES = [
    '(',
    ')',
    '[',
    ']',
    '{',
    '}',
    ',',
    ':',
    '=',
    '->',
    '-',
    '*',
    '/',
    '+',
    ';',
    '"',
    '@',
    '\n',
    ' ',
    'x',
    '1',
    '2.5',
    '1e-',
    'model',
    'sequential',
    'train',
    'let',
    'return',
    'Dense(',
    '#',
    '//',
    '\u0000',
  ];

  function mutate(text: string, next: () => number): string {
    const pick = (n: number) => Math.floor(next() * n);
    const at = pick(text.length + 1);
    const length = 1 + pick(8);
    switch (pick(4)) {
      case 0:
        return text.slice(0, at) + text.slice(at + length);
      case 1:
        return text.slice(0, at) + PIECES[pick(PIECES.length)] + text.slice(at);
      case 2:
        return text.slice(0, at) + text.slice(at, at + length) + text.slice(at);
      default: {
        const from = pick(text.length);
        return text.slice(0, at) + text.slice(from, from + length) + text.slice(at);
      }
    }
  }

  /** Every span in a (partial) AST must be a real range inside the text. */
  function checkSpans(node: unknown, length: number, path: string): void {
    if (Array.isArray(node)) node.forEach((child, i) => checkSpans(child, length, `${path}[${i}]`));
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'span' || key === 'opSpan') {
        const { start, end } = value as Span;
        if (!(
          Number.isInteger(start) &&
          Number.isInteger(end) &&
          start >= 0 &&
          start <= end &&
          end <= length
        )) {
          throw new Error(`bad ${key} at ${path}: ${JSON.stringify(value)}`);
        }
      } else {
        checkSpans(value, length, `${path}.${key}`);
      }
    }
  }

  it('answers 500 random mutations of the examples with a tree or diagnostics, never an exception', () => {
    const next = random(20240601);
    const sources = [XOR, SIAMESE, XOR + SIAMESE];
    for (let i = 0; i < 500; i++) {
      let text = sources[i % sources.length]!;
      const edits = 1 + Math.floor(next() * 3);
      for (let e = 0; e < edits; e++) text = mutate(text, next);
      const context = `mutation ${i}: ${JSON.stringify(text)}`;
      const { result, diagnostics } = parse(text);
      if (diagnostics.length === 0) expect(result, context).toBeDefined();
      for (const d of diagnostics) {
        expect(['E0001', 'E0002'], context).toContain(d.code);
        expect(d.message, context).not.toMatch(/-->|<--|Expecting/);
      }
      checkSpans(diagnostics, text.length, context);
      checkSpans(result, text.length, context);
      expect(() => renderDiagnostics({ path: 'm.nnx', text }, diagnostics), context).not.toThrow();
    }
  });
});

describe('parse: nesting limits', () => {
  it('refuses brackets nested past the limit with a diagnostic instead of a stack overflow', () => {
    const text = `model M(x: [1]) {\n  y = ${'('.repeat(100)}x${')'.repeat(100)}\n}`;
    const { result, diagnostics } = parse(text);
    expect(result).toBeUndefined();
    expect(diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([
      'E0002 brackets nested more than 64 levels deep',
    ]);
    expect(diagnostics[0]!.span.start).toBe(text.indexOf('(', 17) + 63);
  });

  it('turns a stack overflow from a runaway unary chain into a diagnostic, and parses on afterwards', () => {
    const text = `model M(x: [1]) { y = ${'-'.repeat(20000)}x }`;
    const { result, diagnostics } = parse(text);
    expect(result).toBeUndefined();
    expect(diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([
      'E0002 expression nested too deeply to parse',
    ]);
    expect(diagnostics[0]!.span).toEqual({ start: 22, end: 20022 });
    parseOk(SIAMESE);
  });
});

describe('grammar exports', () => {
  it('serializes the grammar for tools and diagrams', () => {
    const rules = grammarProductions().map((r) => (r as { name?: string }).name);
    expect(rules).toContain('program');
    expect(rules).toContain('callSuffix');
    expect(rules).toContain('blockDef');
  });
});
