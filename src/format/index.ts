/**
 * `nnxc fmt`: canonical formatting of .nnx files. {@link formatNnx} is the formatter itself;
 * `plugin.ts` wraps it as a Prettier plugin so `prettier --write` and editors format .nnx too.
 */
import { parse } from '../parser/index.js';
import { lexer } from '../parser/tokens.js';
import type { Diagnostic } from '../util/diagnostics.js';
import { canonicalSpellings } from './spellings.js';
import { DEFAULT_LAYOUT, type LayoutOptions, printProgram, type SourceComment, withSource } from './print.js';

export { DEFAULT_LAYOUT, type LayoutOptions };

/** The comments of a source, in order (the lexer keeps them in their own group). */
export function commentsOf(text: string): SourceComment[] {
  const comments = lexer.tokenize(text).groups['comments'] ?? [];
  return comments.map((t) => ({ text: t.image.trimEnd(), start: t.startOffset }));
}

/** The formatted text, or the syntax errors that prevent formatting. */
export type FormatResult = { readonly text: string } | { readonly diagnostics: readonly Diagnostic[] };

/**
 * Formats one .nnx source (`options`: Prettier's printWidth, tabWidth and useTabs). A file with
 * syntax errors is left alone: its diagnostics come back.
 */
export function formatNnx(text: string, options: Partial<LayoutOptions> = {}): FormatResult {
  const parsed = parse(text);
  if (parsed.result === undefined || parsed.diagnostics.some((d) => d.severity === 'error'))
    return { diagnostics: parsed.diagnostics };
  // Keras' string names become the nnx names they stand for (`'adam'` → `Adam`).
  const program = canonicalSpellings(parsed.result);
  const layout = { ...DEFAULT_LAYOUT, ...definedOnly(options) };
  return { text: withSource(text, () => printProgram(program, text, commentsOf(text)), layout) };
}

function definedOnly(options: Partial<LayoutOptions>): Partial<LayoutOptions> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}
