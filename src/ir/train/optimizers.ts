/**
 * Optimizers as IR: each maps (parameter, gradient, its state slots) to new values, so the
 * update is part of the one static training-step graph. Formulas, where frameworks differ,
 * follow PyTorch and are written out in docs/numerics.md.
 */
import type { GraphBuilder } from '../builder.js';

export interface SgdConfig {
  readonly kind: 'sgd';
  readonly lr: number;
  readonly momentum: number;
  readonly nesterov: boolean;
}

export type OptimizerConfig = SgdConfig;

/** A state slot the optimizer keeps per parameter (zero-initialised). */
export interface SlotRequest {
  readonly suffix: string;
}

export interface ParamUpdate {
  readonly param: number;
  /** New values of the parameter and of each slot, in `slots` order. */
  readonly newParam: number;
  readonly newSlots: readonly number[];
}

export interface Optimizer {
  /** Slot names per parameter, e.g. `velocity` for momentum. */
  readonly slots: readonly string[];
  update(b: GraphBuilder, param: number, gradient: number, slots: readonly number[]): ParamUpdate;
}

/**
 * SGD, PyTorch's form: v ← μ·v + g; p ← p − lr·v (Nesterov: p ← p − lr·(g + μ·v)).
 * Without momentum it is p ← p − lr·g and keeps no state.
 */
function sgd(config: SgdConfig): Optimizer {
  const lr = config.lr;
  const mu = config.momentum;
  if (mu === 0) {
    return {
      slots: [],
      update: (b, p, g) => ({ param: p, newParam: b.sub(p, b.mul(b.constant(lr), g)), newSlots: [] }),
    };
  }
  return {
    slots: ['velocity'],
    update: (b, p, g, [v]) => {
      const newV = b.add(b.mul(b.constant(mu), v!), g);
      const step = config.nesterov ? b.add(g, b.mul(b.constant(mu), newV)) : newV;
      return { param: p, newParam: b.sub(p, b.mul(b.constant(lr), step)), newSlots: [newV] };
    },
  };
}

export function makeOptimizer(config: OptimizerConfig): Optimizer {
  switch (config.kind) {
    case 'sgd':
      return sgd(config);
  }
}
