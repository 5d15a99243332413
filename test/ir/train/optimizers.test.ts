/**
 * The optimizers and learning-rate schedules as IR, run by the interpreter for several steps
 * against their update rules written out here (docs/numerics.md gives the choices).
 */
import { describe, expect, it } from 'vitest';
import { check, compile } from '../../../src/compile.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { interpret } from '../../../src/ir/interpret.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import type { OptimizerConfig } from '../../../src/bind/optimizers.js';
import { makeOptimizer } from '../../../src/ir/train/optimizers.js';

/** Runs `steps` updates of one parameter with the gradients given; returns the parameter after each. */
function trajectory(config: OptimizerConfig, p0: number[], grads: number[][]): number[][] {
  const opt = makeOptimizer(config);
  const n = p0.length;
  const b = new GraphBuilder();
  const p = b.input('p', 'param', [n]);
  const g = b.input('g', 'data', [n]);
  const slots = opt.slots.map((s) => b.input(s, 'state', [n]));
  const globals = opt.globals.map((s) => b.input(s, 'state', []));
  const newGlobals = opt.begin(b, globals);
  const u = opt.update(b, p, g, slots, newGlobals);
  const graph = b.build();
  const state = new Map<string, Tensor>([['p', { shape: [n], data: Float64Array.from(p0) }]]);
  for (const s of opt.slots) state.set(s, { shape: [n], data: new Float64Array(n) });
  for (const s of opt.globals) state.set(s, { shape: [], data: new Float64Array(1) });
  const out: number[][] = [];
  for (const grad of grads) {
    state.set('g', { shape: [n], data: Float64Array.from(grad) });
    const v = interpret(graph, state);
    state.set('p', v[u.newParam]!);
    opt.slots.forEach((s, i) => state.set(s, v[u.newSlots[i]!]!));
    opt.globals.forEach((s, i) => state.set(s, v[newGlobals[i]!]!));
    out.push(Array.from(v[u.newParam]!.data));
  }
  return out;
}

const GRADS = [
  [0.5, -1],
  [0.25, 2],
  [-1, 0.1],
  [0.3, 0.3],
];
const P0 = [1, -2];

function expectTrajectory(got: number[][], want: number[][]) {
  got.forEach((row, t) => row.forEach((v, i) => expect(v).toBeCloseTo(want[t]![i]!, 12)));
}

describe('optimizers', () => {
  it('AdamW: Adam plus decoupled weight decay lr·wd·p', () => {
    const [lr, b1, b2, eps, wd] = [0.1, 0.9, 0.999, 1e-7, 0.05];
    const got = trajectory(
      { kind: 'adam', lr, beta1: b1, beta2: b2, epsilon: eps, epsilonPlacement: 'pytorch', weightDecay: wd },
      P0,
      GRADS,
    );
    let p = [...P0];
    const m = [0, 0];
    const v = [0, 0];
    const want = GRADS.map((g, t) => {
      p = p.map((pi, i) => {
        m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
        v[i] = b2 * v[i]! + (1 - b2) * g[i]! ** 2;
        const mHat = m[i]! / (1 - b1 ** (t + 1));
        const vHat = v[i]! / (1 - b2 ** (t + 1));
        return pi - lr * (mHat / (Math.sqrt(vHat) + eps) + wd * pi);
      });
      return p;
    });
    expectTrajectory(got, want);
  });

  it('Adam with beta_1 = 0 (a GAN setting): m is the gradient, no log(0) in the bias correction', () => {
    const [lr, b2, eps] = [0.01, 0.99, 1e-8];
    const got = trajectory(
      { kind: 'adam', lr, beta1: 0, beta2: b2, epsilon: eps, epsilonPlacement: 'pytorch', weightDecay: 0 },
      P0,
      GRADS,
    );
    let p = [...P0];
    const v = [0, 0];
    const want = GRADS.map((g, t) => {
      p = p.map((pi, i) => {
        v[i] = b2 * v[i]! + (1 - b2) * g[i]! ** 2;
        return pi - (lr * g[i]!) / (Math.sqrt(v[i]! / (1 - b2 ** (t + 1))) + eps);
      });
      return p;
    });
    expectTrajectory(got, want);
    // ln 0 = −∞ once reached the generated kernels as a constant WGSL cannot write.
    const text =
      'sequential M(x: [2]) {\n  Dense(1, activation: sigmoid)\n}\ntrain M {\n  data: xor\n  loss: binary_crossentropy\n  optimizer: Adam(lr: 0.01, beta_1: 0)\n}\n';
    const result = compile(text, { path: 'm.nnx' });
    expect(result.diagnostics).toEqual([]);
    expect(result.compiled).toBeDefined();
  });

  it('RMSProp: v ← ρv + (1 − ρ)g², p ← p − lr·g/(√v + ε)', () => {
    const [lr, rho, eps] = [0.01, 0.9, 1e-7];
    const got = trajectory(
      { kind: 'rmsprop', lr, rho, epsilon: eps, epsilonPlacement: 'pytorch' },
      P0,
      GRADS,
    );
    let p = [...P0];
    const v = [0, 0];
    const want = GRADS.map((g) => {
      p = p.map((pi, i) => {
        v[i] = rho * v[i]! + (1 - rho) * g[i]! ** 2;
        return pi - (lr * g[i]!) / (Math.sqrt(v[i]!) + eps);
      });
      return p;
    });
    expectTrajectory(got, want);
  });

  it('Adagrad: a ← a + g², p ← p − lr·g/(√(a₀ + a) + ε)', () => {
    const [lr, a0, eps] = [0.1, 0.1, 1e-7];
    const got = trajectory(
      { kind: 'adagrad', lr, initialAccumulator: a0, epsilon: eps, epsilonPlacement: 'pytorch' },
      P0,
      GRADS,
    );
    let p = [...P0];
    const a = [a0, a0];
    const want = GRADS.map((g) => {
      p = p.map((pi, i) => {
        a[i]! += g[i]! ** 2;
        return pi - (lr * g[i]!) / (Math.sqrt(a[i]!) + eps);
      });
      return p;
    });
    expectTrajectory(got, want);
  });

  // Keras' placements, each written as Keras' update_step computes it. ε is large (0.05) and the
  // gradients small, so the two placements differ well beyond the 1e-12 tolerance.
  const SMALL = GRADS.map((g) => g.map((x) => x * 0.01));
  const maxDiff = (a: number[][], b: number[][]) =>
    Math.max(...a.flatMap((row, t) => row.map((v, i) => Math.abs(v - b[t]![i]!))));

  it("Adam, epsilon_placement: keras: p ← p − lr·√(1−β2ᵗ)/(1−β1ᵗ)·m/(√v + ε), AdamW's decay too", () => {
    const [lr, b1, b2, eps, wd] = [0.1, 0.9, 0.999, 0.05, 0.05];
    const config = { kind: 'adam', lr, beta1: b1, beta2: b2, epsilon: eps, weightDecay: wd } as const;
    const got = trajectory({ ...config, epsilonPlacement: 'keras' }, P0, SMALL);
    let p = [...P0];
    const m = [0, 0];
    const v = [0, 0];
    const want = SMALL.map((g, t) => {
      const alpha = (lr * Math.sqrt(1 - b2 ** (t + 1))) / (1 - b1 ** (t + 1));
      p = p.map((pi, i) => {
        m[i]! += (g[i]! - m[i]!) * (1 - b1);
        v[i]! += (g[i]! ** 2 - v[i]!) * (1 - b2);
        // Keras applies the decay first (p −= lr·wd·p), then the step, which does not read p.
        return pi - lr * wd * pi - (alpha * m[i]!) / (Math.sqrt(v[i]!) + eps);
      });
      return p;
    });
    expectTrajectory(got, want);
    const pytorch = trajectory({ ...config, epsilonPlacement: 'pytorch' }, P0, SMALL);
    expect(maxDiff(got, pytorch)).toBeGreaterThan(1e-4);
  });

  it('RMSProp, epsilon_placement: keras: p ← p − lr·g/√(v + ε)', () => {
    const [lr, rho, eps] = [0.01, 0.9, 0.05];
    const got = trajectory({ kind: 'rmsprop', lr, rho, epsilon: eps, epsilonPlacement: 'keras' }, P0, SMALL);
    let p = [...P0];
    const v = [0, 0];
    const want = SMALL.map((g) => {
      p = p.map((pi, i) => {
        v[i] = rho * v[i]! + (1 - rho) * g[i]! ** 2;
        return pi - (lr * g[i]!) / Math.sqrt(v[i]! + eps);
      });
      return p;
    });
    expectTrajectory(got, want);
    const pytorch = trajectory(
      { kind: 'rmsprop', lr, rho, epsilon: eps, epsilonPlacement: 'pytorch' },
      P0,
      SMALL,
    );
    expect(maxDiff(got, pytorch)).toBeGreaterThan(1e-4);
  });

  it('Adagrad, epsilon_placement: keras: the accumulator starts at a₀, p ← p − lr·g/√(a + ε)', () => {
    const [lr, a0, eps] = [0.1, 0.1, 0.05];
    const config = { kind: 'adagrad', lr, initialAccumulator: a0, epsilon: eps } as const;
    const got = trajectory({ ...config, epsilonPlacement: 'keras' }, P0, SMALL);
    let p = [...P0];
    const a = [a0, a0];
    const want = SMALL.map((g) => {
      p = p.map((pi, i) => {
        a[i]! += g[i]! ** 2;
        return pi - (lr * g[i]!) / Math.sqrt(a[i]! + eps);
      });
      return p;
    });
    expectTrajectory(got, want);
    expect(maxDiff(got, trajectory({ ...config, epsilonPlacement: 'pytorch' }, P0, SMALL))).toBeGreaterThan(
      1e-4,
    );
  });

  const sgdWith = (schedule: NonNullable<OptimizerConfig['schedule']>) =>
    trajectory(
      { kind: 'sgd', lr: 0.5, momentum: 0, nesterov: false, schedule },
      [0],
      GRADS.map(() => [1]),
    );
  /** With g = 1, each step moves p by −lr(t): the differences are the learning rates. */
  const rates = (ps: number[][]) => ps.map((p, t) => (t === 0 ? -p[0]! : ps[t - 1]![0]! - p[0]!));

  it('step schedule: lr·γ^⌊t/s⌋', () => {
    rates(sgdWith({ kind: 'step', stepSize: 2, gamma: 0.1 })).forEach((r, t) =>
      expect(r).toBeCloseTo(0.5 * 0.1 ** Math.floor(t / 2), 12),
    );
  });
  it('exponential schedule: lr·r^(t/s), and staircase', () => {
    rates(sgdWith({ kind: 'exponential', decaySteps: 3, decayRate: 0.5, staircase: false })).forEach((r, t) =>
      expect(r).toBeCloseTo(0.5 * 0.5 ** (t / 3), 12),
    );
    rates(sgdWith({ kind: 'exponential', decaySteps: 3, decayRate: 0.5, staircase: true })).forEach((r, t) =>
      expect(r).toBeCloseTo(0.5 * 0.5 ** Math.floor(t / 3), 12),
    );
  });
  it('cosine schedule: lr·(α + (1 − α)·½(1 + cos(π·min(t, s)/s)))', () => {
    rates(sgdWith({ kind: 'cosine', decaySteps: 2, alpha: 0.1 })).forEach((r, t) =>
      expect(r).toBeCloseTo(0.5 * (0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * Math.min(t, 2)) / 2))), 12),
    );
  });

  it('train blocks bind the new optimizers and schedules', () => {
    const model = 'sequential M(x: [2]) {\n  Dense(1)\n}\n';
    const optimizer = (o: string) =>
      check(`${model}train M {\n  data: xor\n  loss: mse\n  optimizer: ${o}\n}\n`).trains[0]?.optimizer;
    expect(optimizer('AdamW(lr: 0.01, weight_decay: 0.1)')).toMatchObject({ kind: 'adam', weightDecay: 0.1 });
    expect(optimizer('RMSProp(rho: 0.8)')).toMatchObject({ kind: 'rmsprop', rho: 0.8, epsilon: 1e-7 });
    expect(optimizer('Adagrad()')).toMatchObject({ kind: 'adagrad', initialAccumulator: 0.1 });
    expect(optimizer('Adam()')).toMatchObject({ kind: 'adam', epsilonPlacement: 'pytorch' });
    expect(optimizer('Adam(epsilon_placement: keras)')).toMatchObject({
      kind: 'adam',
      epsilonPlacement: 'keras',
    });
    expect(optimizer('AdamW(epsilon_placement: keras)')).toMatchObject({ epsilonPlacement: 'keras' });
    expect(optimizer('RMSProp(epsilon_placement: keras)')).toMatchObject({ epsilonPlacement: 'keras' });
    expect(optimizer('Adagrad(epsilon_placement: keras)')).toMatchObject({ epsilonPlacement: 'keras' });
    expect(optimizer('SGD(lr: 0.1, schedule: cosine(decay_steps: 100))')).toMatchObject({
      schedule: { kind: 'cosine', decaySteps: 100, alpha: 0 },
    });
    expect(optimizer('Adam(schedule: exponential(decay_steps: 10, decay_rate: 0.5))')).toMatchObject({
      schedule: { kind: 'exponential', decaySteps: 10, decayRate: 0.5, staircase: false },
    });
  });

  it('an unknown placement, or one on SGD, is an error at its column', () => {
    const model = 'sequential M(x: [2]) {\n  Dense(1)\n}\n';
    const text = (o: string) => `${model}train M {\n  data: xor\n  loss: mse\n  optimizer: ${o}\n}\n`;
    const messages = (o: string) => check(text(o), { path: 'm.nnx' }).diagnostics.map((d) => d.message);
    expect(messages('Adam(epsilon_placement: tf)')).toEqual(['unknown epsilon_placement `tf` for Adam']);
    expect(messages('SGD(epsilon_placement: keras)')[0]).toMatch(/^SGD has no argument `epsilon_placement`/);
  });
});
