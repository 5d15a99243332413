/**
 * `nnxc fmt` writes a Keras string name as the nnx name it stands for: `optimizer: 'adam'` becomes
 * `optimizer: Adam`, `activation: 'relu'` becomes `activation: relu`. The rule is the compiler's
 * (src/lower/spellings.ts), over every name the language knows; a string that spells no name, or
 * more than one, and the strings of a `data:` field (file paths, column names) stay as written.
 */
import type * as ast from '../parser/ast.js';
import { LOSS_NAMES, METRIC_NAMES } from '../bind/losses.js';
import { OPTIMIZERS } from '../bind/optimizers.js';
import { DATASETS } from '../bind/train.js';
import type { ArgSchema } from '../lower/args.js';
import { LAYERS } from '../lower/layers.js';
import { resolveSpelling } from '../lower/spellings.js';

/** Every name a string may stand for: argument choices, calls, losses, metrics, optimizers, datasets. */
function knownNames(): string[] {
  const names = new Set<string>([...LOSS_NAMES, ...METRIC_NAMES, ...DATASETS, ...Object.keys(OPTIMIZERS)]);
  const addSchema = (schema: readonly ArgSchema[]) => {
    for (const s of schema) {
      for (const c of s.choices ?? []) names.add(c);
      for (const [call, args] of Object.entries(s.calls ?? {})) {
        names.add(call);
        addSchema(args);
      }
    }
  };
  for (const layer of Object.values(LAYERS)) addSchema(layer.schema);
  for (const optimizer of Object.values(OPTIMIZERS)) addSchema(optimizer.schema);
  return [...names];
}

let names: string[] | undefined;

/** The program with each string that spells a name written as that name. */
export function canonicalSpellings(program: ast.Program): ast.Program {
  names ??= knownNames();
  const known = names;
  const rename = (e: ast.Expr): ast.Expr => {
    if (e.kind !== 'string') return e;
    const name = resolveSpelling(e.value, known);
    return name === undefined ? e : { kind: 'name', name, span: e.span };
  };
  return { ...program, definitions: program.definitions.map((d) => definition(d, rename)) };
}

type Rename = (e: ast.Expr) => ast.Expr;

function definition(d: ast.Definition, f: Rename): ast.Definition {
  switch (d.kind) {
    case 'sequential':
      return { ...d, layers: d.layers.map((s) => statement(s, f)) };
    case 'model':
      return { ...d, body: d.body.map((s) => statement(s, f)) };
    case 'block':
      return {
        ...d,
        params: d.params.map((p) => (p.default ? { ...p, default: expr(p.default, f) } : p)),
        body: d.body.map((s) => statement(s, f)),
      };
    case 'train':
    case 'gan':
      return { ...d, fields: d.fields.map((field) => trainField(field, f)) };
  }
}

/** A `data:` field names files and columns with strings: those are left alone. */
function trainField(field: ast.TrainField, f: Rename): ast.TrainField {
  return field.name.name === 'data' ? field : { ...field, value: expr(field.value, f) };
}

function statement(s: ast.Statement, f: Rename): ast.Statement {
  switch (s.kind) {
    case 'let':
    case 'assign':
      return { ...s, value: expr(s.value, f) };
    case 'return':
      return { ...s, values: s.values.map((v) => expr(v, f)) };
    case 'repeat':
      return { ...s, count: expr(s.count, f), body: s.body.map((b) => statement(b, f)) };
    default:
      return expr(s, f);
  }
}

function expr(e: ast.Expr, f: Rename): ast.Expr {
  switch (e.kind) {
    case 'string':
      return f(e);
    case 'list':
      return { ...e, items: e.items.map((x) => expr(x, f)) };
    case 'record':
      return { ...e, fields: e.fields.map((field) => trainField(field, f)) };
    case 'call':
      return {
        ...e,
        callee: expr(e.callee, f),
        args: e.args.map((a) => ({ ...a, value: expr(a.value, f) })),
      };
    case 'binary':
      return { ...e, left: expr(e.left, f), right: expr(e.right, f) };
    case 'negate':
      return { ...e, operand: expr(e.operand, f) };
    default:
      return e;
  }
}
