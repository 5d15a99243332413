/**
 * Layers that behave differently in training: Dropout (a fresh mask each step, drawn on the GPU
 * from a counter; nothing in inference) and BatchNormalization (batch statistics and a running
 * average in training; the running statistics in inference). LayerNormalization is the same in
 * both. Defaults are Keras' (docs/numerics.md).
 */
import { type GraphBuilder, ShapeError } from '../../ir/builder.js';
import type { Shape } from '../../ir/graph.js';
import { saltOf } from '../../ir/ops/random.js';
import type { ArgsOf } from '../args.js';
import {
  type InitializerChoice,
  type RegularizerChoice,
  initializerArg,
  paramSpec,
  regularizerArg,
} from './options.js';
import { createParam, defineLayer, type LayerDef, modeOf, type ParamFactory, perSample } from './types.js';

/** Dropout(rate, seed): in training, zeroes each element with probability `rate` and scales the rest by 1/(1 − rate). */
export const dropout = defineLayer({
  schema: [
    { name: 'rate', type: 'float', min: 0, max: 0.99 },
    { name: 'seed', type: 'int', min: 0, default: 0 },
  ],
  create({ rate, seed }, path) {
    let calls = 0;
    return {
      path,
      call(b, x, params) {
        if (modeOf(params) === 'infer' || rate === 0) return x;
        const training = params.training!;
        // Each call of the instance draws its own mask.
        const salt = saltOf(`${path}#${calls++}`, seed);
        const u = training.randomUniform(b, b.shapeOf(x), salt);
        const keep = b.binary('gt', u, b.constant(rate));
        return b.mul(x, b.mul(keep, b.constant(1 / (1 - rate))));
      },
    };
  },
});

const NORM_SCHEMA = [
  { name: 'epsilon', type: 'float', min: 0, default: 1e-3 },
  { name: 'center', type: 'bool', default: true },
  { name: 'scale', type: 'bool', default: true },
  initializerArg('beta_initializer', 'zeros'),
  initializerArg('gamma_initializer', 'ones'),
  regularizerArg('beta_regularizer'),
  regularizerArg('gamma_regularizer'),
] as const;

/** y = γ·(x − mean)/√(var + ε) + β over the last axis, with γ and β per feature. */
function affine(
  b: GraphBuilder,
  normalized: number,
  gamma: number | undefined,
  beta: number | undefined,
): number {
  let y = normalized;
  if (gamma !== undefined) y = b.mul(y, gamma);
  if (beta !== undefined) y = b.add(y, beta);
  return y;
}

const lastFixed = (layer: string) => (shape: Shape) =>
  shape.length >= 2 && typeof shape[shape.length - 1] === 'number'
    ? undefined
    : `${layer} needs a fixed last (feature) axis, got ${perSample(shape)}`;

interface NormParams {
  gamma?: number;
  beta?: number;
}

function normParams(
  b: GraphBuilder,
  params: ParamFactory,
  path: string,
  args: ArgsOf<typeof NORM_SCHEMA>,
  features: number,
  own: NormParams,
): NormParams {
  const spec = (init: InitializerChoice, reg: RegularizerChoice) => paramSpec(init, reg, features, features);
  if (args.scale && own.gamma === undefined)
    own.gamma = createParam(
      params,
      b,
      `${path}/gamma`,
      [features],
      spec(args.gamma_initializer, args.gamma_regularizer),
    );
  if (args.center && own.beta === undefined)
    own.beta = createParam(
      params,
      b,
      `${path}/beta`,
      [features],
      spec(args.beta_initializer, args.beta_regularizer),
    );
  return own;
}

/** Keras' floor under Normalization's deviation (its backend epsilon). */
const NORMALIZATION_MIN_STD = 1e-7;

/**
 * Normalization, Keras' preprocessing layer: (x − mean) / max(√variance, 1e-7) per feature of
 * the last axis. Mean and variance are statistics of the training data, not trained: `nnxc
 * train` (or `NnxModel.adapt`) sets them from the model input the layer is applied to, and they
 * are saved with the weights, so evaluate and predict take raw values as training did.
 */
export const normalization: LayerDef = {
  schema: [],
  accepts: lastFixed('Normalization'),
  create(_args, path) {
    let stats: { mean: number; variance: number } | undefined;
    return {
      path,
      call(b, x, params) {
        const source = b.node(x);
        if (source.op !== 'input' || source.params.role !== 'data')
          throw new ShapeError(
            'Normalization learns its mean and variance from the training data, so it must be applied ' +
              'to a model input directly; put it first, on the input',
            undefined,
          );
        const input = source.params.name;
        const shape = b.shapeOf(x);
        const features = shape[shape.length - 1] as number;
        const stat = (statistic: 'mean' | 'variance', kind: 'zeros' | 'ones') =>
          createParam(params, b, `${path}/${statistic}`, [features], {
            init: { kind, fanIn: features, fanOut: features, adapt: { input, statistic } },
            trainable: false,
          });
        stats ??= { mean: stat('mean', 'zeros'), variance: stat('variance', 'ones') };
        const std = b.binary('max', b.unary('sqrt', stats.variance), b.constant(NORMALIZATION_MIN_STD));
        return b.div(b.sub(x, stats.mean), std);
      },
    };
  },
};

/**
 * BatchNormalization over every axis but the last (features, or channels of NHWC images).
 * Training uses the batch's statistics, over real samples only (the padding of a partial
 * batch is masked out), and moves the running ones by `momentum` (Keras' form and default:
 * running ← running·momentum + batch·(1 − momentum), biased variance).
 */
export const batchNormalization = defineLayer({
  schema: [{ name: 'momentum', type: 'float', min: 0, max: 1, default: 0.99 }, ...NORM_SCHEMA],
  accepts: lastFixed('BatchNormalization'),
  create(args, path) {
    const { momentum, epsilon: eps } = args;
    const own: NormParams = {};
    let running: { mean: number; variance: number } | undefined;
    return {
      path,
      call(b, x, params) {
        const shape = b.shapeOf(x);
        const features = shape[shape.length - 1] as number;
        const { gamma, beta } = normParams(b, params, path, args, features, own);
        const stat = (name: string, kind: 'zeros' | 'ones') =>
          createParam(params, b, `${path}/${name}`, [features], {
            init: { kind, fanIn: features, fanOut: features },
            trainable: false,
          });
        running ??= { mean: stat('moving_mean', 'zeros'), variance: stat('moving_variance', 'ones') };
        const axes = shape.slice(0, -1).map((_, i) => i);
        const c = (v: number) => b.constant(v);
        if (modeOf(params) === 'infer') {
          const inv = b.unary('sqrt', b.add(running.variance, c(eps)));
          return affine(b, b.div(b.sub(x, running.mean), inv), gamma, beta);
        }
        const training = params.training!;
        // The mask as [B, 1, …, 1], so padding rows weigh nothing in the statistics.
        const mask = b.reshape(training.sampleMask(b), [shape[0]!, ...shape.slice(1, -1).map(() => 1), 1]);
        const perSample = shape.slice(1, -1).reduce<number>((a, d) => a * (d as number), 1);
        const count = b.mul(b.binary('max', b.sum(training.sampleMask(b), [0]), c(1)), c(perSample));
        const mean = b.div(b.sum(b.mul(x, mask), axes), count);
        const centered = b.sub(x, mean);
        const variance = b.div(b.sum(b.mul(b.mul(centered, centered), mask), axes), count);
        const blend = (old: number, batch: number) =>
          b.add(b.mul(old, c(momentum)), b.mul(batch, c(1 - momentum)));
        training.update(`${path}/moving_mean`, running.mean, blend(running.mean, mean));
        training.update(`${path}/moving_variance`, running.variance, blend(running.variance, variance));
        return affine(b, b.div(centered, b.unary('sqrt', b.add(variance, c(eps)))), gamma, beta);
      },
    };
  },
});

/** LayerNormalization over the last axis of each sample (Keras' ε = 1e-3; PyTorch's is 1e-5). */
export const layerNormalization = defineLayer({
  schema: NORM_SCHEMA,
  accepts: lastFixed('LayerNormalization'),
  create(args, path) {
    const eps = args.epsilon;
    const own: NormParams = {};
    return {
      path,
      call(b, x, params) {
        const shape = b.shapeOf(x);
        const axis = shape.length - 1;
        const { gamma, beta } = normParams(b, params, path, args, shape[axis] as number, own);
        const mean = b.broadcast(b.mean(x, [axis], true), shape);
        const centered = b.sub(x, mean);
        const variance = b.broadcast(b.mean(b.mul(centered, centered), [axis], true), shape);
        return affine(b, b.div(centered, b.unary('sqrt', b.add(variance, b.constant(eps)))), gamma, beta);
      },
    };
  },
});
