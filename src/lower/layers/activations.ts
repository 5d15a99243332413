/**
 * Activations, lowered to IR. Most are one elementwise op; softmax and log_softmax run over the
 * last axis with the maximum subtracted first; leaky_relu is max(x, α·x). The choice schemas let
 * an activation take its argument where it is named: `activation: leaky_relu(alpha: 0.1)`.
 */
import type { GraphBuilder } from '../../ir/builder.js';
import type { ArgSchema, ArgsOf, BoundChoice } from '../args.js';

type ActivationFn = (b: GraphBuilder, x: number, args: Readonly<Record<string, unknown>>) => number;

interface ActivationEntry {
  readonly schema: readonly ArgSchema[];
  readonly apply: ActivationFn;
}

/** An activation whose lowering reads its arguments typed by its schema. */
function withArgs<const S extends readonly ArgSchema[]>(
  schema: S,
  apply: (b: GraphBuilder, x: number, args: ArgsOf<S>) => number,
): ActivationEntry {
  // Sound: applyActivation passes every argument of `schema`, given or defaulted.
  return { schema, apply: (b, x, args) => apply(b, x, args as ArgsOf<S>) };
}

/** exp(x − max x) / Σ exp(x − max x) over the last axis; losses recognise this pattern. */
export function softmax(b: GraphBuilder, x: number): number {
  const shape = b.shapeOf(x);
  const axis = shape.length - 1;
  const shifted = b.sub(x, b.broadcast(b.reduceMax(x, [axis], true), shape));
  const e = b.unary('exp', shifted);
  return b.div(e, b.broadcast(b.sum(e, [axis], true), shape));
}

/** x − max x − log Σ exp(x − max x) over the last axis: finite for logits of ±1000. */
export function logSoftmax(b: GraphBuilder, x: number): number {
  const shape = b.shapeOf(x);
  const axis = shape.length - 1;
  const shifted = b.sub(x, b.broadcast(b.reduceMax(x, [axis], true), shape));
  return b.sub(shifted, b.broadcast(b.unary('log', b.sum(b.unary('exp', shifted), [axis], true)), shape));
}

/** max(x, α·x), which is leaky ReLU for 0 ≤ α ≤ 1; the gradient at 0 is 1. */
export function leakyRelu(b: GraphBuilder, x: number, alpha: number): number {
  return b.binary('max', x, b.mul(x, b.constant(alpha)));
}

const unary =
  (op: 'relu' | 'sigmoid' | 'tanh' | 'softplus' | 'elu' | 'gelu' | 'swish'): ActivationFn =>
  (b, x) =>
    b.unary(op, x);

/** Each activation: its arguments (none for most) and its lowering. */
const TABLE: Readonly<Record<string, ActivationEntry>> = {
  linear: { schema: [], apply: (_b, x) => x },
  relu: { schema: [], apply: unary('relu') },
  sigmoid: { schema: [], apply: unary('sigmoid') },
  tanh: { schema: [], apply: unary('tanh') },
  softplus: { schema: [], apply: unary('softplus') },
  softmax: { schema: [], apply: softmax },
  // Keras' keras.activations.leaky_relu default; PyTorch's is 0.01.
  leaky_relu: withArgs(
    [{ name: 'alpha', type: 'float', min: 0, default: 0.2, aliases: ['negative_slope'] }],
    (b, x, { alpha }) => leakyRelu(b, x, alpha),
  ),
  elu: { schema: [], apply: unary('elu') },
  log_softmax: { schema: [], apply: logSoftmax },
  gelu: { schema: [], apply: unary('gelu') },
  swish: { schema: [], apply: unary('swish') },
  silu: { schema: [], apply: unary('swish') },
};

export type Activation = string;
export const ACTIVATION_NAMES: readonly string[] = Object.keys(TABLE);

/** Argument schemas of the activations, for a `choice` argument. */
export const ACTIVATION_CALLS: Readonly<Record<string, readonly ArgSchema[]>> = Object.fromEntries(
  Object.entries(TABLE).map(([k, v]) => [k, v.schema]),
);

/** The default `activation:` of a layer: none. */
export const LINEAR: BoundChoice = { choice: 'linear', values: new Map(), span: { start: 0, end: 0 } };

/** An activation chosen through a typed argument view (see `argsOf`): its name and arguments. */
export interface ChosenActivation {
  readonly choice: string;
  readonly args: Readonly<Record<string, unknown>>;
}

/** Applies a bound activation (`relu`, `leaky_relu(alpha: 0.1)`), with its defaults. */
export function applyActivation(
  b: GraphBuilder,
  x: number,
  a: BoundChoice | ChosenActivation | string,
): number {
  const def = TABLE[typeof a === 'string' ? a : a.choice]!;
  const args: Record<string, unknown> = Object.fromEntries(def.schema.map((s) => [s.name, s.default]));
  if (typeof a !== 'string')
    for (const [k, v] of 'values' in a ? a.values : Object.entries(a.args)) args[k] = v;
  return def.apply(b, x, args);
}

/** The activations by name with default arguments: functions in model expressions (`relu(x)`). */
export const ACTIVATIONS: Readonly<Record<string, (b: GraphBuilder, x: number) => number>> =
  Object.fromEntries(
    ACTIVATION_NAMES.map((name) => [name, (b: GraphBuilder, x: number) => applyActivation(b, x, name)]),
  );
