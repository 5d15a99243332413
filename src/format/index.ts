/**
 * `nnxc fmt`: canonical formatting of .nnx files. {@link formatNnx} is the formatter itself;
 * `plugin.ts` wraps it as a Prettier plugin so `prettier --write` and editors format .nnx too.
 */
import { parse } from '../parser/index.js';
import { lexer } from '../parser/tokens.js';
import type { Diagnostic } from '../util/diagnostics.js';
import { printProgram, type SourceComment, withSource } from './print.js';

/** The comments of a source, in order (the lexer keeps them in their own group). */
export function commentsOf(text: string): SourceComment[] {
  const comments = lexer.tokenize(text).groups['comments'] ?? [];
  return comments.map((t) => ({ text: t.image.trimEnd(), start: t.startOffset }));
}

/** The formatted text, or the syntax errors that prevent formatting. */
export type FormatResult = { readonly text: string } | { readonly diagnostics: readonly Diagnostic[] };

/** Formats one .nnx source. A file with syntax errors is left alone: its diagnostics come back. */
export function formatNnx(text: string): FormatResult {
  const parsed = parse(text);
  if (parsed.result === undefined || parsed.diagnostics.some((d) => d.severity === 'error'))
    return { diagnostics: parsed.diagnostics };
  const program = parsed.result;
  return { text: withSource(text, () => printProgram(program, text, commentsOf(text))) };
}
