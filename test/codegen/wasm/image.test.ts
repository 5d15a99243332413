/**
 * The wasm image_shift kernel (both directions) against the reference interpreter, bit for bit:
 * moves that round up and down at ½, negative ones, ones past the image edge, flips on and off;
 * one channel (scalar copies) and five (memory.copy); on one thread and on two.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { sizeOf } from '../../../src/ir/graph.js';
import { interpret } from '../../../src/ir/interpret.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { randomArray, seededRandom } from '../../ir/random.js';
import { runGraphOnWasm, runGraphOnWasmThreads } from '../../wasm.js';

/** (dy, dx, flip) per image: rounding at ±½, negatives, a move past the edge, both flips. */
const MOVES = [
  [0, 0, 0],
  [1.49, -0.5, 0.7],
  [-2.5, 2.5, 0.49],
  [0.5, -1.51, 1],
  [9, 0, 0],
  [-1, -7, 0.5],
];

describe('wasm image_shift matches the reference interpreter bit for bit', () => {
  for (const channels of [1, 5])
    for (const adjoint of [false, true])
      for (const threads of [1, 2])
        it(`${adjoint ? 'adjoint' : 'forward'}, ${channels} channel(s), ${threads} thread(s)`, async () => {
          const shape = [MOVES.length, 5, 7, channels];
          const b = new GraphBuilder();
          const x = b.input('x', 'data', shape);
          const moves = b.input('m', 'data', [MOVES.length, 3]);
          b.output('y', b.emit('image_shift', [x, moves], { adjoint }), 'prediction');
          const g = b.build();
          const values = new Map([
            ['x', Float32Array.from(randomArray(seededRandom(5), sizeOf(shape), -1, 1))],
            ['m', Float32Array.from(MOVES.flat())],
          ]);
          const tensors = new Map<string, Tensor>([
            ['x', { shape, data: values.get('x')! }],
            ['m', { shape: [MOVES.length, 3], data: values.get('m')! }],
          ]);
          const want = interpret(g, tensors, { dtype: 'f32' })[g.outputs[0]!.node]!.data;
          const got = (
            threads === 1 ? runGraphOnWasm(g, values) : await runGraphOnWasmThreads(g, values, threads)
          ).get('y')!;
          expect(Array.from(got)).toEqual(Array.from(want));
          // Some pixels moved and some fell off the edge.
          expect(Array.from(got).filter((v) => v === 0).length).toBeGreaterThan(10);
          expect(Array.from(got)).not.toEqual(Array.from(values.get('x')!));
        });
});
