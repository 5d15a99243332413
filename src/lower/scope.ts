/**
 * What a body can refer to: the definitions visible from its file (its own and those it
 * imports), and inside a block, the values of the block's parameters. Parameter values are
 * substituted into the expressions that use them before those are bound, so `Dense(c)` inside
 * `Residual(c: int)` binds exactly as `Dense(64)` would.
 */
import type { Argument, Expr, LayerDefinition, ParamDecl, ShapeExpr } from '../parser/ast.js';
import { type Diagnostic, type Span, error } from '../util/diagnostics.js';
import { didYouMean } from '../util/suggest.js';
import type { Dim } from '../ir/graph.js';
import { type ArgSchema, type ArgType, type ArgValue, convertArg } from './args.js';
import { ownEntry } from '../util/own.js';

/** A definition usable as a layer, with where it was written and what it can see. */
export interface DefinitionSite {
  readonly def: LayerDefinition;
  /** The file it is defined in; undefined for the file being checked. */
  readonly file: string | undefined;
  /** Every definition visible from that file, by name. */
  readonly scope: Scope;
}

/** Definitions visible from one file, by name. */
export type Scope = ReadonlyMap<string, DefinitionSite>;

/** The values of a block instance's parameters, by name. */
export type Constants = ReadonlyMap<string, ArgValue>;

/** The parameter types a block may declare, and the argument type each binds as. */
const PARAM_TYPES: Readonly<Record<string, ArgType>> = {
  int: 'int',
  float: 'float',
  bool: 'bool',
  shape: 'shape',
  enum: 'name',
};

/**
 * The argument schema of a block's parameters. Problems with the declarations themselves (an
 * unknown type, a default of the wrong kind) are diagnostics; the schema then omits that entry.
 */
export function blockSchema(
  params: readonly ParamDecl[],
  blockName: string,
  diags: Diagnostic[],
): ArgSchema[] {
  const schema: ArgSchema[] = [];
  for (const p of params) {
    const s = paramSchema(p, blockName, diags);
    if (s) schema.push(s);
  }
  return schema;
}

function paramSchema(p: ParamDecl, blockName: string, diags: Diagnostic[]): ArgSchema | undefined {
  if (p.type === undefined) {
    diags.push(
      error(
        'E0105',
        p.span,
        `parameter \`${p.name.name}\` of ${blockName} needs a type, such as \`${p.name.name}: int\``,
      ),
    );
    return undefined;
  }
  const typeName = p.type.name.name;
  const type = ownEntry(PARAM_TYPES, typeName);
  if (type === undefined) {
    const hint = didYouMean(typeName, Object.keys(PARAM_TYPES));
    diags.push(
      error('E0101', p.type.name.span, `unknown parameter type \`${typeName}\`${hint}`, [
        { message: 'the types are: int, float, bool, shape, enum(a, b, ...)' },
      ]),
    );
    return undefined;
  }
  if (typeName === 'enum' && p.type.choices.length === 0) {
    diags.push(error('E0104', p.type.span, 'an enum needs its choices, as in `enum(relu, tanh)`'));
    return undefined;
  }
  const base: ArgSchema = {
    name: p.name.name,
    type,
    ...(typeName === 'enum' && { choices: p.type.choices.map((c) => c.name) }),
  };
  if (p.default === undefined) return base;
  const value = convertArg(blockName, base, p.default, diags);
  return value === undefined ? undefined : { ...base, default: value };
}

/** An expression with the block's parameters replaced by their values, constants folded. */
export function substitute(e: Expr, constants: Constants): Expr {
  if (constants.size === 0) return e;
  switch (e.kind) {
    case 'name': {
      const value = constants.get(e.name);
      return value === undefined ? e : (literal(value, e.span) ?? e);
    }
    case 'negate': {
      const operand = substitute(e.operand, constants);
      if (operand.kind === 'number') return { ...operand, value: -operand.value, span: e.span };
      return { ...e, operand };
    }
    case 'binary':
      return foldBinary({ ...e, left: substitute(e.left, constants), right: substitute(e.right, constants) });
    case 'list':
      return { ...e, items: e.items.map((x) => substitute(x, constants)) };
    case 'call':
      return { ...e, args: substituteArgs(e.args, constants) };
    default:
      return e;
  }
}

export function substituteArgs(args: readonly Argument[], constants: Constants): Argument[] {
  return args.map((a) => ({ ...a, value: substitute(a.value, constants) }));
}

function foldBinary(e: Extract<Expr, { kind: 'binary' }>): Expr {
  const { left, right } = e;
  if (left.kind !== 'number' || right.kind !== 'number') return e;
  const value = {
    '+': left.value + right.value,
    '-': left.value - right.value,
    '*': left.value * right.value,
    '/': left.value / right.value,
  }[e.op];
  const isInteger = left.isInteger && right.isInteger && Number.isInteger(value);
  return { kind: 'number', value, isInteger, span: e.span };
}

/** A parameter value written back as the expression it could have been typed as. */
function literal(value: ArgValue, span: Span): Expr | undefined {
  if (typeof value === 'number') return { kind: 'number', value, isInteger: Number.isInteger(value), span };
  if (typeof value === 'boolean') return { kind: 'name', name: String(value), span };
  if (typeof value === 'string') return { kind: 'name', name: value, span };
  if (Array.isArray(value) && value.every((v) => typeof v === 'number'))
    return {
      kind: 'list',
      items: value.map((v: number) => ({ kind: 'number', value: v, isInteger: true, span })),
      span,
    };
  return undefined;
}

/**
 * The dims of a declared shape, batch excluded. Inside a block a dim may name an `int`
 * parameter (`x: [n]`), and a `shape` parameter may stand for a whole shape elsewhere.
 */
export function declaredDims(shape: ShapeExpr, constants: Constants): Dim[] {
  return shape.dims.map((d) => {
    if (d.kind === 'dim-int') return d.value;
    const value = constants.get(d.name);
    return typeof value === 'number' ? value : d.name;
  });
}
