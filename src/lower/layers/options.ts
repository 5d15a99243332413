/**
 * Arguments many layers share: initializers (`he_normal`, `constant(0.1)`,
 * `random_normal(stddev: 0.01)`), regularizers (`l2(0.01)`) and the activation. Each is a
 * `choice` argument whose call arguments are bound with the layer's own.
 */
import type { InitKind, InitSpec } from '../../ir/graph.js';
import type { ArgSchema, BoundChoice, ChosenCall } from '../args.js';
import { ACTIVATION_CALLS, LINEAR } from './activations.js';
import type { ParamSpec, Regularizer } from './types.js';

const float = <const N extends string>(name: N, dflt: number, min?: number) =>
  ({ name, type: 'float', default: dflt, ...(min === undefined ? {} : { min }) }) as const;

/** Keras' initializers and their arguments (Keras' defaults), and PyTorch's default one. */
export const INITIALIZER_CALLS = {
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
} as const satisfies Readonly<Record<InitKind, readonly ArgSchema[]>>;
export const INITIALIZERS = Object.keys(INITIALIZER_CALLS) as InitKind[];

/** Keras' l1(0.01), l2(0.01) and l1_l2(l1 = 0.01, l2 = 0.01). */
export const REGULARIZER_CALLS = {
  none: [],
  l1: [{ ...float('l1', 0.01, 0), aliases: ['l'] }],
  l2: [{ ...float('l2', 0.01, 0), aliases: ['l'] }],
  l1_l2: [float('l1', 0.01, 0), float('l2', 0.01, 0)],
} as const satisfies Readonly<Record<string, readonly ArgSchema[]>>;

/** A bound initializer or regularizer as a typed view reads it (see `argsOf`). */
export type InitializerChoice = ChosenCall<typeof INITIALIZER_CALLS>;
export type RegularizerChoice = ChosenCall<typeof REGULARIZER_CALLS>;

const choiceOf = (choice: string): BoundChoice => ({ choice, values: new Map(), span: { start: 0, end: 0 } });

/** An initializer argument, e.g. `kernel_initializer` (alias `init`) defaulting to glorot_uniform. */
export function initializerArg<const N extends string>(name: N, dflt: InitKind, aliases?: readonly string[]) {
  return {
    name,
    type: 'choice',
    calls: INITIALIZER_CALLS,
    default: choiceOf(dflt),
    ...(aliases ? { aliases } : {}),
  } as const;
}

/** A regularizer argument, none by default. */
export function regularizerArg<const N extends string>(name: N) {
  return { name, type: 'choice', calls: REGULARIZER_CALLS, default: choiceOf('none') } as const;
}

export function activationArg() {
  return { name: 'activation', type: 'choice', calls: ACTIVATION_CALLS, default: LINEAR } as const;
}

/** The InitSpec of a bound initializer for a parameter with these fans. */
export function initSpec(c: InitializerChoice, fanIn: number, fanOut: number): InitSpec {
  const kind = c.choice;
  switch (c.choice) {
    case 'constant':
      return { kind, fanIn, fanOut, value: c.args.value };
    case 'random_normal':
      return { kind, fanIn, fanOut, value: c.args.mean, scale: c.args.stddev };
    case 'random_uniform': {
      // The runtime draws from [value − scale, value + scale].
      const { minval: lo, maxval: hi } = c.args;
      return { kind, fanIn, fanOut, value: (lo + hi) / 2, scale: (hi - lo) / 2 };
    }
    case 'orthogonal':
      return { kind, fanIn, fanOut, scale: c.args.gain };
    default:
      return { kind, fanIn, fanOut };
  }
}

export function regularizerOf(c: RegularizerChoice): Regularizer | undefined {
  switch (c.choice) {
    case 'none':
      return undefined;
    case 'l1':
      return { l1: c.args.l1, l2: 0 };
    case 'l2':
      return { l1: 0, l2: c.args.l2 };
    case 'l1_l2':
      return { l1: c.args.l1, l2: c.args.l2 };
  }
}

/** The spec of a parameter from a layer's `<prefix>_initializer` and `<prefix>_regularizer` arguments. */
export function paramSpec(
  initializer: InitializerChoice,
  regularizer: RegularizerChoice,
  fanIn: number,
  fanOut: number,
): ParamSpec {
  const init = initSpec(initializer, fanIn, fanOut);
  const penalty = regularizerOf(regularizer);
  return penalty ? { init, regularizer: penalty } : { init };
}
