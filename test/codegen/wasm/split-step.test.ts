/**
 * Whole training steps of the MNIST models whose plans split long reductions (#16: split-K of
 * the MLP's matmuls for the H100, the CNN's split filter gradients and bias gradients), on the
 * wasm backend (the MLP on WebGPU too), against the interpreter running the step graph as it was before any split:
 * the splits change the summation order only, so the weights after two steps agree within f32
 * tolerance.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { interpretTrainSteps } from '../step-oracle.js';
import { ADAPTER_PROFILES } from '../../../src/codegen/adapter.js';
import { compile } from '../../../src/compile.js';
import { BATCH, type Graph } from '../../../src/ir/graph.js';
import { optimize } from '../../../src/ir/passes/index.js';
import { NnxModel } from '../../../src/runtime/index.js';
import { randomArray, seededRandom } from '../../ir/random.js';

/** The train graph as buildEntry optimises it, before splitReductions. */
function unsplit(train: Graph, batch: number): Graph {
  return optimize({ ...train, outputs: train.outputs.filter((o) => o.role !== 'loss') }, { [BATCH]: batch });
}

describe('split plans train as the unsplit step does', () => {
  // The MLP's matmuls fill lavapipe's 16 workgroups unsplit: planned for the H100 they split in K.
  it.each([
    ['mnist_mlp', 784, 100, 'wasm', 'h100'],
    ['mnist_cnn', 784, 64, 'wasm', 'lavapipe'],
    ['mnist_mlp', 784, 100, 'webgpu', 'h100'],
  ] as const)(
    '%s (%s pixels, batch %s, on %s, planned for %s): two steps equal the interpreter on the unsplit graph',
    async (name, pixels, batch, backend, adapter) => {
      const { compiled, diagnostics } = compile(readFileSync(`examples/${name}.nnx`, 'utf8'), {
        wasm: true,
        adapter: ADAPTER_PROFILES[adapter],
      });
      expect(diagnostics).toEqual([]);
      const { spec, optimized, steps } = compiled!;
      // The plan did split: a batched (split-K) matmul or a sliced filter gradient feeds a final sum.
      expect(
        optimized.train.nodes.some(
          (n) =>
            (n.op === 'matmul' && n.shape.length === 3) ||
            (n.op === 'conv2d_filter_grad' && n.params.slices !== undefined),
        ),
      ).toBe(true);
      const model = await NnxModel.create(spec, { seed: 4, backend });
      const weights = await model.getWeights();
      const rand = seededRandom(21);
      const count = batch - 3; // a partial batch: the mask is in the sums too
      const x = Float32Array.from(randomArray(rand, count * pixels, 0, 1));
      const target = Float32Array.from({ length: count }, (_, i) => (i * 7) % 10);
      const targets = name === 'mnist_mlp' ? oneHot(target) : target;
      for (let s = 0; s < 2; s++) model.trainStep({ x, target: targets });
      const after = await model.getWeights();
      const want = interpretTrainSteps(
        unsplit(steps.train, batch),
        weights,
        { x, target: targets },
        count,
        2,
      );
      let moved = 0;
      for (const [param, w] of after) {
        const expected = want.get(param)!.data;
        for (let i = 0; i < w.length; i++) {
          expect(Math.abs(w[i]! - expected[i]!)).toBeLessThan(2e-5 * Math.max(1, Math.abs(expected[i]!)));
          if (w[i] !== weights.get(param)![i]) moved++;
        }
      }
      expect(moved).toBeGreaterThan(1000);
      model.destroy();
    },
  );
});

function oneHot(labels: Float32Array): Float32Array {
  const out = new Float32Array(labels.length * 10);
  labels.forEach((l, i) => (out[i * 10 + l] = 1));
  return out;
}
