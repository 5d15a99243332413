/**
 * foldBatchIntoContraction: a shared operand's gradient, the batch of products summed over the
 * batch, becomes one product over all rows once the batch is bound, with the same values.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { BATCH } from '../../../src/ir/graph.js';
import { interpret } from '../../../src/ir/interpret.js';
import { optimize } from '../../../src/ir/passes/index.js';
import { randomArray, seededRandom } from '../random.js';

/** dW of Dense on sequences: Σ_b x_bᵀ·g_b for x [B, 5, 3] and g [B, 5, 4]. */
function denseKernelGradient() {
  const b = new GraphBuilder();
  const x = b.input('x', 'data', [BATCH, 5, 3]);
  const g = b.input('g', 'data', [BATCH, 5, 4]);
  b.output('dw', b.sumToShape(b.matmul(x, g, true, false), [3, 4]), 'prediction');
  return b.build();
}

describe('foldBatchIntoContraction', () => {
  it('computes Σ_b x_bᵀ·g_b as one [B·T, F]ᵀ·[B·T, U] product, with the same values', () => {
    const graph = denseKernelGradient();
    const optimized = optimize(graph, { B: 6 });
    const products = optimized.nodes.filter((n) => n.op === 'matmul');
    expect(products.map((n) => n.shape)).toEqual([[3, 4]]);
    expect(products[0]!.srcs.map((s) => optimized.nodes[s]!.shape)).toEqual([
      [30, 3],
      [30, 4],
    ]);
    expect(optimized.nodes.some((n) => n.op === 'sum')).toBe(false);

    const rand = seededRandom(5);
    const inputs = new Map([
      ['x', { shape: [6, 5, 3], data: Float64Array.from(randomArray(rand, 90, -1, 1)) }],
      ['g', { shape: [6, 5, 4], data: Float64Array.from(randomArray(rand, 120, -1, 1)) }],
    ]);
    const want = interpret(graph, inputs, { dtype: 'f64', dims: { B: 6 } });
    const got = interpret(optimized, inputs, { dtype: 'f64' });
    const [w, o] = [want[graph.outputs[0]!.node]!.data, got[optimized.outputs[0]!.node]!.data];
    expect(o.length).toBe(12);
    for (let i = 0; i < 12; i++) expect(o[i]!).toBeCloseTo(w[i]!, 12);
  });
});
