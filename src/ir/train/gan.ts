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
import type { ModelIR, TensorRef } from '../../lower/lower.js';
import type { GanLoss, GanStepSpans, NoiseKind } from '../../bind/gan.js';
import { saltOf, standardNormal } from '../ops/random.js';
import { LOSSES } from './losses.js';
import type { Span } from '../../util/diagnostics.js';
import type { OptimizerConfig } from '../../bind/optimizers.js';
import { accumulateInState, accumulatorName, appendOptimizer } from './step.js';
import { MASK_INPUT, RANDOM_SEED, type RandomSources } from '../../lower/layers/types.js';

export interface GanStepConfig {
  readonly loss: GanLoss;
  readonly noise: NoiseKind;
  /** Real samples arrive in [0, 1] and are mapped to this range on the GPU. */
  readonly dataRange: readonly [number, number];
  readonly discriminatorOptimizer: OptimizerConfig;
  readonly generatorOptimizer: OptimizerConfig;
  /** Where the gan block writes the fields the steps' own nodes come from. */
  readonly spans?: Partial<GanStepSpans>;
}

/** A GAN's entry graphs: the discriminator step, the generator step, and `generate`. */
export interface GanGraphs {
  readonly d_step: Graph;
  readonly g_step: Graph;
  readonly generate: Graph;
}

/** The entry that trains one side of a GAN, whose summed loss and sample count it accumulates. */
export type GanStep = 'd_step' | 'g_step';

export const GENERATOR = 'generator/';
export const DISCRIMINATOR = 'discriminator/';
/** The state scalar both steps draw their noise from and increment. */
export const NOISE_COUNTER = 'noise/step';
/** Accumulated per epoch: each step's summed loss and its sample count. */
export const ganAccumulator = (step: GanStep, what: 'loss' | 'count') => accumulatorName(`${step}_${what}`);

/** A model's forward graph copied into `b`: its data inputs bound to `inputs`, its parameters renamed. */
interface Inlined {
  readonly output: number;
  /** The model's parameters as nodes of `b`, under their prefixed names. */
  readonly params: TensorRef[];
}

/**
 * The parameters and state of a step graph, shared by the models inlined into it: each is an
 * input created on first use, and state a model updates (BatchNormalization's running
 * statistics, Dropout's counter) is threaded through, so a second call of the same model (the
 * discriminator on real, then on generated samples) reads the first call's values, as two
 * calls in a row would in PyTorch; the last value is written back once.
 */
class StepState {
  private readonly values = new Map<string, { readonly input: number; current: number }>();

  constructor(private readonly b: GraphBuilder) {}

  read(p: Node<'input'>['params'], name: string): number {
    let value = this.values.get(name);
    if (value === undefined) {
      const input = this.b.input(name, p.role, p.shape, p.init, p.regularizer);
      value = { input, current: input };
      this.values.set(name, value);
    }
    return value.current;
  }

  write(name: string, node: number): void {
    this.values.get(name)!.current = node;
  }

  /** An `update` output for every value a model wrote. */
  writeBack(): void {
    for (const [name, { input, current }] of this.values)
      if (current !== input) this.b.output(name, current, 'update', input);
  }
}

/** The name a model's parameter or state input takes in a GAN step: the model seed is global. */
function stepName(prefix: string, name: string): string {
  return name === RANDOM_SEED ? name : prefix + name;
}

/**
 * Copies `model`'s graph into `b`, lowered for `mode`: in training, the train-mode graph of
 * models with Dropout or BatchNormalization, whose state updates go to `state`. GAN batches are
 * always full, so the sample mask is all ones. Parameters and state become inputs named
 * `prefix + name` (see {@link StepState}).
 */
function inline(
  b: GraphBuilder,
  model: ModelIR,
  prefix: string,
  inputs: ReadonlyMap<string, number>,
  state: StepState,
  mode: 'train' | 'infer' = 'train',
): Inlined {
  const m = mode === 'train' ? (model.training ?? model) : model;
  const ids: number[] = [];
  const byNode = new Map<number, TensorRef>();
  for (const n of m.graph.nodes) {
    b.span = n.span;
    b.file = n.file;
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
    const p = n.params;
    if (p.role === 'data' && p.name === MASK_INPUT) {
      ids.push(b.broadcast(b.constant(1), p.shape));
      continue;
    }
    if (p.role === 'data') {
      const bound = inputs.get(p.name);
      if (bound === undefined) throw new Error(`internal: no value for input '${p.name}' of ${model.name}`);
      ids.push(bound);
      continue;
    }
    const name = stepName(prefix, p.name);
    const id = state.read(p, name);
    ids.push(id);
    byNode.set(n.id, { name, node: id, shape: p.shape });
  }
  for (const u of m.updates ?? []) state.write(stepName(prefix, u.name), ids[u.value]!);
  b.span = undefined;
  b.file = undefined;
  b.label = undefined;
  const params = m.params.map((p) => byNode.get(p.node)!);
  return { output: ids[m.outputs[0]!.node]!, params };
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
function finishLoss(b: GraphBuilder, perSample: number, step: GanStep, counter: number): number {
  b.label = 'loss';
  const total = b.sum(perSample, [0]);
  const count = b.dimsize(BATCH);
  accumulateInState(b, ganAccumulator(step, 'loss'), total);
  accumulateInState(b, ganAccumulator(step, 'count'), count);
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
  const state = new StepState(b);
  const counter = b.input(NOISE_COUNTER, 'state', []);
  const seed = state.read({ name: RANDOM_SEED, role: 'state', shape: [] }, RANDOM_SEED);
  const realInput = d.inputs[0]!;
  const real = b.input(realInput.name, 'data', realInput.shape);
  const [lo, hi] = config.dataRange;
  b.label = 'scale';
  b.span = config.spans?.dataRange;
  const scaled = lo === 0 && hi === 1 ? real : b.add(b.mul(real, b.constant(hi - lo)), b.constant(lo));
  b.label = 'noise';
  b.span = config.spans?.noise;
  const z = drawNoise(b, { counter, seed }, noiseShape(g), config.noise, 'noise/discriminator');
  const fake = inline(b, g, GENERATOR, new Map([[g.inputs[0]!.name, z]]), state);
  const onReal = inline(b, d, DISCRIMINATOR, new Map([[realInput.name, scaled]]), state);
  const onFake = inline(b, d, DISCRIMINATOR, new Map([[realInput.name, fake.output]]), state);
  state.writeBack();
  b.label = 'loss';
  b.span = config.spans?.loss;
  const perSample = b.add(scored(b, config.loss, onReal.output, 1), scored(b, config.loss, onFake.output, 0));
  const loss = finishLoss(b, perSample, 'd_step', counter);
  return withUpdates(
    b,
    loss,
    onReal.params,
    config.discriminatorOptimizer,
    DISCRIMINATOR,
    config.spans?.discriminatorOptimizer,
  );
}

/** Generated samples scored 1 by the discriminator (the non-saturating loss); only the generator learns. */
function generatorStep(g: ModelIR, d: ModelIR, config: GanStepConfig): Graph {
  const b = new GraphBuilder();
  const state = new StepState(b);
  const counter = b.input(NOISE_COUNTER, 'state', []);
  const seed = state.read({ name: RANDOM_SEED, role: 'state', shape: [] }, RANDOM_SEED);
  b.label = 'noise';
  b.span = config.spans?.noise;
  const z = drawNoise(b, { counter, seed }, noiseShape(g), config.noise, 'noise/generator');
  const fake = inline(b, g, GENERATOR, new Map([[g.inputs[0]!.name, z]]), state);
  const onFake = inline(b, d, DISCRIMINATOR, new Map([[d.inputs[0]!.name, fake.output]]), state);
  state.writeBack();
  b.label = 'loss';
  b.span = config.spans?.loss;
  const loss = finishLoss(b, scored(b, config.loss, onFake.output, 1), 'g_step', counter);
  return withUpdates(
    b,
    loss,
    fake.params,
    config.generatorOptimizer,
    GENERATOR,
    config.spans?.generatorOptimizer,
  );
}

/** Differentiates `loss` with respect to `params` only and appends their optimizer's update. */
function withUpdates(
  b: GraphBuilder,
  loss: number,
  params: readonly TensorRef[],
  optimizer: OptimizerConfig,
  prefix: string,
  span: Span | undefined,
): Graph {
  const { graph, grads } = grad(
    b.build(),
    loss,
    params.map((p) => p.node),
  );
  const withGrads = new GraphBuilder(graph);
  appendOptimizer(withGrads, optimizer, params, grads, prefix, span);
  return withGrads.build();
}

/** The generator alone: the host gives the noise (`z`), so a grid can show the same noise every epoch. */
function generateGraph(g: ModelIR): Graph {
  const b = new GraphBuilder();
  const input = g.inputs[0]!;
  const z = b.input(input.name, 'data', input.shape);
  const fake = inline(b, g, GENERATOR, new Map([[input.name, z]]), new StepState(b), 'infer');
  b.output(g.outputs[0]!.name, fake.output, 'prediction');
  return b.build();
}

/** The three entry graphs of a GAN whose models were checked to fit each other. */
export function buildGanGraphs(generator: ModelIR, discriminator: ModelIR, config: GanStepConfig): GanGraphs {
  return {
    d_step: discriminatorStep(generator, discriminator, config),
    g_step: generatorStep(generator, discriminator, config),
    generate: generateGraph(generator),
  };
}
