/**
 * Sequences: Embedding (a gather of table rows) and the recurrent layers SimpleRNN, LSTM and
 * GRU, unrolled over the static sequence length (inputs [B, T, F]). Weights use Keras' layouts
 * and gate orders (LSTM: i, f, c, o; GRU: z, r, h with `reset_after`), so the whole step's input
 * projection is one matmul per step, sliced into gates.
 */
import type { GraphBuilder } from '../../ir/builder.js';
import type { Shape } from '../../ir/graph.js';
import { type ArgSchema, type ArgsOf, argsOf } from '../args.js';
import { ACTIVATION_CALLS, applyActivation } from './activations.js';
import {
  type InitializerChoice,
  type RegularizerChoice,
  initializerArg,
  paramSpec,
  regularizerArg,
} from './options.js';
import { createParam, defineLayer, type LayerDef, type ParamFactory, perSample } from './types.js';

/** Embedding(input_dim, output_dim): [B, …] integer-valued indices → [B, …, output_dim]. */
export const embedding = defineLayer({
  schema: [
    { name: 'input_dim', type: 'int', min: 1 },
    { name: 'output_dim', type: 'int', min: 1 },
    initializerArg('embeddings_initializer', 'random_uniform'),
    regularizerArg('embeddings_regularizer'),
  ],
  create(args, path) {
    const { input_dim: rows, output_dim: width } = args;
    let table: number | undefined;
    return {
      path,
      call(b, x, params) {
        table ??= createParam(
          params,
          b,
          `${path}/embeddings`,
          [rows, width],
          paramSpec(args.embeddings_initializer, args.embeddings_regularizer, rows, width),
        );
        return b.emit('gather', [table, x], {});
      },
    };
  },
});

/** The largest number of tensors one concat kernel joins (WebGPU guarantees 8 storage buffers). */
const CONCAT_FANIN = 6;

/** Joins many tensors along `axis` as a tree of concats of at most {@link CONCAT_FANIN}. */
export function concatMany(b: GraphBuilder, xs: readonly number[], axis: number): number {
  if (xs.length === 1) return xs[0]!;
  if (xs.length <= CONCAT_FANIN) return b.emit('concat', xs, { axis });
  const groups: number[] = [];
  for (let i = 0; i < xs.length; i += CONCAT_FANIN)
    groups.push(concatMany(b, xs.slice(i, i + CONCAT_FANIN), axis));
  return concatMany(b, groups, axis);
}

const sequenceCheck = (layer: string) => (shape: Shape) =>
  shape.length === 3 && typeof shape[1] === 'number' && typeof shape[2] === 'number'
    ? undefined
    : `${layer} takes sequences of shape [steps, features] per sample, got ${perSample(shape)}`;

/** An activation argument with its default, for the cell's and the gates' activations. */
const activationChoice = <const N extends string>(name: N, activation: string) =>
  ({
    name,
    type: 'choice',
    calls: ACTIVATION_CALLS,
    default: { choice: activation, values: new Map(), span: { start: 0, end: 0 } },
  }) as const;

const RECURRENT_SCHEMA = [
  { name: 'units', type: 'int', min: 1 },
  activationChoice('activation', 'tanh'),
  { name: 'return_sequences', type: 'bool', default: false },
  { name: 'use_bias', type: 'bool', default: true },
  initializerArg('kernel_initializer', 'glorot_uniform', ['init']),
  initializerArg('recurrent_initializer', 'orthogonal'),
  initializerArg('bias_initializer', 'zeros'),
  regularizerArg('kernel_regularizer'),
  regularizerArg('recurrent_regularizer'),
  regularizerArg('bias_regularizer'),
] as const;

/** The typed arguments of a recurrent layer whose own arguments are `E`. */
type RecurrentArgs<E extends readonly ArgSchema[]> = ArgsOf<readonly [...typeof RECURRENT_SCHEMA, ...E]>;

/** One recurrent cell: the state it carries and how a step updates it. */
interface Cell {
  /** Gates per unit: 1 (SimpleRNN), 4 (LSTM), 3 (GRU). */
  readonly gates: number;
  /** The new state from the step's input projection x·W (+ bias) and the previous state. */
  step(b: GraphBuilder, xw: number, state: State | undefined): State;
}

interface State {
  readonly h: number;
  readonly c?: number;
}

interface Weights {
  kernel: number;
  recurrent: number;
  bias?: number;
}

function slice(b: GraphBuilder, x: number, gate: number, units: number): number {
  return b.emit('slice', [x], { axis: b.shapeOf(x).length - 1, start: gate * units, size: units });
}

/** Unrolls `cell` over the steps of x: [B, T, F] → [B, units] (last state) or [B, T, units]. */
function recurrentLayer<const E extends readonly ArgSchema[]>(
  layer: string,
  makeCell: (args: RecurrentArgs<E>, w: () => Weights) => Cell,
  extra: E,
): LayerDef {
  const schema: readonly [...typeof RECURRENT_SCHEMA, ...E] = [...RECURRENT_SCHEMA, ...extra];
  return defineLayer({
    schema,
    accepts: sequenceCheck(layer),
    create(args, path, bound) {
      // The shared arguments, read through their own schema (the cell reads its own through `args`).
      const base = argsOf(RECURRENT_SCHEMA, bound.values);
      const { units, return_sequences: sequences, use_bias: useBias } = base;
      let weights: Weights | undefined;
      const cell = makeCell(args, () => weights!);
      const create = (b: GraphBuilder, params: ParamFactory, features: number): Weights => {
        const n = cell.gates * units;
        const spec = (init: InitializerChoice, reg: RegularizerChoice, fanIn: number) =>
          paramSpec(init, reg, fanIn, n);
        const kernel = spec(base.kernel_initializer, base.kernel_regularizer, features);
        const recurrent = spec(base.recurrent_initializer, base.recurrent_regularizer, units);
        const bias = spec(base.bias_initializer, base.bias_regularizer, features);
        return {
          kernel: createParam(params, b, `${path}/kernel`, [features, n], kernel),
          recurrent: createParam(params, b, `${path}/recurrent_kernel`, [units, n], recurrent),
          ...(useBias ? { bias: createParam(params, b, `${path}/bias`, [n], bias) } : {}),
        };
      };
      return {
        path,
        call(b, x, params) {
          const [batch, steps, features] = b.shapeOf(x) as [string | number, number, number];
          // Each step is a copy of the cell in the graph: a long sequence counts as that many.
          if (params.unrollSteps && !params.unrollSteps(steps, layer))
            return b.broadcast(b.constant(0), sequences ? [batch, 1, units] : [batch, units]);
          weights ??= create(b, params, features);
          const outputs: number[] = [];
          let state: State | undefined;
          for (let t = 0; t < steps; t++) {
            const xt = b.reshape(b.emit('slice', [x], { axis: 1, start: t, size: 1 }), [batch, features]);
            let xw = b.matmul(xt, weights.kernel);
            if (weights.bias !== undefined) xw = b.add(xw, weights.bias);
            state = cell.step(b, xw, state);
            if (sequences) outputs.push(b.reshape(state.h, [batch, 1, units]));
          }
          return sequences ? concatMany(b, outputs, 1) : state!.h;
        },
      };
    },
  });
}

/** h ← act(x·W + b + h·U); the first step starts from h = 0. */
export const simpleRnn = recurrentLayer(
  'SimpleRNN',
  ({ activation }, w) => ({
    gates: 1,
    step: (b, xw, state) => ({
      h: applyActivation(b, state ? b.add(xw, b.matmul(state.h, w().recurrent)) : xw, activation),
    }),
  }),
  [],
);

/**
 * c ← f·c + i·g, h ← o·act(c) with [i, f, g, o] = [σ, σ, act, σ](x·W + b + h·U). With
 * `unit_forget_bias` (Keras' default) the forget gate gets +1, Keras' bias initialisation
 * expressed as a constant, so the stored bias starts at zero (docs/numerics.md).
 */
export const lstm = recurrentLayer(
  'LSTM',
  (args, w) => {
    const { activation, recurrent_activation: gate, unit_forget_bias: forgetBias, units } = args;
    return {
      gates: 4,
      step(b, xw, state) {
        const z = state ? b.add(xw, b.matmul(state.h, w().recurrent)) : xw;
        const part = (k: number) => slice(b, z, k, units);
        const i = applyActivation(b, part(0), gate);
        const fz = part(1);
        const f = applyActivation(b, forgetBias ? b.add(fz, b.constant(1)) : fz, gate);
        const g = applyActivation(b, part(2), activation);
        const o = applyActivation(b, part(3), gate);
        const c = state?.c === undefined ? b.mul(i, g) : b.add(b.mul(f, state.c), b.mul(i, g));
        return { h: b.mul(o, applyActivation(b, c, activation)), c };
      },
    };
  },
  [
    activationChoice('recurrent_activation', 'sigmoid'),
    { name: 'unit_forget_bias', type: 'bool', default: true },
  ],
);

/**
 * GRU with `reset_after` (Keras 2+ and PyTorch): [z, r] = σ(xW + b + hU), h̃ = act(x_h + r·(hU_h)),
 * h ← z·h + (1 − z)·h̃. One bias on the input side (the recurrent side's is not kept).
 */
export const gru = recurrentLayer(
  'GRU',
  (args, w) => {
    const { activation, recurrent_activation: gate, units } = args;
    return {
      gates: 3,
      step(b, xw, state) {
        const x = (k: number) => slice(b, xw, k, units);
        if (!state) {
          // h = 0: the recurrent terms vanish.
          const z = applyActivation(b, x(0), gate);
          const hh = applyActivation(b, x(2), activation);
          return { h: b.mul(b.sub(b.constant(1), z), hh) };
        }
        const hu = b.matmul(state.h, w().recurrent);
        const u = (k: number) => slice(b, hu, k, units);
        const z = applyActivation(b, b.add(x(0), u(0)), gate);
        const r = applyActivation(b, b.add(x(1), u(1)), gate);
        const hh = applyActivation(b, b.add(x(2), b.mul(r, u(2))), activation);
        return { h: b.add(b.mul(z, state.h), b.mul(b.sub(b.constant(1), z), hh)) };
      },
    };
  },
  [activationChoice('recurrent_activation', 'sigmoid')],
);
