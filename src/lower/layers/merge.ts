/** Layers of several tensors: Concatenate, Add, Multiply, Subtract, Average, Maximum. */
import type { GraphBuilder } from '../../ir/builder.js';
import { concatMany } from './recurrent.js';
import { defineLayer, type LayerDef } from './types.js';

function elementwise(combine: (b: GraphBuilder, xs: readonly number[]) => number): LayerDef {
  return {
    schema: [],
    arity: 'many',
    create: (_args, path) => ({
      path,
      call: (_b, x) => x,
      callMany: (b, xs) => combine(b, xs),
    }),
  };
}

const fold = (op: 'add' | 'mul' | 'max') => (b: GraphBuilder, xs: readonly number[]) =>
  xs.slice(1).reduce((acc, x) => b.binary(op, acc, x), xs[0]!);

export const add = elementwise(fold('add'));
export const multiply = elementwise(fold('mul'));
export const maximum = elementwise(fold('max'));
export const average = elementwise((b, xs) => b.div(fold('add')(b, xs), b.constant(xs.length)));
export const subtract = elementwise((b, xs) => xs.slice(1).reduce((acc, x) => b.sub(acc, x), xs[0]!));

/** Concatenate(axis: -1): the axis counts the batch as 0, as Keras; negative counts from the end. */
export const concatenate = defineLayer({
  schema: [{ name: 'axis', type: 'int', default: -1 }],
  arity: 'many',
  create({ axis }, path) {
    return {
      path,
      call: (_b, x) => x,
      callMany: (b, xs) => {
        const rank = b.shapeOf(xs[0]!).length;
        return concatMany(b, xs, axis < 0 ? rank + axis : axis);
      },
    };
  },
});
