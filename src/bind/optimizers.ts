/**
 * The optimizers a train block can name, `SGD(lr: 0.1, momentum: 0.9)`, with their arguments
 * (Keras' names and defaults unless docs/numerics.md says otherwise) and the learning-rate
 * schedules any of them takes: `Adam(lr: 1e-3, schedule: cosine(decay_steps: 1000))`.
 */
import { type ArgSchema, type ArgsOf, type ArgValue, type ChosenCall, argsOf } from '../lower/args.js';

/**
 * A learning-rate schedule over the step count t (0 at the first step), as Keras':
 * `step`: lr·γ^⌊t/s⌋; `exponential`: lr·r^(t/s) (⌊t/s⌋ when `staircase`); `cosine`:
 * lr·(α + (1 − α)·½(1 + cos(π·min(t, s)/s))).
 */
export type ScheduleConfig =
  | { readonly kind: 'step'; readonly stepSize: number; readonly gamma: number }
  | {
      readonly kind: 'exponential';
      readonly decaySteps: number;
      readonly decayRate: number;
      readonly staircase: boolean;
    }
  | { readonly kind: 'cosine'; readonly decaySteps: number; readonly alpha: number };

/**
 * Where ε sits in the adaptive optimizers' denominators. `pytorch` (nnx's default):
 * Adam lr·m̂/(√v̂ + ε), RMSProp lr·g/(√v + ε), Adagrad lr·g/(√a + ε). `keras`: Adam
 * lr·√(1−β2ᵗ)/(1−β1ᵗ)·m/(√v + ε), RMSProp lr·g/√(v + ε), Adagrad lr·g/√(a + ε).
 */
export type EpsilonPlacement = 'pytorch' | 'keras';
export const EPSILON_PLACEMENTS = ['pytorch', 'keras'] as const;

interface OptimizerBase {
  /** The base learning rate (the command line's `--lr` replaces it). */
  readonly lr: number;
  readonly schedule?: ScheduleConfig;
}

export interface SgdConfig extends OptimizerBase {
  readonly kind: 'sgd';
  readonly momentum: number;
  readonly nesterov: boolean;
}

export interface AdamConfig extends OptimizerBase {
  readonly kind: 'adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly epsilonPlacement: EpsilonPlacement;
  /** AdamW's decoupled weight decay (0 for Adam): p ← p − lr·(step + wd·p). */
  readonly weightDecay?: number;
}

export interface RmspropConfig extends OptimizerBase {
  readonly kind: 'rmsprop';
  readonly rho: number;
  readonly epsilon: number;
  readonly epsilonPlacement: EpsilonPlacement;
}

export interface AdagradConfig extends OptimizerBase {
  readonly kind: 'adagrad';
  readonly initialAccumulator: number;
  readonly epsilon: number;
  readonly epsilonPlacement: EpsilonPlacement;
}

export type OptimizerConfig = SgdConfig | AdamConfig | RmspropConfig | AdagradConfig;

const lr = (dflt: number) =>
  ({ name: 'lr', type: 'float', min: 0, default: dflt, aliases: ['learning_rate'] }) as const;
const float = <N extends string>(name: N, dflt: number, aliases: readonly string[] = []) =>
  ({ name, type: 'float', min: 0, default: dflt, aliases }) as const;

/** `epsilon_placement: keras` (or `pytorch`, the default); see EpsilonPlacement. */
const PLACEMENT = {
  name: 'epsilon_placement',
  type: 'name',
  choices: EPSILON_PLACEMENTS,
  default: 'pytorch',
} as const satisfies ArgSchema;

/** The schedules and their arguments. */
const SCHEDULE_CALLS = {
  constant: [],
  step: [{ name: 'step_size', type: 'int', min: 1 }, float('gamma', 0.1)],
  exponential: [
    { name: 'decay_steps', type: 'int', min: 1 },
    float('decay_rate', 0.96),
    { name: 'staircase', type: 'bool', default: false },
  ],
  cosine: [{ name: 'decay_steps', type: 'int', min: 1 }, float('alpha', 0)],
} as const satisfies Readonly<Record<string, readonly ArgSchema[]>>;

const SCHEDULE = {
  name: 'schedule',
  type: 'choice',
  calls: SCHEDULE_CALLS,
  default: { choice: 'constant', values: new Map(), span: { start: 0, end: 0 } },
} as const satisfies ArgSchema;

function schedule({ schedule: c }: { readonly schedule: ChosenCall<typeof SCHEDULE_CALLS> }): {
  schedule?: ScheduleConfig;
} {
  switch (c.choice) {
    case 'step':
      return { schedule: { kind: 'step', stepSize: c.args.step_size, gamma: c.args.gamma } };
    case 'exponential':
      return {
        schedule: {
          kind: 'exponential',
          decaySteps: c.args.decay_steps,
          decayRate: c.args.decay_rate,
          staircase: c.args.staircase,
        },
      };
    case 'cosine':
      return { schedule: { kind: 'cosine', decaySteps: c.args.decay_steps, alpha: c.args.alpha } };
    case 'constant':
      return {};
  }
}

const ADAM_ARGS = [
  float('beta1', 0.9, ['beta_1']),
  float('beta2', 0.999, ['beta_2']),
  float('epsilon', 1e-7, ['eps']),
  PLACEMENT,
] as const;

function adamConfig(
  a: ArgsOf<[ReturnType<typeof lr>, ...typeof ADAM_ARGS, typeof SCHEDULE]>,
  weightDecay: number,
) {
  return {
    kind: 'adam',
    lr: a.lr,
    beta1: a.beta1,
    beta2: a.beta2,
    epsilon: a.epsilon,
    epsilonPlacement: a.epsilon_placement,
    ...(weightDecay > 0 ? { weightDecay } : {}),
    ...schedule(a),
  } as const;
}

/** An optimizer: its argument schema and how its typed arguments become a config. */
export interface OptimizerEntry {
  readonly schema: readonly ArgSchema[];
  readonly config: (values: ReadonlyMap<string, ArgValue>) => OptimizerConfig;
}

function optimizer<const S extends readonly ArgSchema[]>(
  schema: S,
  config: (args: ArgsOf<S>) => OptimizerConfig,
): OptimizerEntry {
  return { schema, config: (values) => config(argsOf(schema, values)) };
}

/** Each optimizer by the name a train block calls it. */
export const OPTIMIZERS: Readonly<Record<string, OptimizerEntry>> = {
  SGD: optimizer(
    [lr(0.01), float('momentum', 0), { name: 'nesterov', type: 'bool', default: false }, SCHEDULE],
    (a) => ({ kind: 'sgd', lr: a.lr, momentum: a.momentum, nesterov: a.nesterov, ...schedule(a) }),
  ),
  Adam: optimizer([lr(0.001), ...ADAM_ARGS, SCHEDULE], (a) => adamConfig(a, 0)),
  // PyTorch's default decay (Keras' is 0.004).
  AdamW: optimizer([lr(0.001), ...ADAM_ARGS, float('weight_decay', 0.01), SCHEDULE], (a) =>
    adamConfig(a, a.weight_decay),
  ),
  RMSProp: optimizer(
    [lr(0.001), float('rho', 0.9, ['alpha']), float('epsilon', 1e-7, ['eps']), PLACEMENT, SCHEDULE],
    (a) => ({
      kind: 'rmsprop',
      lr: a.lr,
      rho: a.rho,
      epsilon: a.epsilon,
      epsilonPlacement: a.epsilon_placement,
      ...schedule(a),
    }),
  ),
  Adagrad: optimizer(
    [
      lr(0.001),
      float('initial_accumulator_value', 0.1),
      float('epsilon', 1e-7, ['eps']),
      PLACEMENT,
      SCHEDULE,
    ],
    (a) => ({
      kind: 'adagrad',
      lr: a.lr,
      initialAccumulator: a.initial_accumulator_value,
      epsilon: a.epsilon,
      epsilonPlacement: a.epsilon_placement,
      ...schedule(a),
    }),
  ),
};
