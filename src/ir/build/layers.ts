/**
 * Layers and activations, lowered to primitive IR. A layer is created from its bound arguments
 * and owns its parameters; it creates them on its first call, when the input shape is known.
 */
import type { GraphBuilder } from '../builder.js';
import { BATCH, type InitKind, type Shape } from '../graph.js';
import type { ArgSchema, BoundArgs } from './args.js';

/** An activation lowered to IR. `softmax` runs over the last axis. */
export const ACTIVATIONS = {
  linear: (_b: GraphBuilder, x: number) => x,
  relu: (b: GraphBuilder, x: number) => b.unary('relu', x),
  sigmoid: (b: GraphBuilder, x: number) => b.unary('sigmoid', x),
  tanh: (b: GraphBuilder, x: number) => b.unary('tanh', x),
  softplus: (b: GraphBuilder, x: number) => b.unary('softplus', x),
  softmax: (b: GraphBuilder, x: number) => softmax(b, x),
} as const;
export type Activation = keyof typeof ACTIVATIONS;
export const ACTIVATION_NAMES = Object.keys(ACTIVATIONS) as Activation[];

/** exp(x − max x) / Σ exp(x − max x) over the last axis; losses recognise this pattern. */
export function softmax(b: GraphBuilder, x: number): number {
  const shape = b.shapeOf(x);
  const axis = shape.length - 1;
  const shifted = b.sub(x, b.broadcast(b.reduceMax(x, [axis], true), shape));
  const e = b.unary('exp', shifted);
  return b.div(e, b.broadcast(b.sum(e, [axis], true), shape));
}

export const INITIALIZERS: readonly InitKind[] = [
  'glorot_uniform',
  'glorot_normal',
  'he_normal',
  'he_uniform',
  'zeros',
  'ones',
];

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
}

export interface LayerInstance {
  /** `dense_1`, or the name it was bound to: the prefix of its parameters' names. */
  readonly path: string;
  call(b: GraphBuilder, x: number, params: ParamFactory): number;
}

export interface LayerDef {
  readonly schema: readonly ArgSchema[];
  /** Validates the input shape; returns a message when the layer cannot take it. */
  readonly accepts?: (shape: Shape) => string | undefined;
  create(args: BoundArgs, path: string): LayerInstance;
}

function perSample(shape: Shape): string {
  return `[${shape.filter((_, i) => i > 0 || shape[0] !== BATCH).join(', ')}]`;
}

const dense: LayerDef = {
  schema: [
    { name: 'units', type: 'int', min: 1 },
    { name: 'activation', type: 'name', choices: ACTIVATION_NAMES, default: 'linear' },
    { name: 'use_bias', type: 'bool', default: true },
    {
      name: 'kernel_initializer',
      type: 'name',
      choices: INITIALIZERS,
      default: 'glorot_uniform',
      aliases: ['init'],
    },
    { name: 'bias_initializer', type: 'name', choices: INITIALIZERS, default: 'zeros' },
  ],
  accepts: (shape) =>
    shape.length === 2 && typeof shape[1] === 'number'
      ? undefined
      : `Dense takes a flat input of shape [features] per sample, got ${perSample(shape)}; add Flatten() before it`,
  create(args, path) {
    const units = args.values.get('units') as number;
    const activation = args.values.get('activation') as Activation;
    const useBias = args.values.get('use_bias') as boolean;
    const kernelInit = args.values.get('kernel_initializer') as InitKind;
    const biasInit = args.values.get('bias_initializer') as InitKind;
    let kernel: number | undefined;
    let bias: number | undefined;
    return {
      path,
      call(b, x, params) {
        const features = b.shapeOf(x)[1] as number;
        // Parameters are created once: a second call of the same instance shares them.
        kernel ??= params.param(b, `${path}/kernel`, [features, units], kernelInit, features, units);
        if (useBias) bias ??= params.param(b, `${path}/bias`, [units], biasInit, features, units);
        let y = b.matmul(x, kernel);
        if (bias !== undefined) y = b.add(y, bias);
        return ACTIVATIONS[activation](b, y);
      },
    };
  },
};

const activationLayer: LayerDef = {
  schema: [{ name: 'activation', type: 'name', choices: ACTIVATION_NAMES }],
  create(args, path) {
    const activation = args.values.get('activation') as Activation;
    return { path, call: (b, x) => ACTIVATIONS[activation](b, x) };
  },
};

/** The layer library, by the name used in .nnx files. */
export const LAYERS: Readonly<Record<string, LayerDef>> = {
  Dense: dense,
  Activation: activationLayer,
};

/** Functions applied elementwise in model expressions: `relu(x)`, `abs(a - b)`. */
export const FUNCTIONS: Readonly<Record<string, (b: GraphBuilder, x: number) => number>> = {
  ...ACTIVATIONS,
  abs: (b, x) => b.unary('abs', x),
  exp: (b, x) => b.unary('exp', x),
  log: (b, x) => b.unary('log', x),
  sqrt: (b, x) => b.unary('sqrt', x),
};
