/**
 * Constant expressions: where a number is required (a layer's size, a kernel pair, a shape, a
 * repeat count, a train setting), `4 * 4 * 50`, `units * 2` or `-(depth - 1)` is folded at compile
 * time, after a block's parameters have been substituted (`scope.ts`). What is left unfolded is
 * the first operand that is not a constant, which the diagnostic names.
 */
import type { Expr } from '../parser/ast.js';

/** The value of a constant expression, or the first part of it that is not a constant. */
export type Folded =
  | { readonly ok: true; readonly value: number; readonly isInteger: boolean }
  | { readonly ok: false; readonly culprit: Expr };

/** Folds numbers, unary minus and `+ - * /` (parentheses are already nesting in the AST). */
export function foldConstant(e: Expr): Folded {
  switch (e.kind) {
    case 'number':
      return { ok: true, value: e.value, isInteger: e.isInteger };
    case 'negate': {
      const x = foldConstant(e.operand);
      return x.ok ? { ...x, value: -x.value } : x;
    }
    case 'binary': {
      const a = foldConstant(e.left);
      if (!a.ok) return a;
      const b = foldConstant(e.right);
      if (!b.ok) return b;
      const value = applyOperator(e.op, a.value, b.value);
      // `/` stays whole only when it divides exactly: `12 / 4` is 3, `7 / 2` is 3.5.
      return { ok: true, value, isInteger: a.isInteger && b.isInteger && Number.isInteger(value) };
    }
    default:
      return { ok: false, culprit: e };
  }
}

function applyOperator(op: '+' | '-' | '*' | '/', a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
  }
}

/** True for the expressions {@link foldConstant} combines (not a bare number or name). */
export function isArithmetic(e: Expr): boolean {
  return e.kind === 'negate' || e.kind === 'binary';
}
