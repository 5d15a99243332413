/** The core layers: Dense, Activation, Flatten, Reshape. */
import { BATCH, type Dim } from '../../ir/graph.js';
import { applyActivation, ACTIVATION_CALLS } from './activations.js';
import { activationArg, initializerArg, paramSpec, regularizerArg } from './options.js';
import { createParam, type LayerDef, defineLayer, perSample } from './types.js';

export const dense = defineLayer({
  schema: [
    { name: 'units', type: 'int', min: 1 },
    activationArg(),
    { name: 'use_bias', type: 'bool', default: true },
    initializerArg('kernel_initializer', 'glorot_uniform', ['init']),
    initializerArg('bias_initializer', 'zeros'),
    regularizerArg('kernel_regularizer'),
    regularizerArg('bias_regularizer'),
  ],
  // Applied to the last axis, as Keras: [B, T, F] → [B, T, units] with one kernel for every step.
  accepts: (shape) =>
    shape.length >= 2 && typeof shape[shape.length - 1] === 'number'
      ? undefined
      : `Dense needs a fixed last (feature) axis, got ${perSample(shape)} per sample`,
  // Keras applies Dense to an image's last axis too, but after a Conv2D that is a missing Flatten.
  advise: (shape) =>
    shape.length === 4 && shape.slice(1).every((d) => typeof d === 'number')
      ? `Dense on the image ${perSample(shape)} applies to its channels only, one pixel at a time: add Flatten() before it to see the whole image`
      : undefined,
  create(args, path) {
    const { units, activation, use_bias: useBias } = args;
    let kernel: number | undefined;
    let bias: number | undefined;
    return {
      path,
      call(b, x, params) {
        const shape = b.shapeOf(x);
        const features = shape[shape.length - 1] as number;
        // Parameters are created once: a second call of the same instance shares them.
        kernel ??= createParam(
          params,
          b,
          `${path}/kernel`,
          [features, units],
          paramSpec(args.kernel_initializer, args.kernel_regularizer, features, units),
        );
        if (useBias) {
          const spec = paramSpec(args.bias_initializer, args.bias_regularizer, features, units);
          bias ??= createParam(params, b, `${path}/bias`, [units], spec);
        }
        let y = b.matmul(x, kernel);
        if (bias !== undefined) y = b.add(y, bias);
        return applyActivation(b, y, activation);
      },
    };
  },
});

export const activationLayer = defineLayer({
  schema: [{ name: 'activation', type: 'choice', calls: ACTIVATION_CALLS }],
  create: ({ activation }, path) => ({ path, call: (b, x) => applyActivation(b, x, activation) }),
});

/** [B, d1, d2, …] → [B, d1·d2·…], in row-major (NHWC) order as Keras and TF.js. */
export const flatten: LayerDef = {
  schema: [],
  accepts: (shape) =>
    shape.slice(1).every((d) => typeof d === 'number')
      ? undefined
      : `Flatten needs fixed dimensions after the batch, got ${perSample(shape)}`,
  create(_args, path) {
    return {
      path,
      call: (b, x) => {
        const shape = b.shapeOf(x);
        const size = shape.slice(1).reduce<number>((a, d) => a * (d as number), 1);
        return b.reshape(x, [shape[0]!, size]);
      },
    };
  },
};

/** Reshape(target_shape: [7, 7, 64]): a new per-sample shape with as many elements. */
export const reshape = defineLayer({
  schema: [{ name: 'target_shape', type: 'shape', aliases: ['shape'] }],
  create({ target_shape: target }, path) {
    return {
      path,
      call: (b, x) => {
        const shape = b.shapeOf(x);
        const dims: Dim[] = [shape[0] ?? BATCH, ...target];
        return b.reshape(x, dims);
      },
    };
  },
});
