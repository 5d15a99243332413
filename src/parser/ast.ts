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
  | {
      readonly kind: 'dim-int';
      readonly value: number;
      /** The factors as written (`28 * 28`), when the size is a product; the formatter keeps them. */
      readonly factors?: readonly number[];
      readonly span: Span;
    }
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

export type Expr =
  NumberLiteral | StringLiteral | NameRef | ListExpr | RecordExpr | CallExpr | BinaryExpr | NegateExpr;

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

/** `{ digit: mse, parity: binary_crossentropy }`: named values, used in train blocks. */
export interface RecordExpr {
  readonly kind: 'record';
  readonly fields: readonly TrainField[];
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

/** `h = Dense(10)(x)` in a functional body; `a, b = Split()(x)` takes several outputs. */
export interface AssignStatement {
  readonly kind: 'assign';
  readonly targets: readonly Identifier[];
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

/** `return x`, or `return a, b` from a block with several outputs. */
export interface ReturnStatement {
  readonly kind: 'return';
  readonly values: readonly Expr[];
  readonly span: Span;
}

/** `repeat 6 { ... }`: the body unrolled; each copy creates its own layers. */
export interface RepeatStatement {
  readonly kind: 'repeat';
  /** A constant expression: `6`, an `int` block parameter, `depth - 1`. */
  readonly count: Expr;
  readonly body: readonly Statement[];
  readonly span: Span;
}

/**
 * One item of a body. A bare expression is a layer of a sequential body (`Dense(10)`); the
 * other kinds are the statements of a functional body. Lowering checks which kinds a body allows.
 */
export type Statement = AssignStatement | LetStatement | ReturnStatement | RepeatStatement | Expr;

/** `sequential Name(x: [784]) { Dense(256) ... }`: a stack of layers applied in order. */
export interface SequentialDef {
  readonly kind: 'sequential';
  readonly name: Identifier;
  readonly inputs: readonly TensorDecl[];
  /** Layers, and `repeat` groups of layers. */
  readonly layers: readonly Statement[];
  readonly span: Span;
}

/** The type of a block parameter: `int`, `float`, `bool`, `shape` or `enum(a, b)`. */
export interface TypeExpr {
  readonly kind: 'type';
  readonly name: Identifier;
  /** The allowed names of an `enum`. */
  readonly choices: readonly Identifier[];
  readonly span: Span;
}

/**
 * An entry of a block's parameter or input list: `c: int`, `act: enum(relu, tanh) = relu`, or an
 * input `x` / `x: [T, 16]`. Lowering checks that parameters have types and inputs do not.
 */
export interface ParamDecl {
  readonly kind: 'param-decl';
  readonly name: Identifier;
  readonly type?: TypeExpr;
  readonly shape?: ShapeExpr;
  readonly default?: Expr;
  readonly span: Span;
}

/**
 * `block Residual(c: int)(x) { ... return relu(x + h) }`: a reusable piece of graph with typed
 * parameters, used as a layer. A body of bare layers is applied in order to the single input.
 */
export interface BlockDef {
  readonly kind: 'block';
  readonly name: Identifier;
  readonly params: readonly ParamDecl[];
  readonly inputs: readonly ParamDecl[];
  /** True when the block was written with one list holding parameters: its input is implicit. */
  readonly implicitInput: boolean;
  readonly body: readonly Statement[];
  readonly span: Span;
}

/** `import "layers.nnx"`: the blocks and models of another file. */
export interface ImportDecl {
  readonly kind: 'import';
  readonly path: StringLiteral;
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

/**
 * `gan Name { generator: G, discriminator: D, data: mnist, ... }`: two models trained against
 * each other in alternating steps; the fields are bound in src/bind/gan.ts.
 */
export interface GanDef {
  readonly kind: 'gan';
  readonly name: Identifier;
  readonly fields: readonly TrainField[];
  readonly span: Span;
}

export type Definition = SequentialDef | ModelDef | BlockDef | TrainDef | GanDef;

/** A definition that can be used as a layer: everything but a train or gan block. */
export type LayerDefinition = SequentialDef | ModelDef | BlockDef;

export interface Program {
  readonly kind: 'program';
  readonly imports: readonly ImportDecl[];
  readonly definitions: readonly Definition[];
  readonly span: Span;
}
