/**
 * Losses and metrics, built as IR per sample (shape [B]). On an output of rank ≥ 2 per sample
 * (a per-timestep classifier's [B, T, C]) the class axis is the last one and the value is
 * averaged over the others, as Keras averages a sequence tagger's loss over its time steps. Where a loss follows the activation
 * that would make it unstable (sigmoid → binary cross-entropy, softmax → categorical
 * cross-entropy), it is computed from the logits instead: no clipping, no NaN at ±1000.
 */
import type { GraphBuilder } from '../builder.js';
import type { Graph, Node, Shape } from '../graph.js';
import type { LossName, MetricName } from '../../bind/losses.js';

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

/** log softmax(z) = z − max − log Σ exp(z − max) over the last axis. */
function logSoftmax(b: GraphBuilder, z: number): number {
  const shape = b.shapeOf(z);
  const axis = shape.length - 1;
  const shifted = b.sub(z, b.broadcast(b.reduceMax(z, [axis], true), shape));
  return b.sub(shifted, b.broadcast(b.unary('log', b.sum(b.unary('exp', shifted), [axis], true)), shape));
}

/** Sparse targets (class indices, one fewer axis than the predictions) as one-hot rows. */
function denseTargets(b: GraphBuilder, p: number, y: number): number {
  const shape = b.shapeOf(p);
  if (b.shapeOf(y).length === shape.length) return y;
  return b.emit('one_hot', [y], { depth: shape[shape.length - 1] as number });
}

function categoricalCrossentropy(b: GraphBuilder, p: number, target: number): number {
  const shape = b.shapeOf(p);
  const axis = shape.length - 1;
  const y = denseTargets(b, p, target);
  const z = softmaxLogits(b, p);
  let logp: number;
  if (z !== undefined) {
    logp = logSoftmax(b, z);
  } else {
    // On probabilities, as Keras: renormalise, then clip to [ε, 1−ε].
    const eps = 1e-7;
    const q = b.div(p, b.broadcast(b.sum(p, [axis], true), shape));
    logp = b.unary('log', b.binary('min', b.binary('max', q, b.constant(eps)), b.constant(1 - eps)));
  }
  return meanPerSample(b, b.neg(b.sum(b.mul(y, logp), [axis])));
}

/** Cross-entropy of logits: −Σ y·log softmax(z) (Keras' `from_logits: true`). */
function categoricalFromLogits(b: GraphBuilder, z: number, target: number): number {
  const axis = b.shapeOf(z).length - 1;
  return meanPerSample(b, b.neg(b.sum(b.mul(denseTargets(b, z, target), logSoftmax(b, z)), [axis])));
}

/** PyTorch's NLLLoss: the predictions are log-probabilities (log_softmax), the targets class indices. */
function negativeLogLikelihood(b: GraphBuilder, logp: number, target: number): number {
  const axis = b.shapeOf(logp).length - 1;
  return meanPerSample(b, b.neg(b.sum(b.mul(denseTargets(b, logp, target), logp), [axis])));
}

/** Binary cross-entropy of logits: softplus(z) − y·z (Keras' `from_logits: true`, PyTorch's BCEWithLogitsLoss). */
function binaryFromLogits(b: GraphBuilder, z: number, y: number): number {
  return meanPerSample(b, b.sub(b.unary('softplus', z), b.mul(y, z)));
}

function meanSquaredError(b: GraphBuilder, p: number, y: number): number {
  const d = b.sub(p, y);
  return meanPerSample(b, b.mul(d, d));
}

function meanAbsoluteError(b: GraphBuilder, p: number, y: number): number {
  return meanPerSample(b, b.unary('abs', b.sub(p, y)));
}

export const LOSSES: { readonly [K in LossName]: LossFn } = {
  binary_crossentropy: binaryCrossentropy,
  binary_crossentropy_from_logits: binaryFromLogits,
  categorical_crossentropy: categoricalCrossentropy,
  categorical_crossentropy_from_logits: categoricalFromLogits,
  sparse_categorical_crossentropy: categoricalCrossentropy,
  sparse_categorical_crossentropy_from_logits: categoricalFromLogits,
  nll: negativeLogLikelihood,
  mse: meanSquaredError,
  mae: meanAbsoluteError,
};

/** Losses whose targets are class indices, one per sample (shape [B]), not one value per unit. */
export const SPARSE_LOSSES: ReadonlySet<LossName> = new Set<LossName>([
  'sparse_categorical_crossentropy',
  'sparse_categorical_crossentropy_from_logits',
  'nll',
]);

/** The shape of the targets of an output of shape `out` under `loss`. */
export function targetShape(loss: LossName, out: Shape): Shape {
  return SPARSE_LOSSES.has(loss) ? out.slice(0, -1) : out;
}

/**
 * Binary accuracy per sample: each unit's prediction thresholded (at 0.5, or at 0 when the
 * outputs are logits) against its target thresholded at 0.5, averaged over the units.
 */
function binaryAccuracy(b: GraphBuilder, p: number, target: number, loss: LossName): number {
  const threshold = FROM_LOGITS_BINARY.has(loss) ? 0 : 0.5;
  const y = denseTargets(b, p, target);
  const predicted = b.binary('gt', p, b.constant(threshold));
  return meanPerSample(b, b.binary('eq', predicted, b.binary('gt', y, b.constant(0.5))));
}

/**
 * Categorical accuracy per sample: a hit when the target's largest entry and the prediction's
 * largest entry are the same class (Keras' argmax(y) = argmax(p); a tie counts as a hit), so
 * soft labels count by their most likely class. Sparse targets (class indices) hit when their
 * class holds the row's maximum prediction; an index out of range never hits.
 */
function categoricalAccuracy(b: GraphBuilder, p: number, target: number): number {
  const shape = b.shapeOf(p);
  const axis = shape.length - 1;
  const rowMax = (x: number) => b.binary('eq', x, b.broadcast(b.reduceMax(x, [axis], true), shape));
  const sparse = b.shapeOf(target).length < shape.length;
  const y = sparse ? denseTargets(b, p, target) : rowMax(target);
  const hit = b.binary('min', b.sum(b.mul(rowMax(p), y), [axis]), b.constant(1));
  return meanPerSample(b, hit);
}

/** Binary cross-entropies whose model outputs are logits (accuracy thresholds them at 0). */
const FROM_LOGITS_BINARY: ReadonlySet<LossName> = new Set<LossName>(['binary_crossentropy_from_logits']);

/**
 * `accuracy` as Keras' compile(metrics=['accuracy']) picks it from the loss: binary for a
 * binary cross-entropy or one output unit, sparse categorical for the sparse losses (their
 * targets are indices), categorical otherwise (categorical cross-entropy, soft labels too).
 */
function accuracy(b: GraphBuilder, p: number, target: number, loss: LossName): number {
  const shape = b.shapeOf(p);
  const binary = shape[shape.length - 1] === 1 || loss.startsWith('binary_crossentropy');
  return binary ? binaryAccuracy(b, p, target, loss) : categoricalAccuracy(b, p, target);
}

/**
 * Whether the target class is among the k highest predictions: fewer than k classes score
 * strictly higher (so a tie at the boundary counts as a hit, as TensorFlow's in_top_k).
 */
function topK(k: number): LossFn {
  return (b, p, target) => {
    const shape = b.shapeOf(p);
    const axis = shape.length - 1;
    const y = denseTargets(b, p, target);
    const targetScore = b.broadcast(b.sum(b.mul(p, y), [axis], true), shape);
    const higher = b.sum(b.binary('gt', p, targetScore), [axis]);
    return meanPerSample(b, b.binary('gt', b.constant(k - 0.5), higher));
  };
}

/** A metric per sample; `loss` is the output's loss, from which `accuracy` takes its variant. */
export type MetricFn = (b: GraphBuilder, prediction: number, target: number, loss: LossName) => number;

export const METRICS: { readonly [K in MetricName]: MetricFn } = {
  accuracy,
  binary_accuracy: binaryAccuracy,
  categorical_accuracy: categoricalAccuracy,
  sparse_categorical_accuracy: categoricalAccuracy,
  sparse_accuracy: categoricalAccuracy,
  top_k_accuracy: topK(5),
  top_k_categorical_accuracy: topK(5),
  sparse_top_k_categorical_accuracy: topK(5),
  top_3_accuracy: topK(3),
  mse: meanSquaredError,
  mae: meanAbsoluteError,
};
