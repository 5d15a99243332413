/**
 * The oracle side of the whole-step tests: runs a compiled training-step graph in the reference
 * interpreter (f32) on the same padded batch the GPU saw, writing each `update` output back into
 * the input it replaces, as the runtime does in place.
 */
import { type Graph, inputsOf, sizeOf } from '../../src/ir/graph.js';
import { interpret } from '../../src/ir/interpret.js';
import type { Tensor } from '../../src/ir/tensor.js';
import { MASK_INPUT, RANDOM_SEED } from '../../src/lower/layers/types.js';

/**
 * Runs `steps` training steps of `g` from `weights` (zeros for every other state but the seed,
 * `modelSeed` as the runtime writes it) on `batch` (per-slot arrays of `count` real samples,
 * padded to the graph's batch and masked), and returns every input's value afterwards, by name.
 */
export function interpretTrainSteps(
  g: Graph,
  weights: ReadonlyMap<string, Float32Array>,
  batch: Readonly<Record<string, Float32Array>>,
  count: number,
  steps: number,
  modelSeed = 0,
): Map<string, Tensor> {
  const values = new Map<string, Tensor>();
  for (const n of inputsOf(g)) {
    const shape = n.shape as number[];
    const data = new Float32Array(sizeOf(shape));
    const given = weights.get(n.params.name) ?? batch[n.params.name];
    if (given) data.set(given);
    if (n.params.name === MASK_INPUT) data.fill(1, 0, count);
    if (n.params.name === RANDOM_SEED) data.fill(modelSeed);
    values.set(n.params.name, { shape, data });
  }
  for (let s = 0; s < steps; s++) {
    const result = interpret(g, values, { dtype: 'f32' });
    for (const o of g.outputs) {
      if (o.role !== 'update') continue;
      const name = (g.nodes[o.target!]!.params as { name: string }).name;
      values.set(name, result[o.node]!);
    }
  }
  return values;
}
