/**
 * Arguments many layers share: initializers (`he_normal`, `constant(0.1)`,
 * `random_normal(stddev: 0.01)`), regularizers (`l2(0.01)`) and the activation. Each is a
 * `choice` argument whose call arguments are bound with the layer's own.
 */
import type { InitKind, InitSpec } from '../../ir/graph.js';
import type { ArgSchema, BoundArgs, BoundChoice } from '../args.js';
import { ACTIVATION_CALLS, LINEAR } from './activations.js';
import type { ParamSpec, Regularizer } from './types.js';

const float = (name: string, dflt: number, min?: number): ArgSchema =>
  min === undefined ? { name, type: 'float', default: dflt } : { name, type: 'float', default: dflt, min };

/** Keras' initializers and their arguments (Keras' defaults), and PyTorch's default one. */
export const INITIALIZER_CALLS: Readonly<Record<InitKind, readonly ArgSchema[]>> = {
  glorot_uniform: [],
  glorot_normal: [],
  he_normal: [],
  he_uniform: [],
  lecun_normal: [],
  zeros: [],
  ones: [],
  constant: [float('value', 0)],
  random_normal: [float('mean', 0), float('stddev', 0.05, 0)],
  random_uniform: [float('minval', -0.05), float('maxval', 0.05)],
  orthogonal: [float('gain', 1, 0)],
  // PyTorch's Linear/Conv2d default for weights and biases alike: U(±1/√fan_in).
  pytorch_uniform: [],
};
export const INITIALIZERS = Object.keys(INITIALIZER_CALLS) as InitKind[];

const choiceOf = (choice: string): BoundChoice => ({ choice, values: new Map(), span: { start: 0, end: 0 } });

/** An initializer argument, e.g. `kernel_initializer` (alias `init`) defaulting to glorot_uniform. */
export function initializerArg(name: string, dflt: InitKind, aliases?: readonly string[]): ArgSchema {
  return {
    name,
    type: 'choice',
    calls: INITIALIZER_CALLS,
    default: choiceOf(dflt),
    ...(aliases ? { aliases } : {}),
  };
}

/** A regularizer argument, none by default. */
export function regularizerArg(name: string): ArgSchema {
  return { name, type: 'choice', calls: REGULARIZER_CALLS, default: choiceOf('none') };
}

export function activationArg() {
  return { name: 'activation', type: 'choice', calls: ACTIVATION_CALLS, default: LINEAR } as const;
}

/** Keras' l1(0.01), l2(0.01) and l1_l2(l1 = 0.01, l2 = 0.01). */
export const REGULARIZER_CALLS: Readonly<Record<string, readonly ArgSchema[]>> = {
  none: [],
  l1: [{ ...float('l1', 0.01, 0), aliases: ['l'] }],
  l2: [{ ...float('l2', 0.01, 0), aliases: ['l'] }],
  l1_l2: [float('l1', 0.01, 0), float('l2', 0.01, 0)],
};

function numberIn(c: BoundChoice, name: string, dflt: number): number {
  const v = c.values.get(name);
  return typeof v === 'number' ? v : dflt;
}

/** The InitSpec of a bound initializer for a parameter with these fans. */
export function initSpec(c: BoundChoice, fanIn: number, fanOut: number): InitSpec {
  const kind = c.choice as InitKind;
  switch (kind) {
    case 'constant':
      return { kind, fanIn, fanOut, value: numberIn(c, 'value', 0) };
    case 'random_normal':
      return { kind, fanIn, fanOut, value: numberIn(c, 'mean', 0), scale: numberIn(c, 'stddev', 0.05) };
    case 'random_uniform': {
      // The runtime draws from [value − scale, value + scale].
      const [lo, hi] = [numberIn(c, 'minval', -0.05), numberIn(c, 'maxval', 0.05)];
      return { kind, fanIn, fanOut, value: (lo + hi) / 2, scale: (hi - lo) / 2 };
    }
    case 'orthogonal':
      return { kind, fanIn, fanOut, scale: numberIn(c, 'gain', 1) };
    default:
      return { kind, fanIn, fanOut };
  }
}

export function regularizerOf(c: BoundChoice): Regularizer | undefined {
  if (c.choice === 'none') return undefined;
  return {
    l1: c.choice === 'l2' ? 0 : numberIn(c, 'l1', 0.01),
    l2: c.choice === 'l1' ? 0 : numberIn(c, 'l2', 0.01),
  };
}

/** The spec of a parameter from a layer's `<prefix>_initializer` and `<prefix>_regularizer` arguments. */
export function paramSpec(args: BoundArgs, prefix: string, fanIn: number, fanOut: number): ParamSpec {
  const init = args.values.get(`${prefix}_initializer`) as BoundChoice;
  const reg = args.values.get(`${prefix}_regularizer`) as BoundChoice | undefined;
  const regularizer = reg ? regularizerOf(reg) : undefined;
  return regularizer
    ? { init: initSpec(init, fanIn, fanOut), regularizer }
    : { init: initSpec(init, fanIn, fanOut) };
}
