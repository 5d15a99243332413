/**
 * Builds the three entry-point graphs of a model from its forward graph and train config:
 * `train` (forward, loss, backward, optimizer update, metric accumulation: one static graph),
 * `evaluate` (forward, loss, metrics) and `predict` (forward only).
 */
import { GraphBuilder } from '../builder.js';
import { BATCH, type Graph } from '../graph.js';
import { grad } from '../grad.js';
import type { ModelIR } from '../build/lower.js';
import { LOSSES, type LossName, METRICS, type MetricName } from './losses.js';
import { type OptimizerConfig, makeOptimizer } from './optimizers.js';

export interface StepConfig {
  readonly loss: LossName;
  /** Each output's own loss and weight, by output name; outputs not listed use `loss`, weight 1. */
  readonly outputLosses?: ReadonlyMap<string, { readonly loss: LossName; readonly weight: number }>;
  readonly metrics: readonly MetricName[];
  readonly optimizer: OptimizerConfig;
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

export const MASK = 'mask';
export const SAMPLE_COUNT = 'metric/count';
export const accumulatorName = (name: string) => `metric/${name}`;

/**
 * Adds targets, mask, the masked mean loss and the metric accumulators to a forward graph.
 * Returns the scalar loss node.
 */
function addLossAndMetrics(b: GraphBuilder, model: ModelIR, config: StepConfig): number {
  const mask = b.input(MASK, 'data', [BATCH]);
  let total: number | undefined;
  const metricSums = new Map<string, number>();
  for (const out of model.outputs) {
    const target = b.input(targetName(model, out.name), 'target', out.shape);
    const own = config.outputLosses?.get(out.name);
    const unweighted = LOSSES[own?.loss ?? config.loss](b, out.node, target);
    const perSample = own && own.weight !== 1 ? b.mul(unweighted, b.constant(own.weight)) : unweighted;
    const masked = b.sum(b.mul(perSample, mask), [0]);
    total = total === undefined ? masked : b.add(total, masked);
    for (const m of config.metrics) {
      const s = b.sum(b.mul(METRICS[m](b, out.node, target), mask), [0]);
      metricSums.set(m, metricSums.has(m) ? b.add(metricSums.get(m)!, s) : s);
    }
  }
  const count = b.sum(mask, [0]);
  const accumulate = (name: string, value: number) => {
    const acc = b.input(name, 'state', []);
    b.output(name, b.add(acc, value), 'update', acc);
  };
  accumulate(accumulatorName('loss'), total!);
  for (const [m, s] of metricSums) accumulate(accumulatorName(m), s);
  accumulate(SAMPLE_COUNT, count);
  // Mean over the real samples; max(·, 1) keeps an all-padding batch finite.
  const loss = b.div(total!, b.binary('max', count, b.constant(1)));
  b.output('loss', loss, 'loss');
  return loss;
}

/** The forward graph without its prediction outputs, ready to extend. */
function forwardBuilder(model: ModelIR): GraphBuilder {
  return new GraphBuilder({ nodes: model.graph.nodes, outputs: [] });
}

export function buildStepGraphs(model: ModelIR, config: StepConfig): StepGraphs {
  const evalBuilder = forwardBuilder(model);
  evalBuilder.label = 'loss';
  addLossAndMetrics(evalBuilder, model, config);

  const fwd = forwardBuilder(model);
  fwd.label = 'loss';
  const loss = addLossAndMetrics(fwd, model, config);
  const params = model.params.map((p) => p.node);
  const { graph: withGrads, grads } = grad(fwd.build(), loss, params);

  const b = new GraphBuilder(withGrads);
  b.label = 'optimizer';
  const optimizer = makeOptimizer(config.optimizer);
  const globals = optimizer.globals.map((s) => b.input(`optimizer/${s}`, 'state', []));
  const newGlobals = optimizer.begin(b, globals);
  newGlobals.forEach((n, i) => b.output(`optimizer/${optimizer.globals[i]}`, n, 'update', globals[i]));
  for (const p of model.params) {
    const slots = optimizer.slots.map((s) => b.input(`${p.name}/${s}`, 'state', p.shape));
    const u = optimizer.update(b, p.node, grads.get(p.node)!, slots, newGlobals);
    b.output(p.name, u.newParam, 'update', p.node);
    u.newSlots.forEach((n, i) => b.output(`${p.name}/${optimizer.slots[i]}`, n, 'update', slots[i]));
  }
  return {
    train: b.build(),
    evaluate: evalBuilder.build(),
    predict: model.graph,
    accumulators: ['loss', ...config.metrics],
  };
}
