/**
 * Losses and metrics, built as IR per sample (shape [B]). Where a loss follows the activation
 * that would make it unstable (sigmoid → binary cross-entropy, softmax → categorical
 * cross-entropy), it is computed from the logits instead: no clipping, no NaN at ±1000.
 */
import type { GraphBuilder } from '../builder.js';
import type { Graph, Node } from '../graph.js';

export type LossFn = (b: GraphBuilder, prediction: number, target: number) => number;

/** Mean over every axis but the batch: the per-sample value Keras reports. */
function meanPerSample(b: GraphBuilder, x: number): number {
  const rank = b.shapeOf(x).length;
  return rank <= 1
    ? x
    : b.mean(
        x,
        Array.from({ length: rank - 1 }, (_, i) => i + 1),
      );
}

/** The logits `z` of `sigmoid(z)`, if that is what `node` is. */
function sigmoidLogits(b: GraphBuilder, node: number): number | undefined {
  const n = b.node(node);
  return n.op === 'sigmoid' ? n.srcs[0] : undefined;
}

/**
 * The logits `z` of `softmax(z)` as {@link softmax} in layers.ts builds it:
 * div(exp(sub(z, broadcast(reduce_max(z)))), broadcast(sum(exp(...)))).
 */
export function softmaxLogits(g: Graph | GraphBuilder, node: number): number | undefined {
  const at = (id: number | undefined): Node | undefined =>
    id === undefined ? undefined : 'node' in g ? g.node(id) : g.nodes[id];
  const div = at(node);
  if (div?.op !== 'div') return undefined;
  const e = at(div.srcs[0]);
  if (e?.op !== 'exp') return undefined;
  const shifted = at(e.srcs[0]);
  if (shifted?.op !== 'sub') return undefined;
  const maxB = at(shifted.srcs[1]);
  const max = maxB?.op === 'broadcast' ? at(maxB.srcs[0]) : maxB;
  if (max?.op !== 'reduce_max' || max.srcs[0] !== shifted.srcs[0]) return undefined;
  return shifted.srcs[0];
}

function binaryCrossentropy(b: GraphBuilder, p: number, y: number): number {
  const z = sigmoidLogits(b, p);
  if (z !== undefined) {
    // −[y log σ(z) + (1−y) log(1−σ(z))] = softplus(z) − y·z, exact and stable.
    return meanPerSample(b, b.sub(b.unary('softplus', z), b.mul(y, z)));
  }
  // On probabilities, as Keras: clip to [ε, 1−ε] with ε = 1e-7.
  const eps = 1e-7;
  const pc = b.binary('min', b.binary('max', p, b.constant(eps)), b.constant(1 - eps));
  const one = b.constant(1);
  const ll = b.add(b.mul(y, b.unary('log', pc)), b.mul(b.sub(one, y), b.unary('log', b.sub(one, pc))));
  return meanPerSample(b, b.neg(ll));
}

function categoricalCrossentropy(b: GraphBuilder, p: number, y: number): number {
  const shape = b.shapeOf(p);
  const axis = shape.length - 1;
  const z = softmaxLogits(b, p);
  let logp: number;
  if (z !== undefined) {
    // log softmax(z) = z − max − log Σ exp(z − max)
    const shifted = b.sub(z, b.broadcast(b.reduceMax(z, [axis], true), shape));
    logp = b.sub(shifted, b.broadcast(b.unary('log', b.sum(b.unary('exp', shifted), [axis], true)), shape));
  } else {
    // On probabilities, as Keras: renormalise, then clip to [ε, 1−ε].
    const eps = 1e-7;
    const q = b.div(p, b.broadcast(b.sum(p, [axis], true), shape));
    logp = b.unary('log', b.binary('min', b.binary('max', q, b.constant(eps)), b.constant(1 - eps)));
  }
  return b.neg(b.sum(b.mul(y, logp), [axis]));
}

function meanSquaredError(b: GraphBuilder, p: number, y: number): number {
  const d = b.sub(p, y);
  return meanPerSample(b, b.mul(d, d));
}

function meanAbsoluteError(b: GraphBuilder, p: number, y: number): number {
  return meanPerSample(b, b.unary('abs', b.sub(p, y)));
}

export const LOSSES = {
  binary_crossentropy: binaryCrossentropy,
  categorical_crossentropy: categoricalCrossentropy,
  mse: meanSquaredError,
  mae: meanAbsoluteError,
} as const satisfies Record<string, LossFn>;
export type LossName = keyof typeof LOSSES;
export const LOSS_NAMES = Object.keys(LOSSES) as LossName[];

/** Per-sample accuracy: thresholded at 0.5 for one output unit, arg-max otherwise. */
function accuracy(b: GraphBuilder, p: number, y: number): number {
  const shape = b.shapeOf(p);
  const axis = shape.length - 1;
  if (shape[axis] === 1) {
    const predicted = b.binary('gt', p, b.constant(0.5));
    return meanPerSample(b, b.binary('eq', predicted, b.binary('gt', y, b.constant(0.5))));
  }
  // The target's class scores 1 when it holds the row's maximum prediction.
  const isMax = b.binary('eq', p, b.broadcast(b.reduceMax(p, [axis], true), shape));
  const hit = b.binary('min', b.sum(b.mul(isMax, y), [axis]), b.constant(1));
  return hit;
}

export const METRICS = {
  accuracy,
  mse: meanSquaredError,
  mae: meanAbsoluteError,
} as const satisfies Record<string, LossFn>;
export type MetricName = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];
