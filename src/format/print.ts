/**
 * The canonical layout of an .nnx file, printed from its AST and its comments: two-space
 * indents (or `tabWidth`), one statement or field per line, a call, list or record broken one
 * item a line where the line would pass `printWidth`, one space around binary operators and after commas,
 * one blank line between definitions, at most one blank line kept between statements, and
 * parentheses only where precedence needs them. Comments are kept: a comment on its own line
 * stays before the item that follows it, a comment after an item on the same line stays there,
 * and a comment inside an expression moves to the line before its statement.
 */
import type * as ast from '../parser/ast.js';
import type { Span } from '../util/diagnostics.js';

/** A comment's text (`# …` or `// …`) and where it starts. */
export interface SourceComment {
  readonly text: string;
  readonly start: number;
}

/** Anything laid out on its own line(s): a definition, statement, field or import. */
interface Item {
  readonly span: Span;
  readonly lines: (indent: string) => string[];
}

/** How lines are laid out: the indent unit and the width a line is broken to fit. */
export interface LayoutOptions {
  /** Columns a line may take before its outermost call, list or record is broken (80). */
  readonly printWidth: number;
  /** Spaces per indent level (2), or a tab each with `useTabs`. */
  readonly tabWidth: number;
  readonly useTabs: boolean;
}

/** `nnxc fmt`'s layout: Prettier's defaults. */
export const DEFAULT_LAYOUT: LayoutOptions = { printWidth: 80, tabWidth: 2, useTabs: false };

/** Prints a parsed program canonically; `text` is the source it was parsed from. */
export function printProgram(program: ast.Program, text: string, comments: readonly SourceComment[]): string {
  const printer = new Printer(text, comments);
  const items = [
    ...program.imports.map(importItem),
    ...program.definitions.map((d) => definitionItem(printer, d)),
  ].sort((a, b) => a.span.start - b.span.start);
  const lines = printer.items(
    items,
    '',
    text.length,
    (prev, next) => prev !== undefined && (!isImport(prev, program) || !isImport(next, program)),
  );
  while (lines[0] === '') lines.shift();
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function isImport(item: Item, program: ast.Program): boolean {
  return program.imports.some((i) => i.span === item.span);
}

class Printer {
  private next = 0;

  constructor(
    readonly text: string,
    readonly comments: readonly SourceComment[],
  ) {}

  /**
   * Lays out items with the comments among them; `end` bounds the comments that belong here.
   * `blankBefore` says when an item must follow a blank line; otherwise one blank line of the
   * source is kept.
   */
  items(
    items: readonly Item[],
    indent: string,
    end: number,
    blankBefore: (prev: Item | undefined, next: Item) => boolean = () => false,
  ): string[] {
    const out: string[] = [];
    let prev: Item | undefined;
    for (const item of items) {
      const leading = this.takeBefore(item.span.start);
      const gap =
        prev === undefined ? '' : this.text.slice(prev.span.end, firstStart(leading, item.span.start));
      if (prev !== undefined && (blankBefore(prev, item) || /\n[ \t\r]*\n/.test(gap))) out.push('');
      out.push(...leading.map((c) => indent + c.text));
      // Bodies print their own comments first; what is left inside the item goes before it.
      const lines = item.lines(indent);
      const hoisted = this.takeBefore(item.span.end);
      out.push(...hoisted.map((c) => indent + c.text), ...lines);
      const trailing = this.takeTrailing(item.span.end);
      if (trailing) out[out.length - 1] += ` ${trailing.text}`;
      prev = item;
    }
    const rest = this.takeBefore(end);
    if (
      rest.length > 0 &&
      prev !== undefined &&
      /\n[ \t\r]*\n/.test(this.text.slice(prev.span.end, rest[0]!.start))
    )
      out.push('');
    out.push(...rest.map((c) => indent + c.text));
    return out;
  }

  /** True when a comment starts inside `span`. */
  hasCommentsIn(span: Span): boolean {
    return this.comments.some((c) => c.start >= span.start && c.start < span.end);
  }

  /** The comments starting before `offset` not yet printed. */
  private takeBefore(offset: number): SourceComment[] {
    const out: SourceComment[] = [];
    while (this.next < this.comments.length && this.comments[this.next]!.start < offset)
      out.push(this.comments[this.next++]!);
    return out;
  }

  /** A comment on the same line right after `offset`, if there is one. */
  private takeTrailing(offset: number): SourceComment | undefined {
    const c = this.comments[this.next];
    if (c === undefined || this.text.slice(offset, c.start).includes('\n')) return undefined;
    this.next++;
    return c;
  }

  /**
   * `{`, the body's items, `}`; `{}` when there is nothing inside. A comment on the line of the
   * `{` stays there.
   */
  body(head: string, items: readonly Item[], indent: string, span: Span): string[] {
    const afterBrace = this.takeAfterBrace(span);
    const inner = this.items(items, indent + layout.indentUnit, span.end);
    const open = `${indent}${head} {${afterBrace ? ` ${afterBrace.text}` : ''}`;
    if (inner.length === 0 && !afterBrace) return [`${indent}${head} {}`];
    return [open, ...inner, `${indent}}`];
  }

  /** The next comment, when it follows the `{` of `span` on the same line. */
  private takeAfterBrace(span: Span): SourceComment | undefined {
    const c = this.comments[this.next];
    if (c === undefined || c.start >= span.end || c.start < span.start) return undefined;
    const brace = this.text.lastIndexOf('{', c.start);
    if (brace < span.start || !/^[ \t]*$/.test(this.text.slice(brace + 1, c.start))) return undefined;
    this.next++;
    return c;
  }
}

function firstStart(comments: readonly SourceComment[], fallback: number): number {
  return comments[0]?.start ?? fallback;
}

function importItem(i: ast.ImportDecl): Item {
  return { span: i.span, lines: (indent) => [`${indent}import "${i.path.value}"`] };
}

function definitionItem(p: Printer, d: ast.Definition): Item {
  switch (d.kind) {
    case 'sequential':
      return {
        span: d.span,
        lines: (indent) =>
          p.body(
            `sequential ${d.name.name}(${tensorDecls(d.inputs)})`,
            statementItems(p, d.layers),
            indent,
            d.span,
          ),
      };
    case 'model': {
      const outputs = d.outputs.length > 0 ? ` -> (${tensorDecls(d.outputs)})` : '';
      return {
        span: d.span,
        lines: (indent) =>
          p.body(
            `model ${d.name.name}(${tensorDecls(d.inputs)})${outputs}`,
            statementItems(p, d.body),
            indent,
            d.span,
          ),
      };
    }
    case 'block':
      return {
        span: d.span,
        lines: (indent) => p.body(blockHead(d), statementItems(p, d.body), indent, d.span),
      };
    case 'train':
      return {
        span: d.span,
        lines: (indent) => p.body(`train ${d.model.name}`, d.fields.map(fieldItem), indent, d.span),
      };
    case 'gan':
      return {
        span: d.span,
        lines: (indent) => p.body(`gan ${d.name.name}`, d.fields.map(fieldItem), indent, d.span),
      };
  }
}

function blockHead(d: ast.BlockDef): string {
  const params = d.params.map(paramDecl).join(', ');
  const inputs = d.inputs.map(paramDecl).join(', ');
  if (d.implicitInput) return `block ${d.name.name}(${params})`;
  if (d.params.length === 0) return `block ${d.name.name}(${inputs})`;
  return `block ${d.name.name}(${params})(${inputs})`;
}

function paramDecl(p: ast.ParamDecl): string {
  const type = p.type ? `: ${typeExpr(p.type)}` : p.shape ? `: ${shape(p.shape)}` : '';
  return `${p.name.name}${type}${p.default ? ` = ${expr(p.default)}` : ''}`;
}

function typeExpr(t: ast.TypeExpr): string {
  return t.choices.length === 0 ? t.name.name : `${t.name.name}(${t.choices.map((c) => c.name).join(', ')})`;
}

function tensorDecls(decls: readonly ast.TensorDecl[]): string {
  return decls.map((d) => `${d.name.name}: ${shape(d.shape)}`).join(', ');
}

function shape(s: ast.ShapeExpr): string {
  const dim = (d: ast.DimExpr) =>
    d.kind === 'dim-name' ? d.name : d.factors ? d.factors.join(' * ') : String(d.value);
  return `[${s.dims.map(dim).join(', ')}]`;
}

function statementItems(p: Printer, statements: readonly ast.Statement[]): Item[] {
  return statements.map((s) => statementItem(p, s));
}

function statementItem(p: Printer, s: ast.Statement): Item {
  const line = (prefix: string, e: ast.Expr): Item => ({
    span: s.span,
    lines: (indent) => exprLines(prefix, e, indent),
  });
  switch (s.kind) {
    case 'let':
      return line(`let ${s.target.name} = `, s.value);
    case 'assign':
      return line(`${s.targets.map((t) => t.name).join(', ')} = `, s.value);
    case 'return':
      return { span: s.span, lines: (indent) => [`${indent}return ${s.values.map(expr).join(', ')}`] };
    case 'repeat': {
      const count = expr(s.count);
      const only = s.body.length === 1 && s.body[0]!.kind !== 'repeat' ? s.body[0]! : undefined;
      const body = (indent: string) => p.body(`repeat ${count}`, statementItems(p, s.body), indent, s.span);
      // One plain statement and no comments: `repeat 3 { Dense(10) }` on one line, where it fits.
      if (only !== undefined && !p.hasCommentsIn(s.span)) {
        return {
          span: s.span,
          lines: (indent) => {
            const inner = statementItem(p, only).lines('');
            const one = `${indent}repeat ${count} { ${inner[0]} }`;
            return inner.length === 1 && fits(one) ? [one] : body(indent);
          },
        };
      }
      return { span: s.span, lines: body };
    }
    default:
      return line('', s);
  }
}

function fieldItem(f: ast.TrainField): Item {
  return { span: f.span, lines: (indent) => exprLines(`${f.name.name}: `, f.value, indent) };
}

/** Whether a line fits in the print width (a tab counts as tabWidth columns). */
function fits(line: string): boolean {
  return line.replace(/\t/g, ' '.repeat(layout.tabWidth)).length <= layout.printWidth;
}

/** A call, list or record as its opening text, items (each with its `name: `) and closing text. */
function groupOf(e: ast.Expr): { open: string; items: [string, ast.Expr][]; close: string } | undefined {
  switch (e.kind) {
    case 'call':
      // A layer applied to inputs, `Dense(…)(x)`: its arguments break, the inputs stay.
      if (e.callee.kind === 'call' && e.callee.args.length > 0) {
        const inner = groupOf(e.callee)!;
        return { ...inner, close: `${inner.close}(${e.args.map(argText).join(', ')})` };
      }
      if (e.args.length === 0) return undefined;
      return {
        open: `${wrap(e.callee, 4)}(`,
        items: e.args.map((a) => [a.name ? `${a.name.name}: ` : '', a.value]),
        close: ')',
      };
    case 'list':
      return e.items.length === 0 ? undefined : { open: '[', items: e.items.map((i) => ['', i]), close: ']' };
    case 'record':
      if (e.fields.length === 0) return undefined;
      return { open: '{', items: e.fields.map((f) => [`${f.name.name}: `, f.value]), close: '}' };
    default:
      return undefined;
  }
}

/**
 * `prefix` and `e` on one line when it fits the print width; otherwise the outermost call, list
 * or record is broken, one item a line one indent deeper (each broken again if it must be).
 */
function exprLines(prefix: string, e: ast.Expr, indent: string, suffix = ''): string[] {
  const flat = `${indent}${prefix}${expr(e)}${suffix}`;
  const group = groupOf(e);
  if (fits(flat) || group === undefined) return [flat];
  const inner = indent + layout.indentUnit;
  const last = group.items.length - 1;
  return [
    `${indent}${prefix}${group.open}`,
    ...group.items.flatMap(([name, item], i) => exprLines(name, item, inner, i < last ? ',' : '')),
    `${indent}${group.close}${suffix}`,
  ];
}

function argText(a: ast.Argument): string {
  return a.name ? `${a.name.name}: ${expr(a.value)}` : expr(a.value);
}

/** Binding strength: higher binds tighter. */
function precedence(e: ast.Expr): number {
  if (e.kind === 'binary') return e.op === '+' || e.op === '-' ? 1 : 2;
  return e.kind === 'negate' ? 3 : 4;
}

function wrap(e: ast.Expr, atLeast: number): string {
  return precedence(e) < atLeast ? `(${expr(e)})` : expr(e);
}

/** An expression on one line, with parentheses only where precedence needs them. */
export function expr(e: ast.Expr): string {
  switch (e.kind) {
    case 'number':
      return numberText(e);
    case 'string':
      // Strings have no escapes: one holding `"` keeps the single quotes it was written with.
      return e.value.includes('"') ? `'${e.value}'` : `"${e.value}"`;
    case 'name':
      return e.name;
    case 'list':
      return `[${e.items.map(expr).join(', ')}]`;
    case 'record':
      return e.fields.length === 0
        ? '{}'
        : `{ ${e.fields.map((f) => `${f.name.name}: ${expr(f.value)}`).join(', ')} }`;
    case 'negate':
      return `-${wrap(e.operand, 3)}`;
    case 'binary': {
      const p = precedence(e);
      // Left-associative: a right operand of equal precedence keeps its parentheses.
      return `${wrap(e.left, p)} ${e.op} ${wrap(e.right, p + 1)}`;
    }
    case 'call':
      return `${wrap(e.callee, 4)}(${e.args.map(argText).join(', ')})`;
  }
}

/**
 * The text being formatted: numbers keep the spelling they were written with (`1e-3` stays
 * `1e-3`, `10.0` stays a float); and the layout. Set by {@link withSource} for one print.
 */
let sourceText = '';
let layout = withUnit(DEFAULT_LAYOUT);

function withUnit(options: LayoutOptions): LayoutOptions & { readonly indentUnit: string } {
  return { ...options, indentUnit: options.useTabs ? '\t' : ' '.repeat(options.tabWidth) };
}
function numberText(e: ast.NumberLiteral): string {
  const written = sourceText.slice(e.span.start, e.span.end);
  return /^[0-9][0-9.eE+-]*$/.test(written) ? written : String(e.value);
}

/** Sets the source numbers are read back from, and the layout; {@link formatNnx} calls it. */
export function withSource<T>(text: string, f: () => T, options: LayoutOptions = DEFAULT_LAYOUT): T {
  const saved = { sourceText, layout };
  sourceText = text;
  layout = withUnit(options);
  try {
    return f();
  } finally {
    ({ sourceText, layout } = saved);
  }
}
