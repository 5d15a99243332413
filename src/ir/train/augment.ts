/**
 * Data augmentation as IR: each transform of a train block's `augment:` list becomes ops applied
 * to the model's inputs at the start of the training graph, with per-sample random draws from
 * the step counter, so augmentation runs on the GPU inside the training step's single submit
 * and is reproducible from a checkpoint. Evaluate and predict use the model as it is.
 *
 * Semantics (per sample, per step; u ~ U[0, 1) from the counter-based hash):
 *  - invert(p): x → 1 − x with probability p (for inputs scaled to [0, 1]);
 *  - flip(p): mirror left to right (along W of [H, W, C]) with probability p;
 *  - shift(pixels: n): move by dy, dx drawn uniformly from the integers in [−n, n], zeros shifted in;
 *  - crop(padding: p): torchvision's RandomCrop(padding: p) — pad with p zeros on each side and
 *    cut a random window of the original size, which is the same draw as shift(pixels: p);
 *  - noise(stddev: s): add s·z per element, z standard normal by Box–Muller.
 */
import type { Span } from '../../util/diagnostics.js';
import { GraphBuilder } from '../builder.js';
import { type Dim, type Graph, type Node, inputNode, inputsOf } from '../graph.js';
import { saltOf, standardNormal } from '../ops/random.js';
import { RANDOM_COUNTER, RANDOM_SEED, type RandomSources } from '../../lower/layers/types.js';
import type { ModelIR } from '../../lower/lower.js';
import type { Augmentation } from '../../bind/augment.js';

/** Uniform numbers of `shape` for one transform, drawn from the step counter. */
type Draw = (shape: readonly Dim[], stream: string) => number;

/** 1 with probability p, else 0: u < p. */
function coin(b: GraphBuilder, u: number, p: number): number {
  return b.binary('gt', b.constant(p), u);
}

/** A [B, 3] moves tensor for image_shift from per-sample columns. */
function moves(b: GraphBuilder, batch: Dim, offsets: number | undefined, flip: number | undefined): number {
  const zeros = (n: number) => b.broadcast(b.constant(0), [batch, n]);
  return b.emit('concat', [offsets ?? zeros(2), flip ?? zeros(1)], { axis: 1 });
}

/** Integers drawn uniformly from [−n, n] per sample and axis: a [B, 2] (dy, dx) tensor. */
function offsets(b: GraphBuilder, u: number, n: number): number {
  const k = b.binary('min', b.unary('floor', b.mul(u, b.constant(2 * n + 1))), b.constant(2 * n));
  return b.sub(k, b.constant(n));
}

/** The ops of one transform applied to x (shape [B, …]). */
function applyAugmentation(b: GraphBuilder, x: number, a: Augmentation, draw: Draw): number {
  const shape = b.shapeOf(x);
  const batch = shape[0]!;
  const perSample = [batch, ...shape.slice(1).map(() => 1)];
  switch (a.kind) {
    case 'invert': {
      const on = coin(b, draw(perSample, 'coin'), a.p);
      // on·(1 − x) + (1 − on)·x: exactly 1 − x or x.
      const one = b.constant(1);
      return b.add(b.mul(on, b.sub(one, x)), b.mul(b.sub(one, on), x));
    }
    case 'noise': {
      const z = standardNormal(b, draw(shape, 'radius'), draw(shape, 'angle'));
      return b.add(x, b.mul(b.constant(a.stddev), z));
    }
    case 'flip': {
      const on = coin(b, draw([batch, 1], 'coin'), a.p);
      return b.emit('image_shift', [x, moves(b, batch, undefined, on)], { adjoint: false });
    }
    case 'shift':
    case 'crop': {
      const n = a.kind === 'shift' ? a.pixels : a.padding;
      const d = offsets(b, draw([batch, 2], 'offsets'), n);
      return b.emit('image_shift', [x, moves(b, batch, d, undefined)], { adjoint: false });
    }
  }
}

/**
 * The salt of one stream of random numbers: transform `index` of the list applied to `input`,
 * and which of its draws (`coin`, `offsets`, `radius`, `angle`), so every stream is independent.
 */
export function augmentationSalt(input: string, index: number, a: Augmentation, stream: string): number {
  return saltOf(`augment/${input}/${index}/${a.kind}/${stream}`, a.seed);
}

/** `augmentations` applied in order to the input `x` named `input`, drawing from `random`. */
export function augmentInput(
  b: GraphBuilder,
  x: number,
  input: string,
  augmentations: readonly Augmentation[],
  random: RandomSources,
): number {
  let v = x;
  augmentations.forEach((a, index) => {
    b.span = a.span;
    const draw: Draw = (shape, stream) =>
      b.emit('random_uniform', [random.counter, random.seed], {
        shape,
        salt: augmentationSalt(input, index, a, stream),
      });
    v = applyAugmentation(b, v, a, draw);
  });
  return v;
}

/**
 * The training model with `augmentations` applied, in order, to each of its inputs. The step
 * counter and the seed are shared with Dropout (the counter incremented once per step); a model
 * without them gets them.
 */
export function augmentModel(model: ModelIR, augmentations: readonly Augmentation[]): ModelIR {
  if (augmentations.length === 0) return model;
  const old = model.graph;
  const b = new GraphBuilder();
  b.label = 'augment';
  const newId = new Map<number, number>();
  const oldState = (name: string) => inputsOf(old, 'state').find((n) => n.params.name === name);
  const oldCounter = oldState(RANDOM_COUNTER);
  const oldSeed = oldState(RANDOM_SEED);
  const counter = b.input(RANDOM_COUNTER, 'state', []);
  const seed = b.input(RANDOM_SEED, 'state', []);
  if (oldCounter) newId.set(oldCounter.id, counter);
  if (oldSeed) newId.set(oldSeed.id, seed);
  const inputNodes = new Map<number, number>();
  for (const input of model.inputs) {
    const x = b.emit('input', [], inputNode(old, input.node).params);
    inputNodes.set(input.node, x);
    newId.set(input.node, augmentInput(b, x, input.name, augmentations, { counter, seed }));
  }
  const prefix = b.build();
  const nodes: Node[] = [...prefix.nodes];
  for (const n of old.nodes) {
    if (newId.has(n.id)) continue;
    newId.set(n.id, nodes.length);
    nodes.push({ ...n, id: nodes.length, srcs: n.srcs.map((s) => newId.get(s)!) });
  }
  const map = (id: number) => newId.get(id)!;
  const graph: Graph = {
    nodes,
    outputs: old.outputs.map((o) => ({
      ...o,
      node: map(o.node),
      ...(o.target !== undefined ? { target: map(o.target) } : {}),
    })),
  };
  const updates = (model.updates ?? []).map((u) => ({ ...u, target: map(u.target), value: map(u.value) }));
  const extended = new GraphBuilder(graph);
  if (!oldCounter)
    updates.push({
      name: RANDOM_COUNTER,
      target: counter,
      value: extended.add(counter, extended.constant(1)),
    });
  return {
    name: model.name,
    span: model.span,
    graph: extended.build(),
    inputs: model.inputs.map((i) => ({ ...i, node: inputNodes.get(i.node)! })),
    outputs: model.outputs.map((o) => ({ ...o, node: map(o.node) })),
    params: model.params.map((p) => ({ ...p, node: map(p.node) })),
    updates,
  };
}
