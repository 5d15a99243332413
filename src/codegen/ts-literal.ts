/**
 * Prints plain data (a spec) as a TypeScript literal in Prettier's house layout: objects one key
 * a line with trailing commas, keys unquoted where they are identifiers, single-quoted strings,
 * short arrays of numbers and strings on one line. Written here rather than run through Prettier
 * so that compiling a model needs no formatter installed, and the output is the same everywhere.
 */

/** A value a spec holds. Template literals (WGSL) are marked with {@link templateLiteral}. */
export type LiteralValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | TemplateText
  | FilledNumbers
  | readonly LiteralValue[]
  | { readonly [key: string]: LiteralValue };

/** Text printed as a template literal on its own lines (a kernel's WGSL). */
export interface TemplateText {
  readonly template: string;
}

/** Marks `text` to be printed as a template literal starting on a new line. */
export function templateLiteral(text: string): TemplateText {
  return { template: text };
}

/** Numbers printed as many to a line as fit (a wasm module's byte offsets), not one a line. */
export interface FilledNumbers {
  readonly filled: readonly number[];
}

/** Marks `numbers` to be printed filled, as Prettier lays out a long array of numbers. */
export function filledNumbers(numbers: readonly number[]): FilledNumbers {
  return { filled: numbers };
}

function isFilled(v: unknown): v is FilledNumbers {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) && 'filled' in v && Object.keys(v).length === 1
  );
}

/** `[1, 2, 3]` on one line when it fits after `prefix` columns, else filled lines at `indent + 2`. */
function printFilled(numbers: readonly number[], indent: number, prefix: number, width: number): string {
  const items = numbers.map((n) => printScalar(n));
  const flat = `[${items.join(', ')}]`;
  if (prefix + flat.length + 1 <= width) return flat;
  const inner = ' '.repeat(indent + 2);
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    if (line !== '' && inner.length + line.length + item.length + 2 > width) {
      lines.push(inner + line.trimEnd());
      line = '';
    }
    line += `${item}, `;
  }
  lines.push(inner + line.trimEnd());
  return `[\n${lines.join('\n')}\n${' '.repeat(indent)}]`;
}

function isTemplate(v: unknown): v is TemplateText {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) && 'template' in v && Object.keys(v).length === 1
  );
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** A string as Prettier quotes it: single quotes unless that needs more escapes than double. */
export function quoteString(s: string): string {
  const double = JSON.stringify(s);
  if (s.includes("'") && !s.includes('"')) return double;
  return `'${double.slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

function quoteKey(key: string): string {
  return IDENTIFIER.test(key) ? key : quoteString(key);
}

function printScalar(v: string | number | boolean | null): string {
  if (typeof v === 'string') return quoteString(v);
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
    return Object.is(v, -0) ? '-0' : String(v);
  }
  return String(v);
}

function isScalar(v: LiteralValue): v is string | number | boolean | null {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}

/**
 * `value` printed at indentation `indent` (spaces), with `prefix` columns already used on its
 * first line (for the array-fits-on-one-line decision); `width` is the line length to keep to.
 */
export function printLiteral(value: LiteralValue, indent = 0, prefix = indent, width = 110): string {
  if (value === undefined) return 'undefined';
  if (isScalar(value)) return printScalar(value);
  if (isTemplate(value)) return '`\n' + value.template.replace(/[`\\]|\$\{/g, (m) => '\\' + m) + '`';
  if (isFilled(value)) return printFilled(value.filled, indent, prefix, width);
  const inner = ' '.repeat(indent + 2);
  const close = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every(isScalar)) {
      const flat = `[${value.map(printScalar).join(', ')}]`;
      // `+ 1` for the comma or semicolon that follows.
      if (prefix + flat.length + 1 <= width) return flat;
    }
    const items = value.map((v) => inner + printLiteral(v, indent + 2, indent + 2, width) + ',');
    return `[\n${items.join('\n')}\n${close}]`;
  }
  const entries = Object.entries(value as { readonly [key: string]: LiteralValue }).filter(
    ([, v]) => v !== undefined,
  );
  if (entries.length === 0) return '{}';
  const lines = entries.map(([k, v]) => {
    const head = `${inner}${quoteKey(k)}: `;
    return head + printLiteral(v, indent + 2, head.length, width) + ',';
  });
  return `{\n${lines.join('\n')}\n${close}}`;
}
