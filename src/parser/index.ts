/**
 * The parser stage: source text → {@link Program} plus diagnostics. Lexer errors (E0001) and
 * syntax errors (E0002) are all collected; with error recovery a file with several mistakes
 * reports each of them and still yields the part of the AST that could be built.
 */
import { EOF, tokenMatcher } from './chevrotain.js';
import type { ILexingError, IRecognitionException, ISerializedGast, IToken } from 'chevrotain';
import { error, type Diagnostic, type Result, type Span } from '../util/diagnostics.js';
import type { Program } from './ast.js';
import { parser } from './parser.js';
import { LBrace, LBracket, lexer, LParen, Minus, RBrace, RBracket, RParen } from './tokens.js';
import { buildAst } from './visitor.js';

export type * from './ast.js';

/**
 * Parses one .nnx file. Never throws for bad input: every problem is a diagnostic, sorted by
 * position. `result` is present whenever a (possibly partial) tree could be built, so check
 * the diagnostics for errors before trusting it.
 */
export function parse(text: string): Result<Program> {
  const lexed = lexer.tokenize(text);
  const lexical = [
    ...lexed.errors.map((e) => lexingDiagnostic(text, e)),
    ...(lexed.groups['unterminated'] ?? []).map(unterminatedStringDiagnostic),
  ];
  const tooDeep = nestingDiagnostic(lexed.tokens);
  const parsed = tooDeep === undefined ? parseWithinStack(lexed.tokens, text.length) : undefined;
  const syntax =
    parsed === undefined
      ? [tooDeep ?? stackDiagnostic(lexed.tokens)]
      : syntaxDiagnostics(text, parsed.errors, lexical);
  const diagnostics = [...lexical, ...syntax].sort((a, b) => a.span.start - b.span.start);
  return { result: parsed?.program, diagnostics };
}

/** Far deeper than any real model nests; past it the recursive-descent parser could overflow the stack. */
const MAX_NESTING = 64;

const OPENERS = [LParen, LBracket, LBrace];
const CLOSERS = [RParen, RBracket, RBrace];

/** An error at the first bracket that opens a level past {@link MAX_NESTING}, if any does. */
function nestingDiagnostic(tokens: readonly IToken[]): Diagnostic | undefined {
  let depth = 0;
  for (const token of tokens) {
    if (OPENERS.some((type) => tokenMatcher(token, type))) depth++;
    else if (CLOSERS.some((type) => tokenMatcher(token, type))) depth = Math.max(0, depth - 1);
    if (depth > MAX_NESTING) {
      const span = { start: token.startOffset, end: token.startOffset + token.image.length };
      return error('E0002', span, `brackets nested more than ${MAX_NESTING} levels deep`);
    }
  }
  return undefined;
}

/**
 * Parses and builds the AST, or returns undefined if the recursion ran out of stack. Brackets
 * are limited before this; what is left to overflow is an absurd run of unary minus signs.
 */
function parseWithinStack(
  tokens: IToken[],
  textLength: number,
): { program: Program | undefined; errors: readonly IRecognitionException[] } | undefined {
  try {
    const { cst, errors } = parser.parseTokens(tokens);
    return { program: cst === undefined ? undefined : buildAst(cst, textLength), errors };
  } catch (e) {
    if (e instanceof RangeError) return undefined;
    throw e;
  }
}

/** Blames the longest run of `-` tokens, the one construct that nests without brackets. */
function stackDiagnostic(tokens: readonly IToken[]): Diagnostic {
  let best: Span = { start: 0, end: 0 };
  let runStart: IToken | undefined;
  for (const token of tokens) {
    if (!tokenMatcher(token, Minus)) {
      runStart = undefined;
      continue;
    }
    runStart ??= token;
    const end = token.startOffset + token.image.length;
    if (end - runStart.startOffset > best.end - best.start) best = { start: runStart.startOffset, end };
  }
  return error('E0002', best, 'expression nested too deeply to parse');
}

/** The grammar as Chevrotain's serialized productions, for tooling and diagram generation. */
export function grammarProductions(): ISerializedGast[] {
  return parser.getSerializedGastProductions();
}

function lexingDiagnostic(text: string, e: ILexingError): Diagnostic {
  const skipped = text.slice(e.offset, e.offset + e.length);
  const noun = [...skipped].length === 1 ? 'character' : 'characters';
  return error(
    'E0001',
    { start: e.offset, end: e.offset + e.length },
    `unexpected ${noun} '${printable(skipped)}'`,
  );
}

function unterminatedStringDiagnostic(token: IToken): Diagnostic {
  const span = { start: token.startOffset, end: token.startOffset + token.image.length };
  const quote = token.image.startsWith("'") ? `"'"` : `'"'`;
  return error('E0001', span, `unterminated string: missing the closing ${quote} before the end of the line`);
}

/** Control characters and odd whitespace would vanish in a message, so they are spelled out. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u00a0\u2028\u2029\ufeff]/g, (c) => {
    return `\\u{${c.codePointAt(0)!.toString(16).padStart(4, '0')}}`;
  });
}

/**
 * One diagnostic per syntax error, but at most one error per line: after the first mistake on
 * a line, recovery skips or invents tokens, and the errors that follow there are usually its
 * fallout (a stray character the lexer dropped counts as that first mistake).
 */
function syntaxDiagnostics(
  text: string,
  errors: readonly IRecognitionException[],
  lexical: readonly Diagnostic[],
): Diagnostic[] {
  const linesWithErrors = new Set(lexical.map((d) => lineStart(text, d.span.start)));
  const out: Diagnostic[] = [];
  for (const e of errors) {
    const span = syntaxErrorSpan(text, e);
    const line = lineStart(text, span.start);
    if (linesWithErrors.has(line)) continue;
    linesWithErrors.add(line);
    out.push(error('E0002', span, e.message));
  }
  return out;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/**
 * Where to point: at the unexpected token, unless it is the end of the file or on a later line
 * than the last good token. Then the mistake is a missing token, best shown right after that one.
 */
function syntaxErrorSpan(text: string, e: IRecognitionException): Span {
  const previous = 'previousToken' in e ? (e.previousToken as IToken | undefined) : undefined;
  const afterPrevious =
    previous !== undefined && isReal(previous) ? previous.startOffset + previous.image.length : undefined;
  const found = e.token;
  const foundIsReal = isReal(found);
  if (
    foundIsReal &&
    (afterPrevious === undefined || !text.slice(afterPrevious, found.startOffset).includes('\n'))
  ) {
    return { start: found.startOffset, end: found.startOffset + found.image.length };
  }
  const at = afterPrevious ?? (foundIsReal ? found.startOffset : text.length);
  return { start: at, end: at };
}

function isReal(token: IToken): boolean {
  return Number.isFinite(token.startOffset) && !token.isInsertedInRecovery && token.tokenType !== EOF;
}
