/**
 * The typed AST of an .nnx file. Every node carries the span of the source it came from, so
 * later stages can point at the text that caused a diagnostic.
 */
import type { Span } from '../util/diagnostics.js';

export interface Identifier {
  readonly kind: 'identifier';
  readonly name: string;
  readonly span: Span;
}

/** A dimension in a shape: a fixed size or a symbolic name (`T`). */
export type DimExpr =
  | { readonly kind: 'dim-int'; readonly value: number; readonly span: Span }
  | { readonly kind: 'dim-name'; readonly name: string; readonly span: Span };

/** `[784]`, `[T, 16]`: the per-sample shape; the batch dimension is implicit. */
export interface ShapeExpr {
  readonly kind: 'shape';
  readonly dims: readonly DimExpr[];
  readonly span: Span;
}

/** `x: [784]` in a model's input or output list. */
export interface TensorDecl {
  readonly kind: 'tensor-decl';
  readonly name: Identifier;
  readonly shape: ShapeExpr;
  readonly span: Span;
}

export type Expr = NumberLiteral | StringLiteral | NameRef | ListExpr | CallExpr | BinaryExpr | NegateExpr;

export interface NumberLiteral {
  readonly kind: 'number';
  readonly value: number;
  /** True when written without a decimal point or exponent (`10`, not `10.0` or `1e1`). */
  readonly isInteger: boolean;
  readonly span: Span;
}

export interface StringLiteral {
  readonly kind: 'string';
  readonly value: string;
  readonly span: Span;
}

export interface NameRef {
  readonly kind: 'name';
  readonly name: string;
  readonly span: Span;
}

export interface ListExpr {
  readonly kind: 'list';
  readonly items: readonly Expr[];
  readonly span: Span;
}

/** An argument: positional (`10`) or named (`activation: relu`). */
export interface Argument {
  readonly kind: 'argument';
  readonly name?: Identifier;
  readonly value: Expr;
  readonly span: Span;
}

/** `Dense(10, activation: relu)`, and calls of calls: `Dense(1)(x)`. */
export interface CallExpr {
  readonly kind: 'call';
  readonly callee: Expr;
  readonly args: readonly Argument[];
  readonly span: Span;
}

export type BinaryOperator = '+' | '-' | '*' | '/';

export interface BinaryExpr {
  readonly kind: 'binary';
  readonly op: BinaryOperator;
  readonly left: Expr;
  readonly right: Expr;
  /** Span of the operator token, where a shape mismatch is reported. */
  readonly opSpan: Span;
  readonly span: Span;
}

export interface NegateExpr {
  readonly kind: 'negate';
  readonly operand: Expr;
  readonly span: Span;
}

/** `h = Dense(10)(x)` in a functional model body. */
export interface AssignStatement {
  readonly kind: 'assign';
  readonly target: Identifier;
  readonly value: Expr;
  readonly span: Span;
}

/** `let enc = Dense(64)`: names a layer instance; calling it twice shares its weights. */
export interface LetStatement {
  readonly kind: 'let';
  readonly target: Identifier;
  readonly value: Expr;
  readonly span: Span;
}

export interface ReturnStatement {
  readonly kind: 'return';
  readonly value: Expr;
  readonly span: Span;
}

export type Statement = AssignStatement | LetStatement | ReturnStatement;

/** `sequential Name(x: [784]) { Dense(256) ... }`: a stack of layers applied in order. */
export interface SequentialDef {
  readonly kind: 'sequential';
  readonly name: Identifier;
  readonly inputs: readonly TensorDecl[];
  readonly layers: readonly Expr[];
  readonly span: Span;
}

/** `model Name(a: [2], b: [2]) -> (out: [1]) { ... }`: a functional graph. */
export interface ModelDef {
  readonly kind: 'model';
  readonly name: Identifier;
  readonly inputs: readonly TensorDecl[];
  readonly outputs: readonly TensorDecl[];
  readonly body: readonly Statement[];
  readonly span: Span;
}

/** `loss: binary_crossentropy` inside a train block. */
export interface TrainField {
  readonly kind: 'train-field';
  readonly name: Identifier;
  readonly value: Expr;
  readonly span: Span;
}

/** `train Name { data: xor, loss: ..., optimizer: SGD(lr: 0.1) }`. */
export interface TrainDef {
  readonly kind: 'train';
  readonly model: Identifier;
  readonly fields: readonly TrainField[];
  readonly span: Span;
}

export type Definition = SequentialDef | ModelDef | TrainDef;

export interface Program {
  readonly kind: 'program';
  readonly definitions: readonly Definition[];
  readonly span: Span;
}
