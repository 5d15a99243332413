/**
 * Words Chevrotain's syntax errors for people: `expected ')' to close the argument list of
 * 'Dense', found '{'` instead of `Expecting token of type --> RParen <--`. The grammar rule the
 * parser was in and the tokens before the error give the context phrase.
 */
import { EOF, tokenMatcher } from './chevrotain.js';
import type { IParserErrorMessageProvider, IToken, TokenType } from 'chevrotain';
import * as t from './tokens.js';

const DEFINITION = "a definition ('sequential', 'model', 'block', 'train' or 'import')";

/** What the parser expected when no alternative of a rule matched, by rule name. */
const ALTERNATIVES: Readonly<Record<string, string>> = {
  definition: DEFINITION,
  statement: "a statement ('let', 'return', 'repeat', 'name = ...' or a layer)",
  paramDecl: 'a parameter',
  typeExpr: "a type ('int', 'float', 'bool', 'shape' or 'enum(...)')",
  dim: 'a dimension (a whole number or a name)',
  arg: 'an argument',
  unary: 'an expression',
  primary: 'an expression',
};

/** An error message provider that knows the nnx grammar's rule names. */
export class SyntaxMessages implements IParserErrorMessageProvider {
  /** The tokens being parsed; context phrases look back through them for an open bracket. */
  tokens: readonly IToken[] = [];

  buildMismatchTokenMessage(options: {
    expected: TokenType;
    actual: IToken;
    previous: IToken;
    ruleName: string;
  }): string {
    const { expected, actual, previous, ruleName } = options;
    // Keras' and PyTorch's `activation=relu`: nnx names an argument with ':'.
    if (isType(actual, t.Equals) && isType(previous, t.Identifier) && ruleName === 'callSuffix') {
      const header = this.inputHeader(previous);
      if (header !== undefined)
        return `in nnx the input shape goes in the model header, not on a layer: write '${header}'`;
      return `named arguments use ':' in nnx, not '=': write '${previous.image}: …'`;
    }
    // `Dense(10 activation: relu)`: an argument where ')' was expected, on the same line.
    if (
      expected === t.RParen &&
      ruleName === 'callSuffix' &&
      startsArgument(actual) &&
      sameLine(previous, actual)
    ) {
      const open = this.findOpener(this.tokens.indexOf(previous), t.LParen, t.RParen);
      const before = open > 0 ? this.tokens[open - 1] : undefined;
      const of = before !== undefined && isType(before, t.Identifier) ? ` of '${before.image}'` : '';
      return `missing ',' between the arguments${of}: expected ',' or ')', found ${t.describeToken(actual)}`;
    }
    // `[2.5]` stops the shape's dimension list early; saying "expected ']'" would mislead.
    if (ruleName === 'shape' && isType(actual, t.NumberLiteral)) {
      return `expected ${ALTERNATIVES['dim']}, found ${t.describeToken(actual)}`;
    }
    return `expected ${this.expectation(expected, previous, ruleName)}, found ${t.describeToken(actual)}`;
  }

  buildNotAllInputParsedMessage(options: { firstRedundant: IToken; ruleName: string }): string {
    return `expected ${DEFINITION}, found ${t.describeToken(options.firstRedundant)}`;
  }

  buildNoViableAltMessage(options: {
    expectedPathsPerAlt: TokenType[][][];
    actual: IToken[];
    ruleName: string;
  }): string {
    const firsts = options.expectedPathsPerAlt.flatMap((alt) => alt.map((path) => path[0]));
    const what = ALTERNATIVES[options.ruleName] ?? oneOf(firsts);
    return `expected ${what}, found ${t.describeToken(options.actual[0]!)}`;
  }

  buildEarlyExitMessage(options: { expectedIterationPaths: TokenType[][]; actual: IToken[] }): string {
    const firsts = options.expectedIterationPaths.map((path) => path[0]);
    return `expected ${oneOf(firsts)}, found ${t.describeToken(options.actual[0]!)}`;
  }

  /** "')' to close the argument list of 'Dense'": the expected token with why it is needed. */
  private expectation(expected: TokenType, previous: IToken, ruleName: string): string {
    const what = t.describeTokenType(expected);
    const at = this.tokens.indexOf(previous);
    switch (expected) {
      case EOF:
        return DEFINITION;
      case t.RParen:
        return `${what} ${this.closingParen(at, ruleName)}`;
      case t.RBracket:
        return `${what} to close the ${ruleName === 'shape' ? 'shape' : 'list'}`;
      case t.RBrace:
        return `${this.bodyItem(at, ruleName)} or ${what} to close ${this.bodyOf(at, ruleName)}`;
      case t.LBrace:
        return `${what} to open ${this.bodyOf(at, ruleName)}`;
      case t.LParen:
        if (ruleName !== 'sequentialDef' && ruleName !== 'modelDef' && ruleName !== 'blockDef') return what;
        return `${what} to open the ${isType(previous, t.Arrow) ? 'output' : 'input'} list${this.ofDefinition(at)}`;
      case t.LBracket:
        return ruleName === 'shape' ? `a shape such as '[784]'${after(previous)}` : what;
      case t.Identifier:
        return isKeyword(previous) ? `a name${after(previous)}` : what;
      case t.Colon:
        return ruleName === 'tensorDecl'
          ? `${what} and a shape${after(previous)}`
          : `${what}${after(previous)}`;
      case t.Equals:
        return `${what}${after(previous)}`;
      default:
        return what;
    }
  }

  /**
   * For Keras' `input_shape=(784,)` or `input_dim=784`: the header that declares it,
   * `sequential Net(x: [784]) { ... }`, from the tokens around it; undefined for other names.
   */
  private inputHeader(name: IToken): string | undefined {
    if (!['input_shape', 'input_dim', 'batch_input_shape'].includes(name.image)) return undefined;
    const at = this.tokens.indexOf(name);
    const dims: string[] = [];
    for (let i = at + 2; i < this.tokens.length; i++) {
      const token = this.tokens[i]!;
      if (isType(token, t.Integer) || isType(token, t.Identifier)) dims.push(token.image);
      else if (!isType(token, t.Comma) && !isType(token, t.LParen) && !isType(token, t.LBracket)) break;
    }
    if (name.image === 'batch_input_shape') dims.shift();
    const keyword = this.definitionKeywordIndex(at);
    const def = this.tokens[keyword];
    const defName = this.tokens[keyword + 1];
    if (def === undefined || defName === undefined || !isType(defName, t.Identifier)) return undefined;
    const first = this.tokens[keyword + 3];
    const input = first !== undefined && isType(first, t.Identifier) ? first.image : 'x';
    return `${def.image} ${defName.image}(${input}: [${dims.join(', ')}]) { ... }`;
  }

  private closingParen(at: number, ruleName: string): string {
    if (ruleName === 'parenExpr') return "to match the '('";
    if (ruleName === 'typeExpr') return 'to close the choices of the enum';
    if (ruleName === 'blockDef') return `to close the list${this.ofDefinition(at)}`;
    const open = this.findOpener(at, t.LParen, t.RParen);
    const before = open > 0 ? this.tokens[open - 1] : undefined;
    if (ruleName === 'callSuffix') {
      const callee = before !== undefined && isType(before, t.Identifier) ? ` of '${before.image}'` : '';
      return `to close the argument list${callee}`;
    }
    const list = before !== undefined && isType(before, t.Arrow) ? 'output' : 'input';
    return `to close the ${list} list${this.ofDefinition(at)}`;
  }

  private bodyItem(at: number, ruleName: string): string {
    if (ruleName === 'body') {
      const keyword = this.definitionKeyword(at);
      if (keyword !== undefined && isType(keyword, t.Sequential)) return 'a layer';
      return keyword !== undefined && isType(keyword, t.Model) ? 'a statement' : 'a layer or a statement';
    }
    return ruleName === 'trainDef' || ruleName === 'recordExpr' ? 'a field' : 'an item';
  }

  private bodyOf(at: number, ruleName: string): string {
    if (ruleName === 'recordExpr') return 'the record';
    const block = ruleName === 'trainDef' ? 'the train block' : 'the body';
    const prep = ruleName === 'trainDef' ? 'for' : 'of';
    const name = this.definitionName(at);
    return name === undefined ? block : `${block} ${prep} '${name}'`;
  }

  private ofDefinition(at: number): string {
    const name = this.definitionName(at);
    return name === undefined ? '' : ` of '${name}'`;
  }

  /** The name after the nearest definition keyword at or before token `at`. */
  private definitionName(at: number): string | undefined {
    const keyword = this.definitionKeywordIndex(at);
    const name = keyword < 0 ? undefined : this.tokens[keyword + 1];
    return name !== undefined && isType(name, t.Identifier) ? name.image : undefined;
  }

  /** The nearest `sequential`, `model`, `block` or `train` at or before token `at`. */
  private definitionKeyword(at: number): IToken | undefined {
    return this.tokens[this.definitionKeywordIndex(at)];
  }

  private definitionKeywordIndex(at: number): number {
    for (let i = at; i >= 0; i--) {
      if ([t.Sequential, t.Model, t.Block, t.Train].some((k) => isType(this.tokens[i]!, k))) return i;
    }
    return -1;
  }

  /** Index of the unclosed `open` token at or before `at`, skipping balanced pairs; -1 if none. */
  private findOpener(at: number, open: TokenType, close: TokenType): number {
    let depth = 0;
    for (let i = at; i >= 0; i--) {
      const token = this.tokens[i]!;
      if (isType(token, close)) depth++;
      else if (isType(token, open) && depth-- === 0) return i;
    }
    return -1;
  }
}

function isType(token: IToken, type: TokenType): boolean {
  return tokenMatcher(token, type);
}

/** A token an argument can begin with: a name, a number, a string, a list or a group. */
function startsArgument(token: IToken): boolean {
  return [t.Identifier, t.NumberLiteral, t.StringLiteral, t.LBracket, t.LParen].some((k) => isType(token, k));
}

/** On one line: a token on the next line more likely follows a missing ')' than a missing ','. */
function sameLine(a: IToken, b: IToken): boolean {
  return a.startLine !== undefined && a.startLine === b.startLine;
}

function isKeyword(token: IToken): boolean {
  return [t.Sequential, t.Model, t.Block, t.Train, t.Let, t.Return, t.Repeat, t.Import].some((k) =>
    isType(token, k),
  );
}

/** " after 'x'", or nothing when the previous token is virtual (start of file, recovery). */
function after(previous: IToken): string {
  return previous.image === '' || previous.tokenType === EOF ? '' : ` after '${previous.image}'`;
}

/** "'a', 'b' or 'c'" without repeats. */
function oneOf(types: readonly (TokenType | undefined)[]): string {
  const names = [...new Set(types.filter((x) => x !== undefined).map(t.describeTokenType))];
  if (names.length <= 1) return names[0] ?? 'something else';
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}
