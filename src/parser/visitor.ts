/**
 * CST → AST. One method per grammar rule (checked by `validateVisitor()`), each returning its
 * AST node. After error recovery the CST may lack pieces; a node whose required parts are
 * missing becomes `undefined` and its parent drops it, so the partial AST is still well typed.
 */
import { tokenMatcher } from './chevrotain.js';
import type { CstElement, CstNode, IToken } from 'chevrotain';
import { joinSpans, type Span } from '../util/diagnostics.js';
import type * as ast from './ast.js';
import { parser } from './parser.js';
import * as t from './tokens.js';

type Children = Record<string, CstElement[] | undefined>;

/** A call's argument list, before it is joined to its callee. */
interface CallSuffix {
  readonly args: readonly ast.Argument[];
  readonly span: Span;
}

const BaseVisitor = parser.getBaseCstVisitorConstructor();

class AstBuilder extends BaseVisitor {
  constructor() {
    super();
    this.validateVisitor();
  }

  /** The program spans the whole file, which only `buildAst` knows; it fills the span in. */
  program(ctx: Children): ast.Program {
    return {
      kind: 'program',
      imports: this.all<ast.ImportDecl>(ctx, 'importDecl'),
      definitions: this.all<ast.Definition>(ctx, 'definition'),
      span: spanOf(ctx) ?? { start: 0, end: 0 },
    };
  }

  importDecl(ctx: Children): ast.ImportDecl | undefined {
    const path = token(ctx, 'StringLiteral');
    const span = spanOf(ctx);
    if (path === undefined || span === undefined) return undefined;
    return { kind: 'import', path: stringLiteral(path), span };
  }

  definition(ctx: Children): ast.Definition | undefined {
    return (
      this.one(ctx, 'sequentialDef') ??
      this.one(ctx, 'modelDef') ??
      this.one(ctx, 'blockDef') ??
      this.one(ctx, 'trainDef') ??
      this.one(ctx, 'ganDef')
    );
  }

  sequentialDef(ctx: Children): ast.SequentialDef | undefined {
    const name = identifier(ctx);
    const span = spanOf(ctx);
    if (name === undefined || span === undefined) return undefined;
    const inputs = this.one<ast.TensorDecl[]>(ctx, 'inputs') ?? [];
    return { kind: 'sequential', name, inputs, layers: this.one<ast.Statement[]>(ctx, 'body') ?? [], span };
  }

  modelDef(ctx: Children): ast.ModelDef | undefined {
    const name = identifier(ctx);
    const span = spanOf(ctx);
    if (name === undefined || span === undefined) return undefined;
    const inputs = this.one<ast.TensorDecl[]>(ctx, 'inputs') ?? [];
    const outputs = this.one<ast.TensorDecl[]>(ctx, 'outputs') ?? [];
    return { kind: 'model', name, inputs, outputs, body: this.one<ast.Statement[]>(ctx, 'body') ?? [], span };
  }

  blockDef(ctx: Children): ast.BlockDef | undefined {
    const name = identifier(ctx);
    const span = spanOf(ctx);
    if (name === undefined || span === undefined) return undefined;
    const first = this.one<ast.ParamDecl[]>(ctx, 'first') ?? [];
    const second = this.one<ast.ParamDecl[]>(ctx, 'second');
    const body = this.one<ast.Statement[]>(ctx, 'body') ?? [];
    if (second !== undefined)
      return { kind: 'block', name, params: first, inputs: second, implicitInput: false, body, span };
    const isParams = first.some((p) => p.type !== undefined);
    return isParams
      ? { kind: 'block', name, params: first, inputs: [], implicitInput: true, body, span }
      : { kind: 'block', name, params: [], inputs: first, implicitInput: false, body, span };
  }

  paramDecls(ctx: Children): ast.ParamDecl[] {
    return this.all<ast.ParamDecl>(ctx, 'paramDecl');
  }

  paramDecl(ctx: Children): ast.ParamDecl | undefined {
    const name = identifier(ctx);
    const span = spanOf(ctx);
    if (name === undefined || span === undefined) return undefined;
    const type = this.one<ast.TypeExpr>(ctx, 'typeExpr');
    const shape = this.one<ast.ShapeExpr>(ctx, 'shape');
    const value = this.one<ast.Expr>(ctx, 'expr');
    return {
      kind: 'param-decl',
      name,
      ...(type && { type }),
      ...(shape && { shape }),
      ...(value && { default: value }),
      span,
    };
  }

  typeExpr(ctx: Children): ast.TypeExpr | undefined {
    const name = identifier(ctx);
    const span = spanOf(ctx);
    if (name === undefined || span === undefined) return undefined;
    const choices = tokens(ctx, 'choice').map((c): ast.Identifier => ({
      kind: 'identifier',
      name: c.image,
      span: tokenSpan(c),
    }));
    return { kind: 'type', name, choices, span };
  }

  body(ctx: Children): ast.Statement[] {
    return this.all<ast.Statement>(ctx, 'statement');
  }

  tensorDecls(ctx: Children): ast.TensorDecl[] {
    return this.all<ast.TensorDecl>(ctx, 'tensorDecl');
  }

  tensorDecl(ctx: Children): ast.TensorDecl | undefined {
    const name = identifier(ctx);
    const shape = this.one<ast.ShapeExpr>(ctx, 'shape');
    const span = spanOf(ctx);
    if (name === undefined || shape === undefined || span === undefined) return undefined;
    return { kind: 'tensor-decl', name, shape, span };
  }

  shape(ctx: Children): ast.ShapeExpr | undefined {
    const span = spanOf(ctx);
    if (span === undefined || token(ctx, 'LBracket') === undefined) return undefined;
    return { kind: 'shape', dims: this.all<ast.DimExpr>(ctx, 'dim'), span };
  }

  dim(ctx: Children): ast.DimExpr | undefined {
    const sizes = tokens(ctx, 'Integer');
    if (sizes.length === 1)
      return { kind: 'dim-int', value: Number(sizes[0]!.image), span: tokenSpan(sizes[0]!) };
    if (sizes.length > 1) {
      // A product of sizes is folded here; the size checks of lowering see its value.
      const factors = sizes.map((size) => Number(size.image));
      const span = { start: tokenSpan(sizes[0]!).start, end: tokenSpan(sizes.at(-1)!).end };
      return { kind: 'dim-int', value: factors.reduce((a, b) => a * b, 1), factors, span };
    }
    const name = token(ctx, 'Identifier');
    return name && { kind: 'dim-name', name: name.image, span: tokenSpan(name) };
  }

  statement(ctx: Children): ast.Statement | undefined {
    return (
      this.one(ctx, 'letStatement') ??
      this.one(ctx, 'returnStatement') ??
      this.one(ctx, 'repeatStatement') ??
      this.one(ctx, 'assignStatement') ??
      this.one(ctx, 'expr')
    );
  }

  letStatement(ctx: Children): ast.LetStatement | undefined {
    const target = identifier(ctx);
    const value = this.one<ast.Expr>(ctx, 'expr');
    const span = spanOf(ctx);
    if (target === undefined || value === undefined || span === undefined) return undefined;
    return { kind: 'let', target, value, span };
  }

  returnStatement(ctx: Children): ast.ReturnStatement | undefined {
    const values = this.all<ast.Expr>(ctx, 'expr');
    const span = spanOf(ctx);
    if (values.length === 0 || span === undefined) return undefined;
    return { kind: 'return', values, span };
  }

  repeatStatement(ctx: Children): ast.RepeatStatement | undefined {
    const span = spanOf(ctx);
    const count = this.one<ast.Expr>(ctx, 'expr');
    if (count === undefined || span === undefined) return undefined;
    return { kind: 'repeat', count, body: this.one<ast.Statement[]>(ctx, 'body') ?? [], span };
  }

  assignStatement(ctx: Children): ast.AssignStatement | undefined {
    const targets = tokens(ctx, 'Identifier').map((c): ast.Identifier => ({
      kind: 'identifier',
      name: c.image,
      span: tokenSpan(c),
    }));
    const value = this.one<ast.Expr>(ctx, 'expr');
    const span = spanOf(ctx);
    if (targets.length === 0 || value === undefined || span === undefined) return undefined;
    return { kind: 'assign', targets, value, span };
  }

  trainDef(ctx: Children): ast.TrainDef | undefined {
    const model = identifier(ctx);
    const span = spanOf(ctx);
    if (model === undefined || span === undefined) return undefined;
    return { kind: 'train', model, fields: this.fieldsOf(ctx), span };
  }

  ganDef(ctx: Children): ast.GanDef | undefined {
    const name = identifier(ctx);
    const span = spanOf(ctx);
    if (name === undefined || span === undefined) return undefined;
    return { kind: 'gan', name, fields: this.fieldsOf(ctx), span };
  }

  /** The fields of a train or gan block: its record body's. */
  private fieldsOf(ctx: Children): readonly ast.TrainField[] {
    return this.one<ast.RecordExpr>(ctx, 'recordExpr')?.fields ?? [];
  }

  trainField(ctx: Children): ast.TrainField | undefined {
    const name = identifier(ctx);
    const value = this.one<ast.Expr>(ctx, 'expr') ?? this.one<ast.Expr>(ctx, 'recordExpr');
    const span = spanOf(ctx);
    if (name === undefined || value === undefined || span === undefined) return undefined;
    return { kind: 'train-field', name, value, span };
  }

  expr(ctx: Children): ast.Expr | undefined {
    return this.one(ctx, 'additive');
  }

  additive(ctx: Children): ast.Expr | undefined {
    return this.binaryChain(ctx, 'multiplicative', 'AdditiveOperator');
  }

  multiplicative(ctx: Children): ast.Expr | undefined {
    return this.binaryChain(ctx, 'unary', 'MultiplicativeOperator');
  }

  unary(ctx: Children): ast.Expr | undefined {
    const minus = token(ctx, 'Minus');
    if (minus === undefined) return this.one(ctx, 'postfix');
    const operand = this.one<ast.Expr>(ctx, 'unary');
    const span = spanOf(ctx);
    if (operand === undefined || span === undefined) return undefined;
    return { kind: 'negate', operand, span };
  }

  postfix(ctx: Children): ast.Expr | undefined {
    let callee = this.one<ast.Expr>(ctx, 'primary');
    const start = nodeSpan(nodes(ctx, 'primary')[0]);
    if (callee === undefined || start === undefined) return undefined;
    for (const node of nodes(ctx, 'callSuffix')) {
      const suffix = this.visit(node) as CallSuffix | undefined;
      if (suffix === undefined) break;
      callee = {
        kind: 'call',
        callee,
        args: suffix.args,
        span: { start: start.start, end: suffix.span.end },
      };
    }
    return callee;
  }

  callSuffix(ctx: Children): CallSuffix | undefined {
    const span = spanOf(ctx);
    return span && { args: this.one<ast.Argument[]>(ctx, 'args') ?? [], span };
  }

  args(ctx: Children): ast.Argument[] {
    return this.all<ast.Argument>(ctx, 'arg');
  }

  arg(ctx: Children): ast.Argument | undefined {
    const value = this.one<ast.Expr>(ctx, 'expr');
    const span = spanOf(ctx);
    if (value === undefined || span === undefined) return undefined;
    // Only the named alternative has a name token of its own; a positional name is inside `expr`.
    const name = identifier(ctx);
    return name ? { kind: 'argument', name, value, span } : { kind: 'argument', value, span };
  }

  primary(ctx: Children): ast.Expr | undefined {
    const number = token(ctx, 'NumberLiteral');
    if (number !== undefined) {
      const isInteger = tokenMatcher(number, t.Integer);
      return { kind: 'number', value: Number(number.image), isInteger, span: tokenSpan(number) };
    }
    const string = token(ctx, 'StringLiteral');
    if (string !== undefined) return stringLiteral(string);
    const name = token(ctx, 'Identifier');
    if (name !== undefined) return { kind: 'name', name: name.image, span: tokenSpan(name) };
    return this.one(ctx, 'parenExpr') ?? this.one(ctx, 'listExpr');
  }

  recordExpr(ctx: Children): ast.RecordExpr | undefined {
    const span = spanOf(ctx);
    return span && { kind: 'record', fields: this.all<ast.TrainField>(ctx, 'trainField'), span };
  }

  /** Parentheses group (the inner expression keeps its own span); with a comma they make a tuple, a list. */
  parenExpr(ctx: Children): ast.Expr | undefined {
    if ((ctx['Comma'] ?? []).length === 0) return this.one(ctx, 'expr');
    const span = spanOf(ctx);
    return span && { kind: 'list', items: this.all<ast.Expr>(ctx, 'expr'), span };
  }

  listExpr(ctx: Children): ast.ListExpr | undefined {
    const span = spanOf(ctx);
    return span && { kind: 'list', items: this.all<ast.Expr>(ctx, 'expr'), span };
  }

  /** Folds `a op b op c` to the left; each node spans its operands' CST, parentheses included. */
  private binaryChain(ctx: Children, operandRule: string, operatorToken: string): ast.Expr | undefined {
    const operands = nodes(ctx, operandRule);
    const operators = ctx[operatorToken] ?? [];
    let left = operands[0] && (this.visit(operands[0]) as ast.Expr | undefined);
    const start = nodeSpan(operands[0]);
    if (left === undefined || start === undefined) return undefined;
    for (const [i, op] of operators.entries()) {
      const right = operands[i + 1] && (this.visit(operands[i + 1]!) as ast.Expr | undefined);
      const end = nodeSpan(operands[i + 1]);
      if (right === undefined || end === undefined || !isToken(op)) break;
      const opText = op.image as ast.BinaryOperator;
      left = { kind: 'binary', op: opText, left, right, opSpan: tokenSpan(op), span: joinSpans(start, end) };
    }
    return left;
  }

  /** The AST of the first child node under `key`, if it exists and could be built. */
  private one<T>(ctx: Children, key: string): T | undefined {
    const node = nodes(ctx, key)[0];
    return node === undefined ? undefined : (this.visit(node) as T | undefined);
  }

  /** The ASTs of every child node under `key`, skipping those recovery left unbuildable. */
  private all<T>(ctx: Children, key: string): T[] {
    return nodes(ctx, key)
      .map((node) => this.visit(node) as T | undefined)
      .filter((x) => x !== undefined);
  }
}

function isToken(element: CstElement): element is IToken {
  return 'image' in element;
}

/** A real token under `key`; tokens invented by recovery (no text, no offsets) do not count. */
function token(ctx: Children, key: string): IToken | undefined {
  const element = ctx[key]?.[0];
  if (element === undefined || !isToken(element) || element.isInsertedInRecovery) return undefined;
  return Number.isFinite(element.startOffset) ? element : undefined;
}

/** Every real token under `key`, in source order. */
function tokens(ctx: Children, key: string): IToken[] {
  return (ctx[key] ?? []).filter(
    (element): element is IToken =>
      isToken(element) && !element.isInsertedInRecovery && Number.isFinite(element.startOffset),
  );
}

function stringLiteral(token: IToken): ast.StringLiteral {
  return { kind: 'string', value: token.image.slice(1, -1), span: tokenSpan(token) };
}

function nodes(ctx: Children, key: string): CstNode[] {
  return (ctx[key] ?? []).filter((element): element is CstNode => !isToken(element));
}

function identifier(ctx: Children): ast.Identifier | undefined {
  const name = token(ctx, 'Identifier');
  return name && { kind: 'identifier', name: name.image, span: tokenSpan(name) };
}

function tokenSpan(token: IToken): Span {
  return { start: token.startOffset, end: token.startOffset + token.image.length };
}

/** A node's span from its tracked location; undefined when it holds no real token. */
function nodeSpan(node: CstNode | undefined): Span | undefined {
  const location = node?.location;
  if (location === undefined || !Number.isFinite(location.startOffset)) return undefined;
  if (!Number.isFinite(location.endOffset)) return undefined;
  return { start: location.startOffset, end: location.endOffset! + 1 };
}

/** The span covering every real token and child node of a rule's children. */
function spanOf(ctx: Children): Span | undefined {
  let span: Span | undefined;
  for (const elements of Object.values(ctx)) {
    for (const element of elements ?? []) {
      const part = isToken(element) ? realTokenSpan(element) : nodeSpan(element);
      if (part !== undefined) span = span === undefined ? part : joinSpans(span, part);
    }
  }
  return span;
}

function realTokenSpan(token: IToken): Span | undefined {
  return token.isInsertedInRecovery || !Number.isFinite(token.startOffset) ? undefined : tokenSpan(token);
}

/** Builds the AST of a whole file from the parser's (possibly partial) CST. */
export function buildAst(cst: CstNode, textLength: number): ast.Program {
  const program = builder.visit(cst) as ast.Program;
  return { ...program, span: { start: 0, end: textLength } };
}

/** One builder for every parse: it holds no state, and `validateVisitor()` runs once. */
const builder = new AstBuilder();
