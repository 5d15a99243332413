/**
 * Training (on the wasm backend, test/backends.ts) leaves `trainable: false` parameters bit for bit as they were, while
 * the trainable ones around them move.
 */
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/runtime/index.js';
import { MODEL_TEST_BACKEND, compileFor, createOn } from '../backends.js';
import { Rng } from '../../src/runtime/rng.js';

const SOURCE = `
block Trunk(x: [6]) {
  Dense(6, activation: tanh)
}
sequential Head(x: [4]) {
  Dense(6, activation: relu, trainable: false)
  Trunk(trainable: false)
  Dense(6, activation: relu)
  Dense(3, activation: softmax)
}
train Head { data: iris, loss: categorical_crossentropy, optimizer: Adam(lr: 0.05), batch: 8, epochs: 2 }
`;

function data(): Dataset {
  const rng = new Rng(9);
  const count = 24;
  const x = Float32Array.from({ length: count * 4 }, () => rng.normal());
  const y = new Float32Array(count * 3);
  for (let i = 0; i < count; i++) y[i * 3 + (x[i * 4]! > 0 ? 0 : x[i * 4 + 1]! > 0 ? 1 : 2)] = 1;
  return { count, inputs: { x }, targets: { target: y } };
}

const bitsOf = (values: Float32Array) => [
  ...new Uint32Array(values.buffer, values.byteOffset, values.length),
];

describe(`frozen parameters on ${MODEL_TEST_BACKEND}`, () => {
  it('stay bit for bit unchanged by training while their neighbours move', async () => {
    const result = compileFor(MODEL_TEST_BACKEND, SOURCE);
    expect(result.diagnostics).toEqual([]);
    const spec = result.compiled!.spec;
    const model = await createOn(MODEL_TEST_BACKEND, spec, { seed: 2 });
    try {
      const before = await model.getWeights();
      await model.fit(data(), { epochs: 2 });
      const after = await model.getWeights();
      const frozen = ['dense_1/kernel', 'dense_1/bias', 'trunk_1/dense_1/kernel', 'trunk_1/dense_1/bias'];
      for (const name of frozen) expect(bitsOf(after.get(name)!), name).toEqual(bitsOf(before.get(name)!));
      for (const name of ['dense_2/kernel', 'dense_2/bias', 'dense_3/kernel', 'dense_3/bias'])
        expect(bitsOf(after.get(name)!), name).not.toEqual(bitsOf(before.get(name)!));
      expect(spec.state.map((s) => s.name).filter((s) => frozen.some((f) => s.startsWith(`${f}/`)))).toEqual(
        [],
      );
    } finally {
      model.destroy();
    }
  });
});
