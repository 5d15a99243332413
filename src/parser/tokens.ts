/**
 * The lexer's tokens. Every token type lives here, in matching order, so the grammar in
 * `parser.ts` only names them. Labels are what error messages and railroad diagrams show.
 */
import { createToken, EOF, Lexer } from './chevrotain.js';
import type { IToken, TokenType } from 'chevrotain';

/** Newlines are plain whitespace: statements end where the grammar says, never at a line break. */
export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED });

/**
 * `# ...` and `// ...` to the end of the line. Listed before `Slash` so `//` is not two divisions.
 * Comments go to their own lexer group: the parser never sees them, the formatter keeps them.
 */
export const Comment = createToken({ name: 'Comment', pattern: /(?:#|\/\/)[^\r\n]*/, group: 'comments' });

export const Identifier = createToken({
  name: 'Identifier',
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
  label: 'identifier',
});

/** A keyword that gives way to a longer identifier, so `modelA` and `trainer` stay names. */
function keyword(name: string, word: string): TokenType {
  return createToken({ name, pattern: new RegExp(word), longer_alt: Identifier, label: `'${word}'` });
}

export const Sequential = keyword('Sequential', 'sequential');
export const Model = keyword('Model', 'model');
export const Train = keyword('Train', 'train');
export const Let = keyword('Let', 'let');
export const Return = keyword('Return', 'return');
export const Block = keyword('Block', 'block');
export const Repeat = keyword('Repeat', 'repeat');
export const Import = keyword('Import', 'import');
export const Gan = keyword('Gan', 'gan');

/** Category for both number spellings; expressions accept either, shapes only `Integer`. */
export const NumberLiteral = createToken({ name: 'NumberLiteral', pattern: Lexer.NA, label: 'number' });

/** `0.5`, `1e-3`, `2.5E+4`: needs a fraction or an exponent, so it must be tried before `Integer`. */
export const Float = createToken({
  name: 'Float',
  pattern: /\d+(?:\.\d+(?:[eE][+-]?\d+)?|[eE][+-]?\d+)/,
  categories: [NumberLiteral],
  label: 'number',
});

export const Integer = createToken({
  name: 'Integer',
  pattern: /\d+/,
  categories: [NumberLiteral],
  label: 'whole number',
});

/**
 * Double- or single-quoted (Keras' `'adam'`), on one line, without escapes: strings name files,
 * and where a name is expected they are read as the name they spell (src/lower/spellings.ts).
 */
export const StringLiteral = createToken({
  name: 'StringLiteral',
  pattern: /"[^"\r\n]*"|'[^'\r\n]*'/,
  label: 'string',
});

/**
 * A string missing its closing quote. It goes to its own lexer group, so the parser never sees
 * it and the lexer stage reports one clear diagnostic instead of a stray `"`.
 */
export const UnterminatedString = createToken({
  name: 'UnterminatedString',
  pattern: /"[^"\r\n]*|'[^'\r\n]*/,
  group: 'unterminated',
});

function punctuation(name: string, text: string): TokenType {
  const escaped = text.replace(/[-[\]{}()*+/]/g, '\\$&');
  return createToken({ name, pattern: new RegExp(escaped), label: `'${text}'` });
}

export const LParen = punctuation('LParen', '(');
export const RParen = punctuation('RParen', ')');
export const LBracket = punctuation('LBracket', '[');
export const RBracket = punctuation('RBracket', ']');
export const LBrace = punctuation('LBrace', '{');
export const RBrace = punctuation('RBrace', '}');
export const Comma = punctuation('Comma', ',');
export const Semicolon = punctuation('Semicolon', ';');
export const Colon = punctuation('Colon', ':');
export const Equals = punctuation('Equals', '=');
/** Listed before `Minus` so `->` is one token. */
export const Arrow = punctuation('Arrow', '->');

/** Categories let the grammar say "an additive operator" once; the visitor reads the image. */
export const AdditiveOperator = createToken({ name: 'AdditiveOperator', pattern: Lexer.NA });
export const MultiplicativeOperator = createToken({ name: 'MultiplicativeOperator', pattern: Lexer.NA });

export const Plus = createToken({
  name: 'Plus',
  pattern: /\+/,
  categories: [AdditiveOperator],
  label: "'+'",
});
export const Minus = createToken({
  name: 'Minus',
  pattern: /-/,
  categories: [AdditiveOperator],
  label: "'-'",
});
export const Star = createToken({
  name: 'Star',
  pattern: /\*/,
  categories: [MultiplicativeOperator],
  label: "'*'",
});
export const Slash = createToken({
  name: 'Slash',
  pattern: /\//,
  categories: [MultiplicativeOperator],
  label: "'/'",
});

/** Every token type in matching order: the lexer tries them first to last. */
export const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  Sequential,
  Model,
  Train,
  Let,
  Return,
  Block,
  Repeat,
  Import,
  Gan,
  Identifier,
  NumberLiteral,
  Float,
  Integer,
  StringLiteral,
  UnterminatedString,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Semicolon,
  Colon,
  Equals,
  Arrow,
  AdditiveOperator,
  MultiplicativeOperator,
  Plus,
  Minus,
  Star,
  Slash,
];

/**
 * The one lexer instance. Full position tracking gives tokens their end offsets, which the
 * parser's CST node locations (and so every AST span) are built from.
 */
export const lexer = new Lexer(allTokens, { positionTracking: 'full' });

/** How a message names a token type: `')'`, `'model'`, `an identifier`, `a number`. */
export function describeTokenType(type: TokenType): string {
  if (type === EOF) return 'the end of the file';
  const label = type.LABEL ?? type.name;
  if (label.startsWith("'")) return label;
  return `${/^[aeiou]/.test(label) ? 'an' : 'a'} ${label}`;
}

/** How a message names a token the parser found: its text in quotes, or the end of the file. */
export function describeToken(token: IToken): string {
  if (token.tokenType === EOF) return 'the end of the file';
  if (token.tokenType === StringLiteral) return `the string ${token.image}`;
  return `'${token.image}'`;
}
