/**
 * Convolution, pooling and upsampling over NHWC images: Conv2D (HWIO kernels), MaxPool2D,
 * AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D and UpSampling2D. `same` and `valid` padding
 * are turned into explicit padding here, as TensorFlow computes it.
 */
import { type GraphBuilder, ShapeError } from '../../ir/builder.js';
import type { Shape } from '../../ir/graph.js';
import { samePadding, windowOutput } from '../../ir/ops/window.js';
import type { ArgSchema } from '../args.js';
import { applyActivation } from './activations.js';
import { activationArg, initializerArg, paramSpec, regularizerArg } from './options.js';
import { createParam, type LayerDef, defineLayer, perSample } from './types.js';

type Pair = readonly [number, number];
type Pad = [number, number, number, number];

const PADDING = {
  name: 'padding',
  type: 'name',
  choices: ['valid', 'same'],
  default: 'valid',
} as const satisfies ArgSchema;

function imageCheck(layer: string): (shape: Shape) => string | undefined {
  return (shape) =>
    shape.length === 4 && shape.slice(1).every((d) => typeof d === 'number')
      ? undefined
      : `${layer} expects an image [H, W, C] per sample, got ${perSample(shape)}${imageHint(shape)}`;
}

/** How to make an image of a flat or grey input: `x: [28, 28, 1]` for [784], a channel axis for [28, 28]. */
function imageHint(shape: Shape): string {
  const dims = shape.slice(1);
  if (dims.length === 2 && dims.every((d) => typeof d === 'number'))
    return `: give it a channel axis, as in \`Reshape([${dims[0]}, ${dims[1]}, 1])\``;
  const side = typeof dims[0] === 'number' ? Math.sqrt(dims[0]) : NaN;
  if (dims.length === 1 && Number.isInteger(side))
    return `: declare the input as an image, as in \`x: [${side}, ${side}, 1]\`, or add \`Reshape([${side}, ${side}, 1])\` before it`;
  return '';
}

/** Explicit (top, left, bottom, right) padding for `same` or `valid`. */
function padding(mode: string, [h, w]: Pair, k: Pair, s: Pair, d: Pair): Pad {
  if (mode === 'valid') return [0, 0, 0, 0];
  const [top, bottom] = samePadding(h, k[0], s[0], d[0]);
  const [left, right] = samePadding(w, k[1], s[1], d[1]);
  return [top, left, bottom, right];
}

function hw(b: GraphBuilder, x: number): Pair {
  const s = b.shapeOf(x);
  return [s[1] as number, s[2] as number];
}

/** A message when a window of `k` (dilated by `d`) does not fit a `valid` input. */
function fits(layer: string, [h, w]: Pair, k: Pair, s: Pair, d: Pair, pad: Pad): string | undefined {
  const oh = windowOutput(h, k[0], s[0], d[0], pad[0], pad[2]);
  const ow = windowOutput(w, k[1], s[1], d[1], pad[1], pad[3]);
  if (oh >= 1 && ow >= 1) return undefined;
  return `${layer}: a ${k[0]}×${k[1]} window${d[0] > 1 || d[1] > 1 ? ` dilated by ${d[0]}×${d[1]}` : ''} does not fit a ${h}×${w} image without padding; use padding: same or a smaller window`;
}

export const conv2d = defineLayer({
  schema: [
    { name: 'filters', type: 'int', min: 1 },
    { name: 'kernel_size', type: 'int-pair' },
    { name: 'strides', type: 'int-pair', default: [1, 1] },
    PADDING,
    { name: 'dilation_rate', type: 'int-pair', default: [1, 1], aliases: ['dilation'] },
    activationArg(),
    { name: 'use_bias', type: 'bool', default: true },
    initializerArg('kernel_initializer', 'glorot_uniform', ['init']),
    initializerArg('bias_initializer', 'zeros'),
    regularizerArg('kernel_regularizer'),
    regularizerArg('bias_regularizer'),
  ],
  accepts: imageCheck('Conv2D'),
  create(a, path) {
    const { filters, kernel_size: k, strides: s, dilation_rate: d, padding: mode, activation } = a;
    const useBias = a.use_bias;
    let kernel: number | undefined;
    let bias: number | undefined;
    return {
      path,
      call(b, x, params) {
        const channels = b.shapeOf(x)[3] as number;
        const pad = padding(mode, hw(b, x), k, s, d);
        const problem = fits('Conv2D', hw(b, x), k, s, d, pad);
        if (problem) throw new ShapeError(problem, b.span);
        const [fanIn, fanOut] = [k[0] * k[1] * channels, k[0] * k[1] * filters];
        const shape = [k[0], k[1], channels, filters];
        kernel ??= createParam(
          params,
          b,
          `${path}/kernel`,
          shape,
          paramSpec(a.kernel_initializer, a.kernel_regularizer, fanIn, fanOut),
        );
        if (useBias) {
          const spec = paramSpec(a.bias_initializer, a.bias_regularizer, fanIn, fanOut);
          bias ??= createParam(params, b, `${path}/bias`, [filters], spec);
        }
        let y = b.emit('conv2d', [x, kernel], { strides: s, dilation: d, pad });
        if (bias !== undefined) y = b.add(y, bias);
        return applyActivation(b, y, activation);
      },
    };
  },
});

function pooling(layer: string, op: 'max_pool2d' | 'avg_pool2d'): LayerDef {
  return defineLayer({
    schema: [
      { name: 'pool_size', type: 'int-pair', default: [2, 2] },
      // Strides default to the pool size (Keras' None).
      { name: 'strides', type: 'int-pair', default: [0, 0], min: 1 },
      PADDING,
    ],
    accepts: imageCheck(layer),
    create({ pool_size: k, strides: given, padding: mode }, path) {
      const s: Pair = given[0] === 0 ? k : given;
      return {
        path,
        call(b, x) {
          const pad = padding(mode, hw(b, x), k, s, [1, 1]);
          const problem = fits(layer, hw(b, x), k, s, [1, 1], pad);
          if (problem) throw new ShapeError(problem, b.span);
          return b.emit(op, [x], { window: k, strides: s, pad });
        },
      };
    },
  });
}

export const maxPool2d = pooling('MaxPool2D', 'max_pool2d');
export const avgPool2d = pooling('AveragePooling2D', 'avg_pool2d');

function globalPooling(layer: string, reduce: (b: GraphBuilder, x: number) => number): LayerDef {
  return { schema: [], accepts: imageCheck(layer), create: (_args, path) => ({ path, call: reduce }) };
}

/**
 * UpSampling2D(size: 2): each pixel repeated size×size times (Keras' nearest interpolation), the
 * way a DCGAN-style generator grows its images between convolutions. It is a broadcast between
 * two reshapes, so its gradient sums each block and it fuses into its neighbours.
 */
export const upSampling2d = defineLayer({
  schema: [{ name: 'size', type: 'int-pair', default: [2, 2] }],
  accepts: imageCheck('UpSampling2D'),
  create({ size: [sh, sw] }, path) {
    return {
      path,
      call(b, x) {
        const [n, h, w, c] = b.shapeOf(x) as [Shape[number], number, number, number];
        const spread = b.broadcast(b.reshape(x, [n, h, 1, w, 1, c]), [n, h, sh, w, sw, c]);
        return b.reshape(spread, [n, h * sh, w * sw, c]);
      },
    };
  },
});

/** [B, H, W, C] → [B, C]: the mean over each channel's pixels. */
export const globalAvgPool2d = globalPooling('GlobalAveragePooling2D', (b, x) => b.mean(x, [1, 2]));
export const globalMaxPool2d = globalPooling('GlobalMaxPooling2D', (b, x) => b.reduceMax(x, [1, 2]));
