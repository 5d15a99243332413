/**
 * The kernel tests' oracle: a small graph on random inputs, run by a target (WebGPU, wasm) and by
 * the reference interpreter, compared element by element.
 */
import { expect } from 'vitest';
import { GraphBuilder } from '../src/ir/builder.js';
import { type Graph, sizeOf } from '../src/ir/graph.js';
import { interpret } from '../src/ir/interpret.js';
import type { Tensor } from '../src/ir/tensor.js';
import { randomArray, seededRandom } from './ir/random.js';

export interface OracleOptions {
  /** Where the random inputs lie; [−2, 2] when omitted. */
  readonly range?: [number, number];
  readonly seed?: number;
  /** The interpreter's precision; f64 when omitted. */
  readonly dtype?: 'f32' | 'f64';
}

/**
 * Builds `y = f(x0, x1, …)` on data inputs of the given shapes (random in `range`), runs it with
 * `run` (a target) and in the reference interpreter at `dtype`, and returns the worst relative error.
 */
export async function worstErrorAgainstInterpreter(
  shapes: number[][],
  f: (b: GraphBuilder, xs: number[]) => number,
  run: (
    g: Graph,
    values: Map<string, Float32Array>,
  ) => Map<string, Float32Array> | Promise<Map<string, Float32Array>>,
  options: OracleOptions = {},
): Promise<number> {
  const rand = seededRandom(options.seed ?? 1);
  const range = options.range ?? [-2, 2];
  const b = new GraphBuilder();
  const xs = shapes.map((s, i) => b.input(`x${i}`, 'data', s));
  b.output('y', f(b, xs), 'prediction');
  const g: Graph = b.build();
  const values = new Map<string, Float32Array>(
    shapes.map((s, i) => [`x${i}`, Float32Array.from(randomArray(rand, sizeOf(s), ...range))]),
  );
  const tensors = new Map<string, Tensor>(
    [...values].map(([k, v], i) => [k, { shape: shapes[i]!, data: v }]),
  );
  const want = interpret(g, tensors, { dtype: options.dtype ?? 'f64' })[g.outputs[0]!.node]!.data;
  const got = (await run(g, values)).get('y')!;
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!));
    worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
  }
  return worst;
}
