/**
 * `--set optimizer.lr=0.01`: command-line settings that override a train block's fields. Each
 * value is parsed as an nnx expression and written into the block's AST, so it is checked by
 * the same rules as the block itself. Values keep spans into the command line (offset past any
 * file, see {@link COMMAND_LINE_BASE}), and diagnostics about them point there.
 */
import type { Argument, Expr, GanDef, Identifier, RecordExpr, TrainDef, TrainField } from '../parser/ast.js';
import { parse } from '../parser/index.js';
import { DEFAULT_OPTIMIZER } from './train.js';
import { COMMAND_LINE_BASE } from './origins.js';
import { type Diagnostic, type SourceFile, type Span, error } from '../util/diagnostics.js';

/** The pseudo-file settings are rendered from. */
export const COMMAND_LINE = '<command line>';

export { COMMAND_LINE_BASE } from './origins.js';

/** The command line as diagnostics show it: `--set a=1 --set b=2`. */
export function commandLineSource(settings: readonly string[]): SourceFile {
  return { path: COMMAND_LINE, text: settings.map((s) => `--set ${s}`).join(' ') };
}

/** Moves diagnostics whose spans lie in the command line into the command-line pseudo-file. */
export function placeCommandLineDiagnostics(diags: Diagnostic[], from: number): void {
  const shift = (span: Span): Span => ({
    start: span.start - COMMAND_LINE_BASE,
    end: span.end - COMMAND_LINE_BASE,
  });
  for (let i = from; i < diags.length; i++) {
    const d = diags[i]!;
    if (d.span.start < COMMAND_LINE_BASE) continue;
    diags[i] = {
      ...d,
      span: shift(d.span),
      file: COMMAND_LINE,
      ...(d.notes && {
        notes: d.notes.map((n) =>
          n.span && n.span.start >= COMMAND_LINE_BASE ? { ...n, span: shift(n.span), file: COMMAND_LINE } : n,
        ),
      }),
    };
  }
}

/** Every `{start, end}` in a parsed value, moved by `delta`. */
function shiftSpans<T>(value: T, delta: number): T {
  return shiftAny(value, delta) as T;
}

function shiftAny(value: unknown, delta: number): unknown {
  if (Array.isArray(value)) return value.map((v) => shiftAny(v, delta));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 2 && typeof record['start'] === 'number' && typeof record['end'] === 'number')
    return { start: record['start'] + delta, end: record['end'] + delta };
  return Object.fromEntries(keys.map((k) => [k, shiftAny(record[k], delta)]));
}

/** One setting, split and parsed; undefined (with diagnostics) when it is malformed. */
function parseSetting(
  setting: string,
  offset: number,
  diags: Diagnostic[],
): { path: Identifier[]; value: Expr } | undefined {
  const base = COMMAND_LINE_BASE + offset;
  const eq = setting.indexOf('=');
  const key = eq < 0 ? setting : setting.slice(0, eq);
  const parts = key.split('.');
  if (eq < 0 || parts.length > 2 || !parts.every((p) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(p))) {
    diags.push(
      error(
        'E0301',
        { start: base, end: base + setting.length },
        'expected `--set field=value` or `--set field.name=value`, as in `--set optimizer.lr=0.01`',
      ),
    );
    return undefined;
  }
  let at = base;
  const path = parts.map((name): Identifier => {
    const id: Identifier = { kind: 'identifier', name, span: { start: at, end: at + name.length } };
    at += name.length + 1;
    return id;
  });
  const prefix = 'train _ { v: ';
  const parsed = parse(`${prefix}${setting.slice(eq + 1)} }`);
  const delta = base + eq + 1 - prefix.length;
  if (parsed.diagnostics.length > 0) {
    diags.push(...parsed.diagnostics.map((d) => shiftSpans(d, delta)));
    return undefined;
  }
  const def = parsed.result?.definitions[0];
  const field = def?.kind === 'train' && def.fields.length === 1 ? def.fields[0] : undefined;
  if (field === undefined) {
    diags.push(
      error('E0301', { start: base, end: base + setting.length }, `cannot read the value of \`${key}\``),
    );
    return undefined;
  }
  return { path, value: shiftSpans(field.value, delta) };
}

/** `def` with every setting applied, later settings winning. */
export function applySettings<D extends TrainDef | GanDef>(
  def: D,
  settings: readonly string[],
  diags: Diagnostic[],
): D {
  let fields = [...def.fields];
  let offset = 0;
  for (const setting of settings) {
    offset += '--set '.length;
    const parsed = parseSetting(setting, offset, diags);
    offset += setting.length + 1;
    if (parsed === undefined) continue;
    const [name, inner] = parsed.path as [Identifier, Identifier | undefined];
    const span: Span = { start: name.span.start, end: parsed.value.span.end };
    const existing = fields.find((f) => f.name.name === name.name);
    const value =
      inner === undefined
        ? parsed.value
        : nestedValue(existing, name, inner, parsed.value, diags, defaultOptimizer(def, name.span));
    if (value === undefined) continue;
    const field: TrainField = { kind: 'train-field', name, value, span };
    fields = existing ? fields.map((f) => (f === existing ? field : f)) : [...fields, field];
  }
  return { ...def, fields };
}

/** The default optimizer, which `--set optimizer.lr=…` refines when the block names none. */
function defaultOptimizer(def: TrainDef | GanDef, span: Span): Expr {
  if (def.kind === 'gan') return { kind: 'name', name: 'Adam', span };
  const callee: Expr = { kind: 'name', name: DEFAULT_OPTIMIZER.callee, span };
  return { kind: 'call', callee, args: DEFAULT_OPTIMIZER.args, span };
}

/** `optimizer: SGD(lr: 0.1)` with `lr` replaced, or `loss: { a: mse }` with `a` replaced. */
function nestedValue(
  field: TrainField | undefined,
  name: Identifier,
  inner: Identifier,
  value: Expr,
  diags: Diagnostic[],
  optimizer: Expr,
): Expr | undefined {
  const current = field?.value;
  const span = { start: name.span.start, end: value.span.end };
  if (
    current?.kind === 'record' ||
    name.name === 'loss' ||
    name.name === 'loss_weights' ||
    name.name === 'dims'
  )
    return withRecordField(current?.kind === 'record' ? current : undefined, inner, value, span);
  if (current === undefined && name.name === 'optimizer') return withArgument(optimizer, inner, value);
  if (current?.kind === 'call' || current?.kind === 'name') return withArgument(current, inner, value);
  diags.push(
    error(
      'E0301',
      span,
      current === undefined
        ? `the train block has no \`${name.name}\` to set \`${inner.name}\` in`
        : `\`${name.name}\` has no arguments to set`,
    ),
  );
  return undefined;
}

function withRecordField(
  record: RecordExpr | undefined,
  inner: Identifier,
  value: Expr,
  span: Span,
): RecordExpr {
  const field: TrainField = { kind: 'train-field', name: inner, value, span };
  const fields = record?.fields ?? [];
  const replaced = fields.some((f) => f.name.name === inner.name);
  return {
    kind: 'record',
    fields: replaced ? fields.map((f) => (f.name.name === inner.name ? field : f)) : [...fields, field],
    span: record?.span ?? span,
  };
}

function withArgument(callee: Expr, inner: Identifier, value: Expr): Expr {
  const arg: Argument = {
    kind: 'argument',
    name: inner,
    value,
    span: { start: inner.span.start, end: value.span.end },
  };
  if (callee.kind !== 'call') return { kind: 'call', callee, args: [arg], span: callee.span };
  const replaced = callee.args.some((a) => a.name?.name === inner.name);
  const args = replaced
    ? callee.args.map((a) => (a.name?.name === inner.name ? arg : a))
    : [...callee.args, arg];
  return { ...callee, args };
}
