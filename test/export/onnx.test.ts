/**
 * The ONNX export run by ONNX Runtime (onnxruntime-node, CPU) against the reference
 * interpreter on the same random weights and inputs, for every example model.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { exportOnnx } from '../../src/export/onnx.js';
import {
  EXAMPLES,
  LAYERS_FILE,
  LAYER_MODELS,
  compileExample,
  maxAbsDiff,
  randomInputs,
  randomWeights,
  referenceOutputs,
} from './fixtures.js';

const BATCH = 3;

describe('ONNX export', () => {
  const cases = [
    ...EXAMPLES.map((name) => ({ name, example: () => compileExample(name) })),
    ...LAYER_MODELS.map((name) => ({ name, example: () => compileExample(LAYERS_FILE, name) })),
  ];
  for (const { name, example: compiled } of cases) {
    it(`${name}: ONNX Runtime's outputs equal the interpreter's`, async () => {
      const example = compiled();
      const weights = randomWeights(example, 7);
      const inputs = randomInputs(example, BATCH, 11);
      const exported = exportOnnx(example.model, weights);
      expect(exported.diagnostics).toEqual([]);
      const session = await ort.InferenceSession.create(exported.bytes!);
      expect([...session.inputNames]).toEqual(example.model.inputs.map((i) => i.name));
      expect([...session.outputNames]).toEqual(example.model.outputs.map((o) => o.name));
      const feeds: Record<string, ort.Tensor> = {};
      for (const ref of example.model.inputs) {
        const dims = [BATCH, ...(ref.shape.slice(1) as number[])];
        feeds[ref.name] = new ort.Tensor('float32', inputs.get(ref.name)!, dims);
      }
      const got = await session.run(feeds);
      const want = referenceOutputs(example, weights, inputs, BATCH);
      for (const [output, t] of want) {
        expect([...got[output]!.dims]).toEqual(t.shape);
        const diff = maxAbsDiff(got[output]!.data as Float32Array, t.data);
        console.log(`onnx ${name}/${output}: max |ort - interpreter| = ${diff.toExponential(2)}`);
        expect(diff).toBeLessThan(1e-5);
      }
    });
  }
});
