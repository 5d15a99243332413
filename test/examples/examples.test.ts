/**
 * Every example of the layer library checks cleanly, compiles, and trains a few steps on small
 * synthetic data (the real datasets are the CLI's): the loss stays finite, the weights move, and
 * evaluate and predict run the inference graph. On the wasm backend (test/backends.ts): their
 * kernels' WGSL is checked op by op and step by step by the WebGPU set.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MODEL_TEST_BACKEND, compileFor, createOn } from '../backends.js';
import { randomArray, seededRandom } from '../ir/random.js';

const EXAMPLES = [
  { file: 'mnist_cnn.nnx', input: 'x', classes: 10 },
  { file: 'fashion_cnn.nnx', input: 'x', classes: 10 },
  { file: 'rnn.nnx', input: 'tokens', classes: 0, vocabulary: 10 },
  { file: 'transformer.nnx', input: 'tokens', classes: 0, vocabulary: 16 },
  { file: 'iris.nnx', input: 'x', classes: 3 },
  { file: 'resnet_small.nnx', input: 'x', classes: 10 },
] as const;

describe(`examples on ${MODEL_TEST_BACKEND}`, () => {
  for (const ex of EXAMPLES) {
    it(`${ex.file} compiles and trains a few steps`, async () => {
      const text = readFileSync(new URL(`../../examples/${ex.file}`, import.meta.url), 'utf8');
      const batch = 6;
      const { compiled, diagnostics } = compileFor(MODEL_TEST_BACKEND, text, { overrides: { batch } });
      expect(diagnostics).toEqual([]);
      const { spec } = compiled!;
      const rand = seededRandom(11);
      const count = 9; // one full batch and one partial
      const input = spec.entries.train.inputs.find((s) => s.role === 'input')!;
      const perSample = input.shape.slice(1).reduce((a, b) => a * b, 1);
      const x =
        'vocabulary' in ex
          ? Float32Array.from({ length: count * perSample }, () => Math.floor(rand() * ex.vocabulary))
          : Float32Array.from(randomArray(rand, count * perSample, 0, 1));
      // Sparse targets are class indices; a single sigmoid unit takes 0/1.
      const target = Float32Array.from({ length: count }, (_, i) => (ex.classes ? i % ex.classes : i % 2));
      const data = { count, inputs: { [ex.input]: x }, targets: { target } };
      const model = await createOn(MODEL_TEST_BACKEND, spec, { seed: 3 });
      const before = await model.getWeights();
      const history = await model.fit(data, { epochs: 2 });
      for (const log of history.epochs) expect(Number.isFinite(log['loss'])).toBe(true);
      const after = await model.getWeights();
      const moved = [...after].filter(([name, w]) => w.some((v, i) => v !== before.get(name)![i])).length;
      expect(moved).toBeGreaterThan(after.size / 2);
      const evaluated = await model.evaluate(data);
      expect(Number.isFinite(evaluated['loss'])).toBe(true);
      const predictions = await model.predict({ [ex.input]: x }, count);
      expect(predictions.every((v) => Number.isFinite(v))).toBe(true);
      model.destroy();
    });
  }
});
