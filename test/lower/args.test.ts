/**
 * Typed argument views: the TypeScript type of each argument comes from its schema entry (checked
 * by tsc through expectTypeOf), argsOf reads back what bindArgs bound, and the vocabularies built
 * on it (the optimizers and their schedules) turn a train block's call into the same config.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type ArgSchema, type ArgsOf, argsOf } from '../../src/lower/args.js';
import { compile } from '../../src/compile.js';

const SCHEMA = [
  { name: 'units', type: 'int', min: 1 },
  { name: 'mode', type: 'name', choices: ['fan_in', 'fan_out'], default: 'fan_in' },
  { name: 'kernel', type: 'int-pair', default: [3, 3] },
  {
    name: 'reg',
    type: 'choice',
    calls: { none: [], l2: [{ name: 'l2', type: 'float', default: 0.01 }] },
    default: { choice: 'none', values: new Map(), span: { start: 0, end: 0 } },
  },
] as const satisfies readonly ArgSchema[];

describe('argument types derived from the schema', () => {
  it('maps each argument type to its TypeScript type', () => {
    type A = ArgsOf<typeof SCHEMA>;
    expectTypeOf<A['units']>().toEqualTypeOf<number>();
    expectTypeOf<A['mode']>().toEqualTypeOf<'fan_in' | 'fan_out'>();
    expectTypeOf<A['kernel']>().toEqualTypeOf<readonly [number, number]>();
    expectTypeOf<A['reg']['choice']>().toEqualTypeOf<'none' | 'l2'>();
    expectTypeOf<Extract<A['reg'], { choice: 'l2' }>['args']['l2']>().toEqualTypeOf<number>();
  });

  it('argsOf reads every bound value, a chosen call with its own arguments', () => {
    const span = { start: 4, end: 9 };
    const values = new Map<string, never>([
      ['units', 8 as never],
      ['mode', 'fan_out' as never],
      ['kernel', [3, 5] as never],
      ['reg', { choice: 'l2', values: new Map([['l2', 0.5]]), span } as never],
    ]);
    expect(argsOf(SCHEMA, values)).toEqual({
      units: 8,
      mode: 'fan_out',
      kernel: [3, 5],
      reg: { choice: 'l2', args: { l2: 0.5 }, span },
    });
    expect(() => argsOf(SCHEMA, new Map())).toThrow(/argument units was not bound/);
  });
});

function optimizerOf(call: string) {
  const text = `sequential M(x: [2]) { Dense(1) }\ntrain M { data: xor  loss: mse  optimizer: ${call}  batch: 4  epochs: 1 }`;
  const result = compile(text.replace(/ {2}/g, '\n'));
  expect(result.diagnostics).toEqual([]);
  return result.train!.optimizer;
}

describe('optimizers read their typed arguments', () => {
  it('SGD with defaults and a step schedule', () =>
    expect(optimizerOf('SGD(momentum: 0.9, schedule: step(step_size: 10))')).toEqual({
      kind: 'sgd',
      lr: 0.01,
      momentum: 0.9,
      nesterov: false,
      schedule: { kind: 'step', stepSize: 10, gamma: 0.1 },
    }));
  it('AdamW by its Keras spellings, with an exponential schedule', () =>
    expect(
      optimizerOf(
        'AdamW(learning_rate: 0.002, beta_1: 0.8, schedule: exponential(decay_steps: 5, staircase: true))',
      ),
    ).toEqual({
      kind: 'adam',
      lr: 0.002,
      beta1: 0.8,
      beta2: 0.999,
      epsilon: 1e-7,
      epsilonPlacement: 'pytorch',
      weightDecay: 0.01,
      schedule: { kind: 'exponential', decaySteps: 5, decayRate: 0.96, staircase: true },
    }));
  it('Adagrad with a cosine schedule; a constant schedule adds none', () => {
    expect(optimizerOf('Adagrad(schedule: cosine(decay_steps: 100, alpha: 0.1))')).toEqual({
      kind: 'adagrad',
      lr: 0.001,
      initialAccumulator: 0.1,
      epsilon: 1e-7,
      epsilonPlacement: 'pytorch',
      schedule: { kind: 'cosine', decaySteps: 100, alpha: 0.1 },
    });
    expect(optimizerOf('RMSProp(rho: 0.8)')).toEqual({
      kind: 'rmsprop',
      lr: 0.001,
      rho: 0.8,
      epsilon: 1e-7,
      epsilonPlacement: 'pytorch',
    });
  });
});
