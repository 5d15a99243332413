/**
 * The entry graphs of a GAN, built from its two forward graphs: the discriminator step (real
 * samples scored as real, generated ones as fake; only the discriminator's parameters get
 * gradients and updates), the generator step (noise → generator → discriminator scored as real,
 * the non-saturating loss; gradients flow through the discriminator, whose parameters are read
 * but never updated) and `generate` (noise given by the host → samples). Each model's
 * parameters and state are prefixed by its role (`generator/dense_1/kernel`), so two models
 * with the same layer names live side by side in one module.
 */
import { GraphBuilder } from '../builder.js';
import { BATCH, type Graph, type Node, type Shape } from '../graph.js';
import { grad } from '../grad.js';
import type { ModelIR, TensorRef } from '../build/lower.js';
import type { GanLoss, NoiseKind } from '../build/gan.js';
import { saltOf, standardNormal } from '../ops/random.js';
import { LOSSES } from './losses.js';
import type { OptimizerConfig } from './optimizers.js';
import { accumulateInState, accumulatorName, appendOptimizer } from './step.js';
import { RANDOM_SEED, type RandomSources } from '../build/layers/types.js';

export interface GanStepConfig {
  readonly loss: GanLoss;
  readonly noise: NoiseKind;
  /** Real samples arrive in [0, 1] and are mapped to this range on the GPU. */
  readonly dataRange: readonly [number, number];
  readonly discriminatorOptimizer: OptimizerConfig;
  readonly generatorOptimizer: OptimizerConfig;
}

export interface GanGraphs {
  readonly discriminator: Graph;
  readonly generator: Graph;
  readonly generate: Graph;
}

export const GENERATOR = 'generator/';
export const DISCRIMINATOR = 'discriminator/';
/** The state scalar both steps draw their noise from and increment. */
export const NOISE_COUNTER = 'noise/step';
/** Accumulated per epoch: each side's summed loss and its sample count. */
export const ganAccumulator = (side: 'discriminator' | 'generator', what: 'loss' | 'count') =>
  accumulatorName(`${side}_${what}`);

/** A model's forward graph copied into `b`: its data inputs bound to `inputs`, its parameters renamed. */
interface Inlined {
  readonly output: number;
  /** The model's parameters as nodes of `b`, under their prefixed names. */
  readonly params: TensorRef[];
}

/**
 * Copies `model`'s forward graph into `b`. Parameters and state become inputs named
 * `prefix + name`, created once per name in `shared`, so a second call reuses them.
 */
function inline(
  b: GraphBuilder,
  model: ModelIR,
  prefix: string,
  inputs: ReadonlyMap<string, number>,
  shared: Map<string, number>,
): Inlined {
  const ids: number[] = [];
  const byNode = new Map<number, TensorRef>();
  for (const n of model.graph.nodes) {
    b.span = n.span;
    b.label = n.label === undefined ? prefix.slice(0, -1) : prefix + n.label;
    if (n.op !== 'input') {
      ids.push(
        b.emit(
          n.op,
          n.srcs.map((s) => ids[s]!),
          n.params,
        ),
      );
      continue;
    }
    const p = (n as Node<'input'>).params;
    if (p.role === 'data') {
      const bound = inputs.get(p.name);
      if (bound === undefined) throw new Error(`internal: no value for input '${p.name}' of ${model.name}`);
      ids.push(bound);
      continue;
    }
    const name = prefix + p.name;
    let id = shared.get(name);
    if (id === undefined) {
      id = b.input(name, p.role, p.shape, p.init, p.regularizer);
      shared.set(name, id);
    }
    ids.push(id);
    byNode.set(n.id, { name, node: id, shape: p.shape });
  }
  b.span = undefined;
  b.label = undefined;
  const params = model.params.map((p) => byNode.get(p.node)!);
  return { output: ids[model.outputs[0]!.node]!, params };
}

/**
 * Noise of `shape` drawn on the GPU from the counter: uniform in [−1, 1), or normal by
 * Box–Muller ({@link standardNormal}).
 */
export function drawNoise(
  b: GraphBuilder,
  random: RandomSources,
  shape: Shape,
  kind: NoiseKind,
  salt: string,
): number {
  const uniform = (s: string) =>
    b.emit('random_uniform', [random.counter, random.seed], { shape, salt: saltOf(s) });
  const c = (v: number) => b.constant(v);
  if (kind === 'uniform') return b.sub(b.mul(uniform(salt), c(2)), c(1));
  return standardNormal(b, uniform(`${salt}/radius`), uniform(`${salt}/angle`));
}

/** Per-sample losses against a constant label (1 real, 0 fake), shape [B]. */
function scored(b: GraphBuilder, loss: GanLoss, score: number, label: number): number {
  const target = b.broadcast(b.constant(label), b.shapeOf(score));
  return LOSSES[loss](b, score, target);
}

/**
 * Adds the batch mean of `perSample` as the loss to differentiate, accumulates its sum and the
 * sample count for the epoch's report, and steps the noise counter. Returns the mean.
 */
function finishLoss(
  b: GraphBuilder,
  perSample: number,
  side: 'discriminator' | 'generator',
  counter: number,
): number {
  b.label = 'loss';
  const total = b.sum(perSample, [0]);
  const count = b.dimsize(BATCH);
  accumulateInState(b, ganAccumulator(side, 'loss'), total);
  accumulateInState(b, ganAccumulator(side, 'count'), count);
  b.output(NOISE_COUNTER, b.add(counter, b.constant(1)), 'update', counter);
  const mean = b.div(total, count);
  b.output('loss', mean, 'loss');
  return mean;
}

function noiseShape(generator: ModelIR): Shape {
  return generator.inputs[0]!.shape;
}

/** Real samples scored 1 and generated ones 0; only the discriminator learns. */
function discriminatorStep(g: ModelIR, d: ModelIR, config: GanStepConfig): Graph {
  const b = new GraphBuilder();
  const shared = new Map<string, number>();
  const counter = b.input(NOISE_COUNTER, 'state', []);
  const seed = b.input(RANDOM_SEED, 'state', []);
  const realInput = d.inputs[0]!;
  const real = b.input(realInput.name, 'data', realInput.shape);
  const [lo, hi] = config.dataRange;
  b.label = 'scale';
  const scaled = lo === 0 && hi === 1 ? real : b.add(b.mul(real, b.constant(hi - lo)), b.constant(lo));
  b.label = 'noise';
  const z = drawNoise(b, { counter, seed }, noiseShape(g), config.noise, 'noise/discriminator');
  const fake = inline(b, g, GENERATOR, new Map([[g.inputs[0]!.name, z]]), shared);
  const onReal = inline(b, d, DISCRIMINATOR, new Map([[realInput.name, scaled]]), shared);
  const onFake = inline(b, d, DISCRIMINATOR, new Map([[realInput.name, fake.output]]), shared);
  b.label = 'loss';
  const perSample = b.add(scored(b, config.loss, onReal.output, 1), scored(b, config.loss, onFake.output, 0));
  const loss = finishLoss(b, perSample, 'discriminator', counter);
  return withUpdates(b, loss, onReal.params, config.discriminatorOptimizer, DISCRIMINATOR);
}

/** Generated samples scored 1 by the discriminator (the non-saturating loss); only the generator learns. */
function generatorStep(g: ModelIR, d: ModelIR, config: GanStepConfig): Graph {
  const b = new GraphBuilder();
  const shared = new Map<string, number>();
  const counter = b.input(NOISE_COUNTER, 'state', []);
  const seed = b.input(RANDOM_SEED, 'state', []);
  b.label = 'noise';
  const z = drawNoise(b, { counter, seed }, noiseShape(g), config.noise, 'noise/generator');
  const fake = inline(b, g, GENERATOR, new Map([[g.inputs[0]!.name, z]]), shared);
  const onFake = inline(b, d, DISCRIMINATOR, new Map([[d.inputs[0]!.name, fake.output]]), shared);
  b.label = 'loss';
  const loss = finishLoss(b, scored(b, config.loss, onFake.output, 1), 'generator', counter);
  return withUpdates(b, loss, fake.params, config.generatorOptimizer, GENERATOR);
}

/** Differentiates `loss` with respect to `params` only and appends their optimizer's update. */
function withUpdates(
  b: GraphBuilder,
  loss: number,
  params: readonly TensorRef[],
  optimizer: OptimizerConfig,
  prefix: string,
): Graph {
  const { graph, grads } = grad(
    b.build(),
    loss,
    params.map((p) => p.node),
  );
  const withGrads = new GraphBuilder(graph);
  appendOptimizer(withGrads, optimizer, params, grads, prefix);
  return withGrads.build();
}

/** The generator alone: the host gives the noise (`z`), so a grid can show the same noise every epoch. */
function generateGraph(g: ModelIR): Graph {
  const b = new GraphBuilder();
  const input = g.inputs[0]!;
  const z = b.input(input.name, 'data', input.shape);
  const fake = inline(b, g, GENERATOR, new Map([[input.name, z]]), new Map());
  b.output(g.outputs[0]!.name, fake.output, 'prediction');
  return b.build();
}

/** The three entry graphs of a GAN whose models were checked to fit each other. */
export function buildGanGraphs(generator: ModelIR, discriminator: ModelIR, config: GanStepConfig): GanGraphs {
  return {
    discriminator: discriminatorStep(generator, discriminator, config),
    generator: generatorStep(generator, discriminator, config),
    generate: generateGraph(generator),
  };
}
