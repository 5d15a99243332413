/**
 * The optimizers a train block can name, `SGD(lr: 0.1, momentum: 0.9)`, with their arguments
 * (Keras' names and defaults unless docs/numerics.md says otherwise) and the learning-rate
 * schedules any of them takes: `Adam(lr: 1e-3, schedule: cosine(decay_steps: 1000))`.
 */
import type { ArgSchema, BoundChoice } from '../lower/args.js';

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
  /** AdamW's decoupled weight decay (0 for Adam): p ← p − lr·(step + wd·p). */
  readonly weightDecay?: number;
}

export interface RmspropConfig extends OptimizerBase {
  readonly kind: 'rmsprop';
  readonly rho: number;
  readonly epsilon: number;
}

export interface AdagradConfig extends OptimizerBase {
  readonly kind: 'adagrad';
  readonly initialAccumulator: number;
  readonly epsilon: number;
}

export type OptimizerConfig = SgdConfig | AdamConfig | RmspropConfig | AdagradConfig;

type ArgValues = ReadonlyMap<string, unknown>;

const lr = (dflt: number): ArgSchema => ({
  name: 'lr',
  type: 'float',
  min: 0,
  default: dflt,
  aliases: ['learning_rate'],
});
const float = (name: string, dflt: number, aliases?: string[]): ArgSchema => ({
  name,
  type: 'float',
  min: 0,
  default: dflt,
  ...(aliases ? { aliases } : {}),
});

/** The schedules and their arguments. */
const SCHEDULE_CALLS: Readonly<Record<string, readonly ArgSchema[]>> = {
  constant: [],
  step: [{ name: 'step_size', type: 'int', min: 1 }, float('gamma', 0.1)],
  exponential: [
    { name: 'decay_steps', type: 'int', min: 1 },
    float('decay_rate', 0.96),
    { name: 'staircase', type: 'bool', default: false },
  ],
  cosine: [{ name: 'decay_steps', type: 'int', min: 1 }, float('alpha', 0)],
};

const SCHEDULE: ArgSchema = {
  name: 'schedule',
  type: 'choice',
  calls: SCHEDULE_CALLS,
  default: { choice: 'constant', values: new Map(), span: { start: 0, end: 0 } },
};

function schedule(v: ArgValues): { schedule?: ScheduleConfig } {
  const c = v.get('schedule') as BoundChoice;
  const n = (name: string) => c.values.get(name) as number;
  switch (c.choice) {
    case 'step':
      return { schedule: { kind: 'step', stepSize: n('step_size'), gamma: n('gamma') } };
    case 'exponential':
      return {
        schedule: {
          kind: 'exponential',
          decaySteps: n('decay_steps'),
          decayRate: n('decay_rate'),
          staircase: c.values.get('staircase') as boolean,
        },
      };
    case 'cosine':
      return { schedule: { kind: 'cosine', decaySteps: n('decay_steps'), alpha: n('alpha') } };
    default:
      return {};
  }
}

const ADAM_ARGS: readonly ArgSchema[] = [
  float('beta1', 0.9, ['beta_1']),
  float('beta2', 0.999, ['beta_2']),
  float('epsilon', 1e-7, ['eps']),
];

function adamConfig(v: ArgValues, weightDecay: number): OptimizerConfig {
  return {
    kind: 'adam',
    lr: v.get('lr') as number,
    beta1: v.get('beta1') as number,
    beta2: v.get('beta2') as number,
    epsilon: v.get('epsilon') as number,
    ...(weightDecay > 0 ? { weightDecay } : {}),
    ...schedule(v),
  };
}

/** Each optimizer's schema and how its bound arguments become a config. */
export const OPTIMIZERS: Readonly<
  Record<string, { schema: readonly ArgSchema[]; config: (v: ArgValues) => OptimizerConfig }>
> = {
  SGD: {
    schema: [lr(0.01), float('momentum', 0), { name: 'nesterov', type: 'bool', default: false }, SCHEDULE],
    config: (v) => ({
      kind: 'sgd',
      lr: v.get('lr') as number,
      momentum: v.get('momentum') as number,
      nesterov: v.get('nesterov') as boolean,
      ...schedule(v),
    }),
  },
  Adam: { schema: [lr(0.001), ...ADAM_ARGS, SCHEDULE], config: (v) => adamConfig(v, 0) },
  // PyTorch's default decay (Keras' is 0.004).
  AdamW: {
    schema: [lr(0.001), ...ADAM_ARGS, float('weight_decay', 0.01), SCHEDULE],
    config: (v) => adamConfig(v, v.get('weight_decay') as number),
  },
  RMSProp: {
    schema: [lr(0.001), float('rho', 0.9, ['alpha']), float('epsilon', 1e-7, ['eps']), SCHEDULE],
    config: (v) => ({
      kind: 'rmsprop',
      lr: v.get('lr') as number,
      rho: v.get('rho') as number,
      epsilon: v.get('epsilon') as number,
      ...schedule(v),
    }),
  },
  Adagrad: {
    schema: [lr(0.001), float('initial_accumulator_value', 0.1), float('epsilon', 1e-7, ['eps']), SCHEDULE],
    config: (v) => ({
      kind: 'adagrad',
      lr: v.get('lr') as number,
      initialAccumulator: v.get('initial_accumulator_value') as number,
      epsilon: v.get('epsilon') as number,
      ...schedule(v),
    }),
  },
};
