/**
 * Builds the three entry-point graphs of a model from its forward graph and train config:
 * `train` (forward, loss, backward, optimizer update, metric accumulation: one static graph),
 * `evaluate` (forward, loss, metrics) and `predict` (forward only).
 */
import { GraphBuilder } from '../builder.js';
import { BATCH, type Graph, inputsOf } from '../graph.js';
import { grad } from '../grad.js';
import type { ModelIR, TensorRef } from '../../lower/lower.js';
import type { LossName, MetricName } from '../../bind/losses.js';
import { LOSSES, METRICS, targetShape } from './losses.js';
import type { Augmentation } from '../../bind/augment.js';
import { augmentModel } from './augment.js';
import { MASK_INPUT } from '../../lower/layers/types.js';
import type { OptimizerConfig } from '../../bind/optimizers.js';
import { makeOptimizer, STEP_GLOBAL } from './optimizers.js';
import type { Span } from '../../util/diagnostics.js';

export interface StepConfig {
  readonly loss: LossName;
  /** Each output's own loss and weight, by output name; outputs not listed use `loss`, weight 1. */
  readonly outputLosses?: ReadonlyMap<string, { readonly loss: LossName; readonly weight: number }>;
  readonly metrics: readonly MetricName[];
  readonly optimizer: OptimizerConfig;
  /** Transforms of the inputs in the train graph only (evaluate and predict see the data as it is). */
  readonly augment?: readonly Augmentation[];
  /** Where the train block writes its loss and optimizer: the spans their nodes carry. */
  readonly spans?: StepSpans;
}

/** The source spans of the nodes a training step adds to the model's. */
export interface StepSpans {
  readonly loss?: Span;
  readonly optimizer?: Span;
}

export interface StepGraphs {
  readonly train: Graph;
  readonly evaluate: Graph;
  readonly predict: Graph;
  /** Names of the accumulated sums, in order: `loss`, then each metric. */
  readonly accumulators: readonly string[];
}

/** Graph input name of the targets of an output. */
export function targetName(model: ModelIR, output: string): string {
  return model.outputs.length === 1 ? 'target' : `target/${output}`;
}

export const MASK = MASK_INPUT;
export const SAMPLE_COUNT = 'metric/count';
export const accumulatorName = (name: string) => `metric/${name}`;

/**
 * Adds targets, mask, the masked mean loss and the metric accumulators to a forward graph.
 * Returns the scalar loss node.
 */
function addLossAndMetrics(b: GraphBuilder, model: ModelIR, config: StepConfig): number {
  // A train-mode forward graph may already read the mask (BatchNormalization's statistics).
  const existing = inputsOf(model.graph, 'data').find((n) => n.params.name === MASK);
  const mask = existing?.id ?? b.input(MASK, 'data', [BATCH]);
  let total: number | undefined;
  const metricSums = new Map<string, number>();
  for (const out of model.outputs) {
    const own = config.outputLosses?.get(out.name);
    const lossName = own?.loss ?? config.loss;
    const target = b.input(targetName(model, out.name), 'target', targetShape(lossName, out.shape));
    const unweighted = LOSSES[lossName](b, out.node, target);
    const perSample = own && own.weight !== 1 ? b.mul(unweighted, b.constant(own.weight)) : unweighted;
    const masked = b.sum(b.mul(perSample, mask), [0]);
    total = total === undefined ? masked : b.add(total, masked);
    for (const m of config.metrics) {
      const s = b.sum(b.mul(METRICS[m](b, out.node, target, lossName), mask), [0]);
      metricSums.set(m, metricSums.has(m) ? b.add(metricSums.get(m)!, s) : s);
    }
  }
  const count = b.sum(mask, [0]);
  const accumulate = (name: string, value: number) => accumulateInState(b, name, value);
  // Regularization penalties count once per sample in the reported loss, as in Keras.
  const penalty = regularization(b, model);
  accumulate(accumulatorName('loss'), penalty === undefined ? total! : b.add(total!, b.mul(penalty, count)));
  for (const [m, s] of metricSums) accumulate(accumulatorName(m), s);
  accumulate(SAMPLE_COUNT, count);
  // Mean over the real samples; max(·, 1) keeps an all-padding batch finite.
  const mean = b.div(total!, b.binary('max', count, b.constant(1)));
  const loss = penalty === undefined ? mean : b.add(mean, penalty);
  b.output('loss', loss, 'loss');
  return loss;
}

/** Adds `value` to the scalar state `name`, a running sum the runtime reads once per epoch. */
export function accumulateInState(b: GraphBuilder, name: string, value: number): void {
  const acc = b.input(name, 'state', []);
  b.output(name, b.add(acc, value), 'update', acc);
}

/** Σ over regularized parameters of l1·Σ|w| + l2·Σw², or undefined when there are none. */
function regularization(b: GraphBuilder, model: ModelIR): number | undefined {
  let penalty: number | undefined;
  for (const p of inputsOf(model.graph, 'param')) {
    const r = p.params.regularizer;
    if (!r) continue;
    const all = p.shape.map((_, i) => i);
    const terms = [
      ...(r.l1 > 0 ? [b.mul(b.constant(r.l1), b.sum(b.unary('abs', p.id), all))] : []),
      ...(r.l2 > 0 ? [b.mul(b.constant(r.l2), b.sum(b.mul(p.id, p.id), all))] : []),
    ];
    for (const t of terms) penalty = penalty === undefined ? t : b.add(penalty, t);
  }
  return penalty;
}

/** The forward graph without its prediction outputs, ready to extend. */
function forwardBuilder(model: ModelIR): GraphBuilder {
  return new GraphBuilder({ nodes: model.graph.nodes, outputs: [] });
}

/**
 * Appends the optimizer's update of `params` (given their gradients) to `b`, as `update`
 * outputs: the new parameters, their slots (`dense_1/kernel/m`) and the optimizer's globals,
 * named `optimizer/…` under `prefix` (`generator/optimizer/step` for one side of a GAN).
 */
export function appendOptimizer(
  b: GraphBuilder,
  config: OptimizerConfig,
  params: readonly TensorRef[],
  grads: ReadonlyMap<number, number>,
  prefix = '',
  span?: Span,
): void {
  // A GAN's two optimizers say which side they update: `generator optimizer`.
  b.label = prefix ? `${prefix.replace(/\/$/, '')} optimizer` : 'optimizer';
  b.span = span;
  b.file = undefined;
  const optimizer = makeOptimizer(config);
  const globalName = (s: string) => `${prefix}optimizer/${s}`;
  const globals = optimizer.globals.map((s) => {
    const beta = optimizer.corrections?.[s];
    const derive = beta !== undefined ? { steps: globalName(STEP_GLOBAL), beta } : undefined;
    return b.input(globalName(s), 'state', [], undefined, undefined, derive);
  });
  const newGlobals = optimizer.begin(b, globals);
  newGlobals.forEach((n, i) => b.output(globalName(optimizer.globals[i]!), n, 'update', globals[i]));
  for (const p of params) {
    const slots = optimizer.slots.map((s) => b.input(`${p.name}/${s}`, 'state', p.shape));
    const u = optimizer.update(b, p.node, grads.get(p.node)!, slots, newGlobals);
    b.output(p.name, u.newParam, 'update', p.node);
    u.newSlots.forEach((n, i) => b.output(`${p.name}/${optimizer.slots[i]}`, n, 'update', slots[i]));
  }
}

/**
 * `model` is lowered for inference; `model.training`, when present, is the same model lowered
 * for training (dropout, batch statistics), which the train step is built from.
 */
export function buildStepGraphs(model: ModelIR, config: StepConfig): StepGraphs {
  const evalBuilder = forwardBuilder(model);
  evalBuilder.label = 'loss';
  evalBuilder.span = config.spans?.loss;
  addLossAndMetrics(evalBuilder, model, config);

  const trainModel = augmentModel(model.training ?? model, config.augment ?? []);
  const fwd = forwardBuilder(trainModel);
  fwd.label = 'loss';
  fwd.span = config.spans?.loss;
  const loss = addLossAndMetrics(fwd, trainModel, config);
  const params = trainModel.params.map((p) => p.node);
  const { graph: withGrads, grads } = grad(fwd.build(), loss, params);

  const b = new GraphBuilder(withGrads);
  // Running statistics and the random counter, computed by the forward pass.
  for (const u of trainModel.updates ?? []) b.output(u.name, u.value, 'update', u.target);
  appendOptimizer(b, config.optimizer, trainModel.params, grads, '', config.spans?.optimizer);
  return {
    train: b.build(),
    evaluate: evalBuilder.build(),
    predict: model.graph,
    accumulators: ['loss', ...config.metrics],
  };
}
