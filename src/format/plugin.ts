/**
 * A Prettier plugin for .nnx: `prettier --write model.nnx` (with the plugin in the Prettier
 * config) formats exactly as `nnxc fmt` does. The parser hands Prettier the finished text; a
 * file with syntax errors makes the parser throw, which is how Prettier expects a plugin to
 * refuse input it cannot format.
 */
import { type FormatResult, formatNnx } from './index.js';

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
    parse(text: string): NnxRoot {
      const result: FormatResult = formatNnx(text);
      if ('diagnostics' in result) {
        const first = result.diagnostics[0];
        throw new SyntaxError(first ? `${first.message} [${first.code}]` : 'cannot parse this file');
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
