/**
 * Diagnostics are values: every stage returns them instead of throwing for user errors, and one
 * renderer turns them into text. Spans are byte offsets into the source; line and column are
 * computed only when a diagnostic is rendered.
 */

/** A half-open range `[start, end)` of UTF-16 offsets into one source file. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

export type Severity = 'error' | 'warning' | 'note';

/** A secondary location that helps explain a diagnostic ("the shape came from here"). */
export interface RelatedNote {
  readonly span?: Span;
  /** The file `span` is in, when it is not the file being checked (an imported one). */
  readonly file?: string;
  readonly message: string;
}

export interface Diagnostic {
  readonly severity: Severity;
  /** Stable code from {@link DIAGNOSTIC_CODES}, e.g. `E0101`. */
  readonly code: DiagnosticCode;
  readonly span: Span;
  /** The file `span` is in, when it is not the file being checked (an imported one). */
  readonly file?: string;
  readonly message: string;
  readonly notes?: readonly RelatedNote[];
}

/**
 * Every diagnostic code, in one catalogue, with what it means. `E` codes are errors, `W` codes
 * warnings; test/util/diagnostics.test.ts shows the rendering of each.
 */
export const DIAGNOSTIC_CODES = {
  E0001: 'unexpected character',
  E0002: 'syntax error',
  E0101: 'unknown name',
  E0102: 'duplicate definition',
  E0103: 'bad argument',
  E0104: 'missing argument, output or return',
  E0105: 'wrong kind of value',
  E0106: 'a definition that uses itself',
  E0107: 'wrong number of tensors',
  E0108: 'model too large to unroll',
  E0201: 'shape mismatch',
  E0202: 'bad rank',
  E0301: 'bad train block',
  E0302: 'no model to train',
  E0303: 'symbolic dimension without a size',
  E0401: 'unreadable import',
  E0402: 'import cycle',
  E0501: 'bad gan block',
  E0502: 'generator output does not fit the discriminator',
  E0601: 'unknown augmentation',
  E0602: 'augmentation needs an image input',
  E0603: 'augmentation larger than the image',
  E0701: 'not expressible in the export target',
  W0101: 'unused layer instance',
  W0102: 'unused input',
  W0103: 'a file that defines nothing',
  W0104: 'Dense on an image, most likely missing a Flatten',
} as const;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

/** A source file as the renderer needs it. */
export interface SourceFile {
  readonly path: string;
  readonly text: string;
}

export function spanOf(start: number, end: number): Span {
  return { start, end };
}

/** Smallest span covering both. */
export function joinSpans(a: Span, b: Span): Span {
  return { start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}

export function error(code: DiagnosticCode, span: Span, message: string, notes?: RelatedNote[]): Diagnostic {
  return { severity: 'error', code, span, message, notes };
}

export function warning(
  code: DiagnosticCode,
  span: Span,
  message: string,
  notes?: RelatedNote[],
): Diagnostic {
  return { severity: 'warning', code, span, message, notes };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function lineText(text: string, offset: number): { text: string; start: number } {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  let end = text.indexOf('\n', offset);
  if (end < 0) end = text.length;
  return { text: text.slice(start, end).replace(/\r$/, ''), start };
}

/** Control characters other than tab, which a terminal would act on rather than show. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** `text` with each control character written as `\xNN`, safe to print. */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Columns of a source line shown around the caret; a longer line is cut, marked with `…`. */
const EXCERPT_WIDTH = 160;

/**
 * The source line of `span` with a caret line under it, prefixed by a line-number gutter. The
 * caret line repeats the tabs before the caret, so it lines up however wide the terminal draws
 * them; control characters show as `?`, one column each.
 */
function excerpt(file: SourceFile, span: Span): string {
  const { line } = lineColumn(file.text, span.start);
  const src = lineText(file.text, span.start);
  let caretStart = span.start - src.start;
  const caretLength = Math.max(1, Math.min(span.end, src.start + src.text.length) - span.start);
  let shown = src.text;
  if (shown.length > EXCERPT_WIDTH) {
    const from = Math.max(0, Math.min(caretStart - EXCERPT_WIDTH / 4, shown.length - EXCERPT_WIDTH));
    const to = from + EXCERPT_WIDTH;
    shown = `${from > 0 ? '…' : ''}${shown.slice(from, to)}${to < src.text.length ? '…' : ''}`;
    caretStart = caretStart - from + (from > 0 ? 1 : 0);
  }
  shown = shown.replace(CONTROL, '?');
  const lead = shown.slice(0, caretStart).replace(/[^\t]/g, ' ');
  const carets = '^'.repeat(Math.max(1, Math.min(caretLength, shown.length - caretStart)));
  const gutter = String(line);
  const pad = ' '.repeat(gutter.length);
  return [`${pad} |`, `${gutter} | ${shown}`, `${pad} | ${lead}${carets}`].join('\n');
}

/** Imported files by path, for diagnostics and notes that point into them. */
export type SourceFiles = ReadonlyMap<string, SourceFile>;

/**
 * Renders a diagnostic as `file:line:col: error: message [E0201]`, then the source line with a
 * caret under the span, then its notes. A diagnostic or note in another file (`d.file`) is
 * rendered from `others`; without it, only its location is known.
 */
export function renderDiagnostic(file: SourceFile, d: Diagnostic, others?: SourceFiles): string {
  const source = (path: string | undefined) =>
    path === undefined || path === file.path ? file : (others?.get(path) ?? { path, text: '' });
  const main = source(d.file);
  const { line, column } = lineColumn(main.text, d.span.start);
  const out = [
    `${main.path}:${line}:${column}: ${d.severity}: ${printable(d.message)} [${d.code}]`,
    excerpt(main, d.span),
  ];
  for (const note of d.notes ?? []) {
    if (note.span) {
      const at = source(note.file);
      const { line, column } = lineColumn(at.text, note.span.start);
      out.push(`${at.path}:${line}:${column}: note: ${printable(note.message)}`, excerpt(at, note.span));
    } else {
      out.push(`  = note: ${printable(note.message)}`);
    }
  }
  return out.join('\n');
}

export function renderDiagnostics(
  file: SourceFile,
  diagnostics: readonly Diagnostic[],
  others?: SourceFiles,
): string {
  const shown = diagnostics.slice(0, MAX_RENDERED).map((d) => renderDiagnostic(file, d, others));
  const more = diagnostics.length - MAX_RENDERED;
  if (more > 0) shown.push(`… and ${more} more diagnostic${more === 1 ? '' : 's'}`);
  return shown.join('\n\n');
}

/** Diagnostics printed at most; past this many, the rest are counted, not shown. */
export const MAX_RENDERED = 50;

/** What every stage returns: a result (absent when errors prevent one) and its diagnostics. */
export interface Result<T> {
  readonly result?: T;
  readonly diagnostics: readonly Diagnostic[];
}
