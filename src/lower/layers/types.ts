/**
 * What a layer is and what it may ask of the lowering: parameters (with their initializer and
 * regularizer), the lowering mode (`train` or `infer`), the sample mask, a step counter for
 * random numbers, and state updates (running statistics) that the training step writes back.
 */
import type { GraphBuilder } from '../../ir/builder.js';
import { BATCH, type InitKind, type InitSpec, type Regularization, type Shape } from '../../ir/graph.js';
import { type ArgSchema, type ArgsOf, type BoundArgs, argsOf } from '../args.js';

/**
 * How a model is lowered: `train` for the training step (dropout active, batch statistics),
 * `infer` for evaluate and predict (dropout off, running statistics).
 */
export type LowerMode = 'train' | 'infer';

/** Penalties added to the loss for a parameter: l1·Σ|w| + l2·Σw² (Keras' form, no ½). */
export type Regularizer = Regularization;

/** How to create one parameter. */
export interface ParamSpec {
  readonly init: InitSpec;
  readonly regularizer?: Regularizer;
  /** False for statistics that the training step updates but no optimizer touches. */
  readonly trainable?: boolean;
}

/** A value the training step writes back into a persistent input (a running statistic, a counter). */
export interface StateUpdate {
  readonly name: string;
  readonly target: number;
  readonly value: number;
}

/**
 * Graph input name of the per-sample mask (1 for real samples, 0 for a partial batch's padding).
 * Not an identifier, so that no model input can be mistaken for it (an input named `mask`).
 */
export const MASK_INPUT = 'batch/mask';
/** The state scalar counting training steps, which random masks are drawn from. */
export const RANDOM_COUNTER = 'random/step';
/** The state scalar holding the model's seed (written by the runtime), which random draws mix in. */
export const RANDOM_SEED = 'random/seed';

/** The graph's two scalars a `random_uniform` reads: the step counter and the seed. */
export interface RandomSources {
  readonly counter: number;
  readonly seed: number;
}

/**
 * The mode-dependent part of one lowering: which mode it is, the state updates layers asked
 * for, and the inputs shared by every layer (created on first use).
 */
export class TrainingState {
  readonly updates: StateUpdate[] = [];
  /** Whether some layer behaves differently in training, so the model needs a second lowering. */
  modeDependent = false;
  private mask: number | undefined;
  private counter: number | undefined;
  private seed: number | undefined;

  constructor(readonly mode: LowerMode) {}

  /** The mode, noting that the caller's graph depends on it. */
  current(): LowerMode {
    this.modeDependent = true;
    return this.mode;
  }

  sampleMask(b: GraphBuilder): number {
    return (this.mask ??= b.input(MASK_INPUT, 'data', [BATCH]));
  }

  /** The step counter (before this step's increment, which is registered here once). */
  stepCounter(b: GraphBuilder): number {
    if (this.counter === undefined) {
      const counter = b.input(RANDOM_COUNTER, 'state', []);
      this.update(RANDOM_COUNTER, counter, b.add(counter, b.constant(1)));
      this.counter = counter;
    }
    return this.counter;
  }

  /** Uniform numbers in [0, 1) of `shape` under `salt`: new ones each step and for each model seed. */
  randomUniform(b: GraphBuilder, shape: Shape, salt: number): number {
    this.seed ??= b.input(RANDOM_SEED, 'state', []);
    return b.emit('random_uniform', [this.stepCounter(b), this.seed], { shape, salt });
  }

  update(name: string, target: number, value: number): void {
    this.updates.push({ name, target, value });
  }
}

/** Creates parameters as graph inputs with role `param`; the layer path names them. */
export interface ParamFactory {
  param(
    b: GraphBuilder,
    name: string,
    shape: readonly number[],
    init: InitKind,
    fanIn: number,
    fanOut: number,
  ): number;
  /** A parameter with a full spec; lowerings without it get the plain `param` (no regularizer). */
  paramWith?(b: GraphBuilder, name: string, shape: readonly number[], spec: ParamSpec): number;
  /** Absent: an inference lowering. */
  readonly training?: TrainingState;
  /**
   * Counts `steps` time steps a recurrent layer unrolls against the model's unroll budget;
   * false (with one diagnostic) once it is spent, and then the layer unrolls nothing.
   */
  unrollSteps?(steps: number, layer: string): boolean;
}

/** Creates a parameter through whichever form the factory offers. */
export function createParam(
  params: ParamFactory,
  b: GraphBuilder,
  name: string,
  shape: readonly number[],
  spec: ParamSpec,
): number {
  if (params.paramWith) return params.paramWith(b, name, shape, spec);
  return params.param(b, name, shape, spec.init.kind, spec.init.fanIn, spec.init.fanOut);
}

/** The lowering's mode, `infer` when it has no training state. */
export function modeOf(params: ParamFactory): LowerMode {
  return params.training?.current() ?? 'infer';
}

export interface LayerInstance {
  /** `dense_1`, or the name it was bound to: the prefix of its parameters' names. */
  readonly path: string;
  call(b: GraphBuilder, x: number, params: ParamFactory): number;
  /** Layers of several tensors (Concatenate, Add): called with all of them. */
  callMany?(b: GraphBuilder, xs: readonly number[], params: ParamFactory): number;
}

export interface LayerDef {
  readonly schema: readonly ArgSchema[];
  /** Validates the input shape; returns a message when the layer cannot take it. */
  /** A warning for an input the layer takes but that is most likely a mistake (Dense on an image). */
  readonly advise?: (shape: Shape) => string | undefined;
  readonly accepts?: (shape: Shape) => string | undefined;
  /** How many tensors it takes; 1 when absent, `many` for two or more, or a range. */
  readonly arity?: 'many' | { readonly min: number; readonly max: number };
  create(args: BoundArgs, path: string): LayerInstance;
}

/**
 * A layer whose `create` reads its arguments typed by its schema (declared in place, so the
 * names and types are literal). `bound` is still there for arguments read by a computed name
 * (`paramSpec(bound, 'kernel', …)`).
 */
export function defineLayer<const S extends readonly ArgSchema[]>(def: {
  readonly schema: S;
  readonly accepts?: LayerDef['accepts'];
  readonly advise?: LayerDef['advise'];
  readonly arity?: LayerDef['arity'];
  create(args: ArgsOf<S>, path: string, bound: BoundArgs): LayerInstance;
}): LayerDef {
  return { ...def, create: (bound, path) => def.create(argsOf(def.schema, bound.values), path, bound) };
}

/** A per-sample shape for messages: `[28, 28, 1]`, the batch left out. */
export function perSample(shape: Shape): string {
  return `[${shape.filter((_, i) => i > 0 || shape[0] !== BATCH).join(', ')}]`;
}
