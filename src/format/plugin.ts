/**
 * A Prettier plugin for .nnx: `prettier --write model.nnx` (with `"plugins":
 * ["nnx/prettier-plugin"]` in the Prettier config) formats as `nnxc fmt` does, at Prettier's
 * `printWidth`, `tabWidth` and `useTabs`. The parser hands Prettier the finished text; a file
 * with syntax errors makes the parser throw a SyntaxError carrying its location (`loc`), which
 * Prettier reports as `file: message (line:col)` with the source line instead of a stack trace.
 */
import { lineColumn } from '../util/diagnostics.js';
import { type FormatResult, formatNnx } from './index.js';

/** The options Prettier passes a parser that this one reads. */
interface PrettierOptions {
  readonly printWidth?: number;
  readonly tabWidth?: number;
  readonly useTabs?: boolean;
  readonly filepath?: string;
}

/** A syntax error as Prettier reports one: message, and where (1-based line and column). */
class NnxSyntaxError extends SyntaxError {
  constructor(
    message: string,
    readonly loc: { readonly start: { readonly line: number; readonly column: number } },
  ) {
    super(message);
  }
}

/** What the parser gives the printer: the formatted text, and the source's extent for Prettier. */
interface NnxRoot {
  readonly type: 'nnx-root';
  readonly formatted: string;
  readonly start: number;
  readonly end: number;
}

/** The languages this plugin formats. */
export const languages = [
  { name: 'nnx', parsers: ['nnx'], extensions: ['.nnx'], vscodeLanguageIds: ['nnx'] },
];

/** The `nnx` parser: formats up front, so printing is a lookup. */
export const parsers = {
  nnx: {
    astFormat: 'nnx-ast',
    parse(text: string, options: PrettierOptions = {}): NnxRoot {
      const { printWidth, tabWidth, useTabs } = options;
      const result: FormatResult = formatNnx(text, { printWidth, tabWidth, useTabs });
      if ('diagnostics' in result) {
        const first = result.diagnostics.find((d) => d.severity === 'error') ?? result.diagnostics[0];
        if (!first) throw new SyntaxError('cannot parse this file');
        const at = lineColumn(text, first.span.start);
        const where = `${options.filepath ?? '<input>'}:${at.line}:${at.column}`;
        throw new NnxSyntaxError(`${where}: ${first.message} [${first.code}]`, { start: at });
      }
      return { type: 'nnx-root', formatted: result.text, start: 0, end: text.length };
    },
    locStart: (node: NnxRoot) => node.start,
    locEnd: (node: NnxRoot) => node.end,
  },
};

/** The `nnx-ast` printer. */
export const printers = {
  'nnx-ast': {
    print(path: { node: NnxRoot }): string {
      return path.node.formatted;
    },
  },
};

export default { languages, parsers, printers };
