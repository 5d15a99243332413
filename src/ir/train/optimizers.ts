/**
 * Optimizers as IR: each maps (parameter, gradient, its state slots) to new values, so the
 * update is part of the one static training-step graph. Where frameworks differ, the formulas
 * are chosen on purpose and written out in docs/numerics.md.
 */
import type { GraphBuilder } from '../builder.js';
import type { StateDerivation } from '../graph.js';
import type {
  SgdConfig,
  AdamConfig,
  RmspropConfig,
  AdagradConfig,
  OptimizerConfig,
} from '../../bind/optimizers.js';

export interface ParamUpdate {
  /** New values of the parameter and of each slot, in `slots` order. */
  readonly newParam: number;
  readonly newSlots: readonly number[];
}

/**
 * An optimizer keeps `slots` per parameter (e.g. `velocity`) and `globals` shared by all
 * (e.g. the step count); all are zero-initialised state. `begin` runs once per step and
 * returns the new globals; `update` runs per parameter.
 */
export interface Optimizer {
  readonly slots: readonly string[];
  readonly globals: readonly string[];
  /**
   * The β of globals that are bias corrections 1 − βᵗ, by name: checkpoints written before they
   * became state lack them, and a restore derives them from the step count.
   */
  readonly corrections?: Readonly<Record<string, number>>;
  begin(b: GraphBuilder, globals: readonly number[]): readonly number[];
  update(
    b: GraphBuilder,
    param: number,
    gradient: number,
    slots: readonly number[],
    newGlobals: readonly number[],
  ): ParamUpdate;
}

/** The learning rate at the step whose incremented count is `t1` (t1 = t + 1), as IR. */
type LearningRate = (b: GraphBuilder, t1: number | undefined) => number;

function learningRate(config: OptimizerConfig): LearningRate {
  const s = config.schedule;
  if (!s) return (b) => b.constant(config.lr);
  return (b, t1) => {
    const c = (v: number) => b.constant(v);
    const t = b.sub(t1!, c(1));
    const lr = c(config.lr);
    switch (s.kind) {
      case 'step':
        // γ^k = exp(k·ln γ), computed on the GPU from the step count.
        return b.mul(
          lr,
          b.unary('exp', b.mul(b.unary('floor', b.div(t, c(s.stepSize))), c(Math.log(s.gamma)))),
        );
      case 'exponential': {
        const k = b.div(t, c(s.decaySteps));
        return b.mul(
          lr,
          b.unary('exp', b.mul(s.staircase ? b.unary('floor', k) : k, c(Math.log(s.decayRate)))),
        );
      }
      case 'cosine': {
        const progress = b.div(b.binary('min', t, c(s.decaySteps)), c(s.decaySteps));
        const cosine = b.mul(c(0.5), b.add(c(1), b.unary('cos', b.mul(progress, c(Math.PI)))));
        return b.mul(lr, b.add(c(s.alpha), b.mul(c(1 - s.alpha), cosine)));
      }
    }
  };
}

/** The step count, a global: Adam needs it for bias correction, any schedule for its t. */
export const STEP_GLOBAL = 'step';

function stepGlobals(needed: boolean): Pick<Optimizer, 'globals' | 'begin'> {
  return needed
    ? { globals: [STEP_GLOBAL], begin: (b, [t]) => [b.add(t!, b.constant(1))] }
    : { globals: [], begin: () => [] };
}

/**
 * SGD, PyTorch's form: v ← μ·v + g; p ← p − lr·v (Nesterov: p ← p − lr·(g + μ·v)).
 * Without momentum it is p ← p − lr·g and keeps no state.
 */
function sgd(config: SgdConfig): Optimizer {
  const { momentum: mu } = config;
  const rate = learningRate(config);
  return {
    slots: mu === 0 ? [] : ['velocity'],
    ...stepGlobals(config.schedule !== undefined),
    update: (b, p, g, [v], [t]) => {
      const lr = rate(b, t);
      if (mu === 0) return { newParam: b.sub(p, b.mul(lr, g)), newSlots: [] };
      const newV = b.add(b.mul(b.constant(mu), v!), g);
      const step = config.nesterov ? b.add(g, b.mul(b.constant(mu), newV)) : newV;
      return { newParam: b.sub(p, b.mul(lr, step)), newSlots: [newV] };
    },
  };
}

/**
 * Adam: m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; by default PyTorch's placement of ε
 * (outside the bias-corrected square root, as TF.js): p ← p − lr·m̂/(√v̂ + ε) with
 * m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ); with `epsilon_placement: keras`,
 * p ← p − lr·√(1−β2ᵗ)/(1−β1ᵗ)·m/(√v + ε). The corrections 1 − βᵗ are globals kept by their
 * own recurrence (see `correctionStep`), so the bias correction stays on the GPU and is exact
 * in f32.
 */
function adam(config: AdamConfig): Optimizer {
  const { beta1, beta2, epsilon } = config;
  const rate = learningRate(config);
  const decay = config.weightDecay ?? 0;
  return {
    slots: ['m', 'v'],
    globals: [STEP_GLOBAL, ...ADAM_CORRECTIONS],
    corrections: { [ADAM_CORRECTIONS[0]]: beta1, [ADAM_CORRECTIONS[1]]: beta2 },
    begin: (b, [t, c1, c2]) => [
      b.add(t!, b.constant(1)),
      correctionStep(b, c1!, beta1),
      correctionStep(b, c2!, beta2),
    ],
    update: (b, p, g, [m, v], [t, c1, c2]) => {
      const lr = rate(b, t);
      const c = (x: number) => b.constant(x);
      const newM = b.add(b.mul(c(beta1), m!), b.mul(c(1 - beta1), g));
      const newV = b.add(b.mul(c(beta2), v!), b.mul(c(1 - beta2), b.mul(g, g)));
      // Keras folds both corrections into the rate and adds ε to the uncorrected root, so its
      // ε acts as ε/√(1−β2ᵗ) in PyTorch's form (31.6× larger at t = 1 with β2 = 0.999).
      const adamStep =
        config.epsilonPlacement === 'keras'
          ? b.mul(b.div(b.unary('sqrt', c2!), c1!), b.div(newM, b.add(b.unary('sqrt', newV), c(epsilon))))
          : b.div(b.div(newM, c1!), b.add(b.unary('sqrt', b.div(newV, c2!)), c(epsilon)));
      // AdamW: the decay is decoupled from the gradient's moments (Loshchilov & Hutter).
      const step = decay === 0 ? adamStep : b.add(adamStep, b.mul(c(decay), p));
      return { newParam: b.sub(p, b.mul(lr, step)), newSlots: [newM, newV] };
    },
  };
}

/** √x + ε (PyTorch's placement) or √(x + ε) (Keras'): RMSProp's and Adagrad's denominator. */
function root(b: GraphBuilder, x: number, config: RmspropConfig | AdagradConfig): number {
  const eps = b.constant(config.epsilon);
  return config.epsilonPlacement === 'keras'
    ? b.unary('sqrt', b.add(x, eps))
    : b.add(b.unary('sqrt', x), eps);
}

/** Adam's globals holding 1 − β1ᵗ and 1 − β2ᵗ (zero before the first step, as 1 − β⁰). */
export const ADAM_CORRECTIONS = ['correction_1', 'correction_2'] as const;

/**
 * 1 − βᵗ⁺¹ from c = 1 − βᵗ as c + (1 − β)·(1 − c). Computing 1 − exp(t·ln β) in f32 subtracts
 * two nearly equal numbers at small t, so the exp's 2-ulp error became a 1e-4 relative error of
 * the step (#16); a running product βᵗ has the same cancellation, and f32(β) ≠ β besides.
 * Here 1 − β is the f64 constant rounded once, 1 − c is exact or nearly (c ≥ 0), and the
 * increment only adds. c does not always reach 1 in f32: once (1 − β)(1 − c) is under half an ulp
 * of c the sum rounds back to c, so it stalls below 1: β1 = 0.9 at 1 − 4·2⁻²⁴ after 143 steps,
 * β2 = 0.999 at 1 − 500·2⁻²⁴ ≈ 0.99997 after 10 299 (then √c2 is 1.5e-5 below its limit).
 * β = 0 (a usual GAN setting) gives 1 from the first step. The runtime replays this recurrence
 * on the host (`adamCorrectionAfter` in runtime/checkpoint.ts) for checkpoints that lack c.
 */
function correctionStep(b: GraphBuilder, c: number, beta: number): number {
  return b.add(c, b.mul(b.constant(1 - beta), b.sub(b.constant(1), c)));
}

/**
 * RMSProp: v ← ρ·v + (1 − ρ)·g²; p ← p − lr·g/(√v + ε), PyTorch's placement of ε (as Adam
 * here); with `epsilon_placement: keras` p ← p − lr·g/√(v + ε).
 */
function rmsprop(config: RmspropConfig): Optimizer {
  const rate = learningRate(config);
  return {
    slots: ['velocity'],
    ...stepGlobals(config.schedule !== undefined),
    update: (b, p, g, [v], [t]) => {
      const c = (x: number) => b.constant(x);
      const newV = b.add(b.mul(c(config.rho), v!), b.mul(c(1 - config.rho), b.mul(g, g)));
      const step = b.div(g, root(b, newV, config));
      return { newParam: b.sub(p, b.mul(rate(b, t), step)), newSlots: [newV] };
    },
  };
}

/**
 * Adagrad: a ← a + g²; p ← p − lr·g/(√(a₀ + a) + ε) (Keras' placement: √(a₀ + a + ε)). State
 * starts at zero, so Keras' initial accumulator a₀ (0.1 by default; PyTorch's is 0) is added in
 * the update instead.
 */
function adagrad(config: AdagradConfig): Optimizer {
  const rate = learningRate(config);
  return {
    slots: ['accumulator'],
    ...stepGlobals(config.schedule !== undefined),
    update: (b, p, g, [a], [t]) => {
      const c = (x: number) => b.constant(x);
      const newA = b.add(a!, b.mul(g, g));
      const step = b.div(g, root(b, b.add(newA, c(config.initialAccumulator)), config));
      return { newParam: b.sub(p, b.mul(rate(b, t), step)), newSlots: [newA] };
    },
  };
}

export function makeOptimizer(config: OptimizerConfig): Optimizer {
  switch (config.kind) {
    case 'sgd':
      return sgd(config);
    case 'adam':
      return adam(config);
    case 'rmsprop':
      return rmsprop(config);
    case 'adagrad':
      return adagrad(config);
  }
}
