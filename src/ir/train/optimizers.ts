/**
 * Optimizers as IR: each maps (parameter, gradient, its state slots) to new values, so the
 * update is part of the one static training-step graph. Where frameworks differ, the formulas
 * are chosen on purpose and written out in docs/numerics.md.
 */
import type { GraphBuilder } from '../builder.js';

export interface SgdConfig {
  readonly kind: 'sgd';
  readonly lr: number;
  readonly momentum: number;
  readonly nesterov: boolean;
}

export interface AdamConfig {
  readonly kind: 'adam';
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
}

export type OptimizerConfig = SgdConfig | AdamConfig;

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
  begin(b: GraphBuilder, globals: readonly number[]): readonly number[];
  update(
    b: GraphBuilder,
    param: number,
    gradient: number,
    slots: readonly number[],
    newGlobals: readonly number[],
  ): ParamUpdate;
}

/**
 * SGD, PyTorch's form: v ← μ·v + g; p ← p − lr·v (Nesterov: p ← p − lr·(g + μ·v)).
 * Without momentum it is p ← p − lr·g and keeps no state.
 */
function sgd(config: SgdConfig): Optimizer {
  const { lr, momentum: mu } = config;
  return {
    slots: mu === 0 ? [] : ['velocity'],
    globals: [],
    begin: () => [],
    update: (b, p, g, [v]) => {
      if (mu === 0) return { newParam: b.sub(p, b.mul(b.constant(lr), g)), newSlots: [] };
      const newV = b.add(b.mul(b.constant(mu), v!), g);
      const step = config.nesterov ? b.add(g, b.mul(b.constant(mu), newV)) : newV;
      return { newParam: b.sub(p, b.mul(b.constant(lr), step)), newSlots: [newV] };
    },
  };
}

/**
 * Adam with PyTorch's placement of ε (outside the bias-corrected square root), as TF.js:
 * m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; p ← p − lr·m̂/(√v̂ + ε) with m̂ = m/(1−β1ᵗ),
 * v̂ = v/(1−β2ᵗ). The step count t is a global slot, so the bias correction stays on the GPU.
 */
function adam(config: AdamConfig): Optimizer {
  const { lr, beta1, beta2, epsilon } = config;
  return {
    slots: ['m', 'v'],
    globals: ['step'],
    begin: (b, [t]) => [b.add(t!, b.constant(1))],
    update: (b, p, g, [m, v], [t]) => {
      const c = (x: number) => b.constant(x);
      const newM = b.add(b.mul(c(beta1), m!), b.mul(c(1 - beta1), g));
      const newV = b.add(b.mul(c(beta2), v!), b.mul(c(1 - beta2), b.mul(g, g)));
      // 1 − βᵗ = 1 − exp(t·ln β), computed once per step for all parameters (CSE).
      const correction = (beta: number) => b.sub(c(1), b.unary('exp', b.mul(t!, c(Math.log(beta)))));
      const mHat = b.div(newM, correction(beta1));
      const vHat = b.div(newV, correction(beta2));
      const step = b.div(mHat, b.add(b.unary('sqrt', vHat), c(epsilon)));
      return { newParam: b.sub(p, b.mul(c(lr), step)), newSlots: [newM, newV] };
    },
  };
}

export function makeOptimizer(config: OptimizerConfig): Optimizer {
  switch (config.kind) {
    case 'sgd':
      return sgd(config);
    case 'adam':
      return adam(config);
  }
}
