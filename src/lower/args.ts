/**
 * Binds the arguments of a call (`Dense(10, activation: relu)`) to a schema: positional then
 * named, each checked for its type. Errors are diagnostics at the argument's span.
 */
import { ownEntry } from '../util/own.js';
import type { Argument, Expr } from '../parser/ast.js';
import { type Diagnostic, type Span, error } from '../util/diagnostics.js';
import { closest, didYouMean } from '../util/suggest.js';
import { foldConstant, isArithmetic } from './constants.js';
import { foldSpelling, resolveSpelling } from './spellings.js';

export type ArgType =
  | 'int'
  | 'float'
  | 'bool'
  | 'string'
  | 'name'
  | 'call-or-name'
  /** A name or a call from `choices`, its arguments bound by `calls[name]`: `l2(0.01)`, `he_normal`. */
  | 'choice'
  | 'name-list'
  /** A per-sample shape written as a list of whole numbers: `[28, 28]`. */
  | 'shape'
  /** A size for both spatial axes, `3`, or one per axis, `[3, 5]`: always a pair of integers ≥ `min`. */
  | 'int-pair';

export interface ArgSchema {
  readonly name: string;
  readonly type: ArgType;
  /** Absent means required. */
  readonly default?: ArgValue;
  /** For `name` arguments: the allowed names. */
  readonly choices?: readonly string[];
  /** Accepted spellings besides `name` (`init` for `kernel_initializer`). */
  readonly aliases?: readonly string[];
  /** For `choice` arguments: the schema of each allowed call's own arguments. */
  readonly calls?: Readonly<Record<string, readonly ArgSchema[]>>;
  /** Lower bound for numbers (inclusive), e.g. 1 for `units`. */
  readonly min?: number;
  /** Upper bound for floats (inclusive), e.g. 1 for `validation_split`. */
  readonly max?: number;
}

/** A call written as a value, such as `SGD(lr: 0.1)`; its args are bound later by its own schema. */
export interface CallValue {
  readonly callee: string;
  readonly args: readonly Argument[];
  readonly span: Span;
  /** Written as a string (`'adam'`): `callee` is a spelling to resolve with `resolveSpelling`. */
  readonly spelled?: boolean;
}

/** A `choice` argument: the name chosen and its own bound arguments (defaults filled in). */
export interface BoundChoice {
  readonly choice: string;
  readonly values: ReadonlyMap<string, ArgValue>;
  readonly span: Span;
}

export type ArgValue =
  number | boolean | string | readonly string[] | readonly number[] | CallValue | BoundChoice;

export interface BoundArgs {
  readonly values: ReadonlyMap<string, ArgValue>;
  readonly spans: ReadonlyMap<string, Span>;
}

function describe(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return `the number ${e.value}`;
    case 'string':
      return `the string "${e.value}"`;
    case 'name':
      return `\`${e.name}\``;
    case 'list':
      return 'a list';
    case 'call':
      return 'a call';
    default: {
      const folded = foldConstant(e);
      return folded.ok ? `the number ${folded.value}` : 'an expression';
    }
  }
}

/** Converts one argument expression to the value its schema asks for; a diagnostic when it cannot. */
export function convertArg(callee: string, s: ArgSchema, e: Expr, diags: Diagnostic[]): ArgValue | undefined {
  return convert(callee, s, e, diags);
}

function convert(callee: string, s: ArgSchema, e: Expr, diags: Diagnostic[]): ArgValue | undefined {
  const bad = (want: string) => {
    diags.push(
      error('E0105', e.span, `argument \`${s.name}\` of ${callee} must be ${want}, not ${describe(e)}`),
    );
    return undefined;
  };
  switch (s.type) {
    case 'int': {
      const n = constantArg(callee, s, e, 'an integer', diags);
      if (n === undefined) return undefined;
      if (!n.isInteger) return notWhole(callee, s, e, n.value, diags);
      if (s.min !== undefined && n.value < s.min) return bad(`an integer ≥ ${s.min}`);
      return n.value;
    }
    case 'float': {
      const n = constantArg(callee, s, e, 'a number', diags);
      if (n === undefined) return undefined;
      if (!Number.isFinite(n.value)) return bad('a finite number');
      if (s.min !== undefined && n.value < s.min) return bad(`a number ≥ ${s.min}`);
      if (s.max !== undefined && n.value > s.max) return bad(`a number ≤ ${s.max}`);
      return n.value;
    }
    case 'string':
      if (e.kind !== 'string') return bad('a string such as "flowers.csv"');
      return e.value;
    case 'bool':
      if (e.kind !== 'name' || (e.name !== 'true' && e.name !== 'false')) return bad('`true` or `false`');
      return e.name === 'true';
    case 'name':
      if (e.kind === 'string') return spelledName(callee, s, e, s.choices, diags);
      if (e.kind !== 'name') return bad(`one of ${s.choices?.map((c) => `\`${c}\``).join(', ') ?? 'a name'}`);
      if (s.choices && !s.choices.includes(e.name)) {
        diags.push(
          error(
            'E0103',
            e.span,
            `unknown ${s.name} \`${e.name}\` for ${callee}${didYouMean(e.name, s.choices)}`,
            [{ message: `expected one of: ${s.choices.join(', ')}` }],
          ),
        );
        return undefined;
      }
      return e.name;
    case 'call-or-name':
      if (e.kind === 'name') return { callee: e.name, args: [], span: e.span };
      // Resolved by whoever knows the names (`bindOptimizer`, `bindDataset`).
      if (e.kind === 'string') return { callee: e.value, args: [], span: e.span, spelled: true };
      if (e.kind === 'call' && e.callee.kind === 'name')
        return { callee: e.callee.name, args: e.args, span: e.span };
      return bad('a name or a call such as `SGD(lr: 0.1)`');
    case 'choice': {
      const calls = s.calls ?? {};
      if (e.kind === 'string') {
        const name = spelledName(callee, s, e, Object.keys(calls), diags);
        return name === undefined
          ? undefined
          : convert(callee, s, { kind: 'name', name, span: e.span }, diags);
      }
      const head =
        e.kind === 'name' ? e : e.kind === 'call' && e.callee.kind === 'name' ? e.callee : undefined;
      if (!head) return bad(`a name or a call such as \`${Object.keys(calls)[0]}\``);
      const schema = ownEntry(calls, head.name);
      if (!schema) {
        const known = Object.keys(calls);
        diags.push(
          error(
            'E0103',
            head.span,
            `unknown ${s.name} \`${head.name}\` for ${callee}${didYouMean(head.name, known)}`,
            [{ message: `expected one of: ${known.join(', ')}` }],
          ),
        );
        return undefined;
      }
      const bound = bindArgs(head.name, e.kind === 'call' ? e.args : [], schema, e.span, diags);
      return bound ? { choice: head.name, values: bound.values, span: e.span } : undefined;
    }
    case 'int-pair': {
      const lo = s.min ?? 1;
      const items = e.kind === 'list' ? e.items : [e, e];
      const want = `an integer ≥ ${lo} or a pair of them, such as \`3\` or \`[3, 5]\``;
      if (items.length !== 2) return bad(want);
      const pair = wholeItems(callee, s, items, want, diags, 'whole numbers');
      if (pair === undefined) return undefined;
      if (!pair.every((v) => v >= lo)) return bad(want);
      return pair;
    }
    case 'shape': {
      const want = 'a shape of whole numbers, such as `[28, 28]`';
      if (e.kind !== 'list') return bad(want);
      const dims = wholeItems(callee, s, e.items, want, diags, 'a shape of whole numbers');
      if (dims === undefined) return undefined;
      if (!dims.every((v) => v >= 1)) return bad(want);
      return dims;
    }
    case 'name-list': {
      const items = e.kind === 'list' ? e.items : [e];
      const names: string[] = [];
      for (const item of items) {
        const v = convert(callee, { ...s, type: 'name' }, item, diags);
        if (typeof v === 'string') names.push(v);
      }
      return names;
    }
  }
}

/**
 * The value of a number argument: a literal, or a constant expression folded (`4 * 4 * 50`,
 * `units * 2` once a block's `units` is substituted). A part that is not a constant is named.
 */
function constantArg(
  callee: string,
  s: ArgSchema,
  e: Expr,
  want: string,
  diags: Diagnostic[],
): { value: number; isInteger: boolean } | undefined {
  if (!isArithmetic(e) && e.kind !== 'number') {
    diags.push(
      error('E0105', e.span, `argument \`${s.name}\` of ${callee} must be ${want}, not ${describe(e)}`),
    );
    return undefined;
  }
  const folded = foldConstant(e);
  if (folded.ok) return folded;
  const part = folded.culprit;
  const what = part.kind === 'name' ? `\`${part.name}\`` : describe(part);
  diags.push(
    error(
      'E0105',
      part.span,
      `${what} is not a constant: argument \`${s.name}\` of ${callee} must be ${want} known when compiling`,
      [{ message: CONSTANT_NOTE }],
    ),
  );
  return undefined;
}

/**
 * The name a string spells where a name is expected (`'relu'`, `'SAME'`, `'HeNormal'`); a
 * diagnostic listing the names when it spells none of them.
 */
function spelledName(
  callee: string,
  s: ArgSchema,
  e: Extract<Expr, { kind: 'string' }>,
  names: readonly string[] | undefined,
  diags: Diagnostic[],
): string | undefined {
  if (names === undefined) return /^[A-Za-z_][A-Za-z0-9_]*$/.test(e.value) ? e.value : undefined;
  const name = resolveSpelling(e.value, names);
  if (name !== undefined) return name;
  diags.push(unknownSpelling(s.name, e.value, callee, names, e.span));
  return undefined;
}

/** An unknown string where a name is expected: the nearest names, and all of them. */
export function unknownSpelling(
  what: string,
  text: string,
  callee: string,
  names: readonly string[],
  span: Span,
): Diagnostic {
  const near = nearestSpelling(text, names);
  return error('E0103', span, `unknown ${what} "${text}" for ${callee}${near}`, [
    { message: `expected one of: ${names.join(', ')}` },
  ]);
}

/** `; did you mean \`x\`?` for a string, comparing spellings with case and `_` ignored. */
function nearestSpelling(text: string, names: readonly string[]): string {
  const folded = names.map(foldSpelling);
  const near = closest(foldSpelling(text), folded);
  return near === undefined ? '' : `; did you mean \`${names[folded.indexOf(near)]}\`?`;
}

/** What a constant expression may hold, for the note of a diagnostic about one. */
export const CONSTANT_NOTE =
  'a constant is built from numbers and the `int` and `float` parameters of the enclosing block, with + - * / and parentheses';

/** A folded value that should have been whole: `7 / 2` where an integer is required. */
function notWhole(callee: string, s: ArgSchema, e: Expr, value: number, diags: Diagnostic[]): undefined {
  const message =
    e.kind === 'number'
      ? `argument \`${s.name}\` of ${callee} must be an integer, not ${describe(e)}`
      : `argument \`${s.name}\` of ${callee} must be an integer, but this expression is ${value}`;
  diags.push(error('E0105', e.span, message));
  return undefined;
}

/** The items of a list argument, each a whole-number constant; undefined after a diagnostic. */
function wholeItems(
  callee: string,
  s: ArgSchema,
  items: readonly Expr[],
  want: string,
  diags: Diagnostic[],
  whole = want,
): number[] | undefined {
  const values: number[] = [];
  for (const item of items) {
    if (!isArithmetic(item) && item.kind !== 'number') {
      diags.push(
        error(
          'E0105',
          item.span,
          `argument \`${s.name}\` of ${callee} must be ${want}, not ${describe(item)}`,
        ),
      );
      return undefined;
    }
    const n = constantArg(callee, s, item, whole, diags);
    if (n === undefined) return undefined;
    if (!n.isInteger) return notWhole(callee, s, item, n.value, diags);
    values.push(n.value);
  }
  return values;
}

/**
 * Binds `args` to `schema`. Returns undefined (with diagnostics) when an argument is unknown,
 * duplicated, missing or of the wrong type.
 */
export function bindArgs(
  callee: string,
  args: readonly Argument[],
  schema: readonly ArgSchema[],
  callSpan: Span,
  diags: Diagnostic[],
): BoundArgs | undefined {
  const before = diags.length;
  const values = new Map<string, ArgValue>();
  const spans = new Map<string, Span>();
  let position = 0;
  for (const arg of args) {
    let s: ArgSchema | undefined;
    if (arg.name) {
      const name = arg.name.name;
      s = schema.find((x) => x.name === name || x.aliases?.includes(name));
      if (!s) {
        const known = schema.flatMap((x) => [x.name, ...(x.aliases ?? [])]);
        diags.push(
          error('E0103', arg.name.span, `${callee} has no argument \`${name}\`${didYouMean(name, known)}`, [
            { message: `its arguments are: ${schema.map((x) => x.name).join(', ')}` },
          ]),
        );
        continue;
      }
    } else {
      s = schema[position++];
      if (!s) {
        diags.push(
          error(
            'E0103',
            arg.span,
            `${callee} takes at most ${schema.length} positional argument${schema.length === 1 ? '' : 's'}`,
          ),
        );
        continue;
      }
    }
    if (spans.has(s.name)) {
      diags.push(
        error('E0103', arg.span, `argument \`${s.name}\` of ${callee} is given twice`, [
          { span: spans.get(s.name), message: 'first given here' },
        ]),
      );
      continue;
    }
    // Recorded even when the value is bad, so it is not also reported as missing.
    spans.set(s.name, arg.span);
    const v = convert(callee, s, arg.value, diags);
    if (v !== undefined) values.set(s.name, v);
  }
  for (const s of schema) {
    if (spans.has(s.name)) continue;
    if (s.default === undefined)
      diags.push(error('E0104', callSpan, `${callee} needs the argument \`${s.name}\``));
    else values.set(s.name, s.default);
  }
  return diags.length === before ? { values, spans } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Typed views of bound arguments: a vocabulary entry declares its schema `as const` and reads
// its arguments as an object whose property types come from that schema, so a schema change is
// a type change and no entry casts `values.get('x') as T`.

type Calls = Readonly<Record<string, readonly ArgSchema[]>>;

/** The TypeScript type a schema entry's argument binds to (see `convert`). */
export type ArgTypeOf<S extends ArgSchema> = S['type'] extends 'int' | 'float'
  ? number
  : S['type'] extends 'bool'
    ? boolean
    : S['type'] extends 'string'
      ? string
      : S['type'] extends 'name'
        ? ChoiceName<S>
        : S['type'] extends 'name-list'
          ? readonly ChoiceName<S>[]
          : S['type'] extends 'call-or-name'
            ? CallValue
            : S['type'] extends 'choice'
              ? S extends { readonly calls: infer C extends Calls }
                ? ChosenCall<C>
                : never
              : S['type'] extends 'shape'
                ? readonly number[]
                : S['type'] extends 'int-pair'
                  ? readonly [number, number]
                  : never;

type ChoiceName<S extends ArgSchema> = S extends { readonly choices: readonly (infer C extends string)[] }
  ? C
  : string;

/** A bound `choice` argument, discriminated by the name chosen, with that call's typed arguments. */
export type ChosenCall<C extends Calls> = {
  readonly [K in keyof C & string]: { readonly choice: K; readonly args: ArgsOf<C[K]>; readonly span: Span };
}[keyof C & string];

/** Every argument of a schema by name, with its type: all present once `bindArgs` succeeds. */
export type ArgsOf<S extends readonly ArgSchema[]> = {
  readonly [A in S[number] as A['name']]: ArgTypeOf<A>;
};

/**
 * The typed view of what `bindArgs` bound for `schema`. The one cast is sound: a successful bind
 * holds a value of its declared type for every argument (given or defaulted).
 */
export function argsOf<const S extends readonly ArgSchema[]>(
  schema: S,
  values: ReadonlyMap<string, ArgValue>,
): ArgsOf<S> {
  const out: Record<string, unknown> = {};
  for (const s of schema) {
    const v = values.get(s.name);
    if (v === undefined) throw new Error(`internal: argument ${s.name} was not bound`);
    out[s.name] = s.type === 'choice' ? chosenCall(s, v as BoundChoice) : v;
  }
  return out as ArgsOf<S>;
}

function chosenCall(s: ArgSchema, c: BoundChoice): { choice: string; args: unknown; span: Span } {
  const schema = s.calls?.[c.choice] ?? [];
  // A schema's default choice (`random_uniform`) is bound by no call, so its arguments take their defaults.
  const values = new Map<string, ArgValue>();
  for (const a of schema) if (a.default !== undefined) values.set(a.name, a.default);
  for (const [k, v] of c.values) values.set(k, v);
  return { choice: c.choice, args: argsOf(schema, values), span: c.span };
}
