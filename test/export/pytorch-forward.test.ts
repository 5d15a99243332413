/**
 * The exported model.py's predictions (torch, float64) against the reference interpreter on the
 * same random weights and inputs, for every example model and the layers of layers.nnx.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelPy } from '../../src/export/pytorch-model.js';
import { encodeSafetensors } from '../../src/runtime/safetensors.js';
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
import { runPython } from './torch.js';

const BATCH = 3;

/** Loads the weights into model.py's module and prints its predictions as JSON. */
const PREDICT = `
import json, sys, torch
sys.path.insert(0, '.')
import model as exported
cls = getattr(exported, sys.argv[1])
m = cls().double().eval()
exported.load_nnx_weights(m, 'weights.safetensors')
inputs = json.load(open('inputs.json'))
args = [torch.tensor(inputs[n]['data'], dtype=torch.float64).reshape(inputs[n]['shape']) for n in exported.INPUTS]
with torch.no_grad():
    out = m(*args)
out = out if isinstance(out, tuple) else (out,)
print(json.dumps({n: o.reshape(-1).tolist() for n, o in zip(exported.OUTPUTS, out)}))
`;

describe('PyTorch export: model.py', () => {
  const cases = [
    ...EXAMPLES.map((name) => ({ name, example: () => compileExample(name) })),
    ...LAYER_MODELS.map((name) => ({ name, example: () => compileExample(LAYERS_FILE, name) })),
  ];
  for (const { name, example: compiled } of cases) {
    it(`${name}: torch's predictions equal the interpreter's`, () => {
      const example = compiled();
      const weights = randomWeights(example, 5);
      const inputs = randomInputs(example, BATCH, 9);
      const py = modelPy(example.model, example.compiled, `${name}.nnx`);
      expect(py.diagnostics).toEqual([]);
      const dir = mkdtempSync(join(tmpdir(), 'nnx-torch-'));
      writeFileSync(join(dir, 'model.py'), py.text);
      const tensors = new Map(
        example.compiled.spec.params.map((p) => [p.name, { shape: p.shape, data: weights.get(p.name)! }]),
      );
      writeFileSync(join(dir, 'weights.safetensors'), encodeSafetensors(tensors));
      const json: Record<string, { shape: number[]; data: number[] }> = {};
      for (const ref of example.model.inputs) {
        json[ref.name] = {
          shape: [BATCH, ...(ref.shape.slice(1) as number[])],
          data: [...inputs.get(ref.name)!],
        };
      }
      writeFileSync(join(dir, 'inputs.json'), JSON.stringify(json));
      writeFileSync(join(dir, 'predict.py'), PREDICT);
      const got = JSON.parse(runPython(['predict.py', example.model.name], dir)) as Record<string, number[]>;
      const want = referenceOutputs(example, weights, inputs, BATCH);
      for (const [output, t] of want) {
        const diff = maxAbsDiff(got[output]!, t.data);
        console.log(`torch ${name}/${output}: max |torch - interpreter| = ${diff.toExponential(2)}`);
        expect(diff).toBeLessThan(1e-5);
      }
    });
  }
});
