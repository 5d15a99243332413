/**
 * Each mapping that differs between Keras (nnx) and PyTorch, converted exactly: model.py's
 * output and torch.nn's own module built by model.py's *_from_nnx helpers both equal the
 * reference interpreter (f64), and the naive mapping (a reshape for a transpose, symmetric
 * padding, Keras' gate order, no forget-gate +1, torch's ε) does not, so each test can fail.
 * Optimizer ε placement: pytorch-optimizers.test.ts.
 */
import { MASK_INPUT } from '../../src/lower/layers/types.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelPy } from '../../src/export/pytorch-model.js';
import { encodeSafetensors } from '../../src/runtime/safetensors.js';
import {
  type Example,
  compileExample,
  interpreterSteps,
  maxAbsDiff,
  randomInputs,
  randomWeights,
  referenceOutputs,
} from './fixtures.js';
import { runPython } from './torch.js';

const FILE = 'test/export/mappings.nnx';
const BATCH = 3;

/** model.py, the weights and one batch in a fresh directory; `case` computes native and wrong. */
function runCase(
  example: Example,
  weights: Map<string, Float32Array>,
  inputs: Map<string, Float32Array>,
  body: string,
) {
  const py = modelPy(example.model, example.compiled, 'mappings.nnx');
  expect(py.diagnostics).toEqual([]);
  const dir = mkdtempSync(join(tmpdir(), 'nnx-map-'));
  writeFileSync(join(dir, 'model.py'), py.text);
  const tensors = new Map(
    example.compiled.spec.params.map((p) => [p.name, { shape: p.shape, data: weights.get(p.name)! }]),
  );
  writeFileSync(join(dir, 'weights.safetensors'), encodeSafetensors(tensors));
  const json: Record<string, { shape: number[]; data: number[] }> = {};
  for (const [name, data] of inputs) {
    const ref = example.model.inputs.find((i) => i.name === name);
    const shape = ref ? [BATCH, ...(ref.shape.slice(1) as number[])] : [BATCH, data.length / BATCH];
    json[name] = { shape, data: [...data] };
  }
  writeFileSync(join(dir, 'inputs.json'), JSON.stringify(json));
  writeFileSync(
    join(dir, 'case.py'),
    `import json, sys, torch
import torch.nn.functional as F
from torch import nn
sys.path.insert(0, '.')
import model as exported
m = getattr(exported, sys.argv[1])().double().eval()
exported.load_nnx_weights(m, 'weights.safetensors')
inputs = json.load(open('inputs.json'))
T = {n: torch.tensor(v['data'], dtype=torch.float64).reshape(v['shape']) for n, v in inputs.items()}
x = T[exported.INPUTS[0]]
W = {k: v.detach().clone() for k, v in exported.nnx_state(m).items()}
out = {}
with torch.no_grad():
${body
  .trim()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
print(json.dumps({k: (v.reshape(-1).tolist() if torch.is_tensor(v) else v) for k, v in out.items()}))
`,
  );
  return JSON.parse(runPython(['case.py', example.model.name], dir)) as Record<string, number[]>;
}

/** Checks export and native against the interpreter, and that the naive mapping is off by more than `off`. */
function forwardCase(model: string, body: string, off: number): Record<string, number[]> {
  const example = compileExample(FILE, model);
  const weights = randomWeights(example, 13);
  const inputs = randomInputs(example, BATCH, 17);
  const got = runCase(example, weights, inputs, `out['export'] = m(x)\n${body}`);
  const want = [...referenceOutputs(example, weights, inputs, BATCH).values()][0]!.data;
  const [exp, native, wrong] = ['export', 'native', 'wrong'].map((k) => maxAbsDiff(got[k]!, want));
  console.log(
    `${model}: export ${exp.toExponential(2)}, native ${native.toExponential(2)}, naive ${wrong.toExponential(2)}`,
  );
  expect(exp).toBeLessThan(1e-12);
  expect(native).toBeLessThan(1e-12);
  expect(wrong).toBeGreaterThan(off);
  return got;
}

describe('Keras-to-PyTorch mappings', () => {
  it('Dense kernel [in, out] is nn.Linear weight [out, in] transposed, not reshaped', () => {
    forwardCase(
      'Linear',
      `out['native'] = exported.linear_from_nnx(W['dense_1/kernel'], W['dense_1/bias'])(x)
out['wrong'] = F.linear(x, W['dense_1/kernel'].reshape(3, 5), W['dense_1/bias'])`,
      1e-2,
    );
  });

  it("Conv2D HWIO is OIHW permuted; strided 'same' pads asymmetrically (0 above, 1 below)", () => {
    const got = forwardCase(
      'SameConv',
      `w = exported.conv2d_weight_from_nnx(W['conv2d_1/kernel'])
top, bottom = exported.same_padding(8, 3, 2)
left, right = exported.same_padding(7, 3, 2)
out['pads'] = [top, bottom, left, right]
nchw = x.permute(0, 3, 1, 2)
out['native'] = F.conv2d(F.pad(nchw, (left, right, top, bottom)), w, W['conv2d_1/bias'], stride=2).permute(0, 2, 3, 1)
out['wrong'] = F.conv2d(nchw, w, W['conv2d_1/bias'], stride=2, padding=1).permute(0, 2, 3, 1)`,
      1e-2,
    );
    expect(got['pads']).toEqual([0, 1, 1, 1]);
  });

  it("LSTM is nn.LSTM: same gate order (i, f, c/g, o), kernels transposed, unit_forget_bias's +1 in torch's bias", () => {
    forwardCase(
      'Lstm',
      `k, r, b = W['lstm_1/kernel'], W['lstm_1/recurrent_kernel'], W['lstm_1/bias']
out['native'] = exported.lstm_from_nnx(k, r, b)(x)[0]
out['wrong'] = exported.lstm_from_nnx(k, r, b, unit_forget_bias=False)(x)[0]`,
      1e-3,
    );
  });

  it("GRU (reset_after) is nn.GRU with Keras' gates z, r, h reordered to torch's r, z, n", () => {
    forwardCase(
      'Gru',
      `k, r, b = W['gru_1/kernel'], W['gru_1/recurrent_kernel'], W['gru_1/bias']
out['native'] = exported.gru_from_nnx(k, r, b)(x)[0]
g = exported.gru_from_nnx(k, r, b)
g.weight_ih_l0.copy_(k.t())
g.weight_hh_l0.copy_(r.t())
g.bias_ih_l0.copy_(b)
out['wrong'] = g(x)[0]`,
      1e-3,
    );
  });

  it('BatchNormalization in inference is nn.BatchNorm1d with ε = 1e-3 (torch: 1e-5)', () => {
    forwardCase(
      'Norm',
      `n = 'batch_normalization_1/'
bn = exported.batchnorm_from_nnx(W[n + 'gamma'], W[n + 'beta'], W[n + 'moving_mean'], W[n + 'moving_variance']).eval()
dense = exported.linear_from_nnx(W['dense_1/kernel'], W['dense_1/bias'])
out['native'] = dense(bn(x))
plain = nn.BatchNorm1d(2).double().eval()
plain.load_state_dict(bn.state_dict())
plain.eps = 1e-5
out['wrong'] = dense(plain(x))`,
      1e-6,
    );
  });

  it("BatchNormalization's train-mode update: Keras' momentum 0.99 (torch 0.01), biased variance (torch: unbiased)", () => {
    const example = compileExample(FILE, 'Norm');
    const weights = randomWeights(example, 19);
    const inputs = randomInputs(example, BATCH, 23);
    const target = Float32Array.from([0.3, -0.2, 0.9]);
    const batch = new Map<string, ArrayLike<number>>([
      ['x', inputs.get('x')!],
      ['target', target],
      [MASK_INPUT, [1, 1, 1]],
    ]);
    const { losses, last } = interpreterSteps(example, weights, () => batch, BATCH, 1);
    const got = runCase(
      example,
      weights,
      new Map([...inputs, ['target', target]]),
      `n = 'batch_normalization_1/'
bn = exported.batchnorm_from_nnx(W[n + 'gamma'], W[n + 'beta'], W[n + 'moving_mean'], W[n + 'moving_variance'])
bn.train()
bn(x)
m.train()
out['loss'] = float(m(x, T['target'], torch.ones(3, dtype=torch.float64), mode='train')['loss'])
out['mean'] = m.batch_normalization_1.moving_mean
out['variance'] = m.batch_normalization_1.moving_variance
out['torch_mean'] = bn.running_mean
out['torch_variance'] = bn.running_var`,
    );
    const mean = last.get('batch_normalization_1/moving_mean')!;
    const variance = last.get('batch_normalization_1/moving_variance')!;
    expect(Math.abs((got['loss'] as unknown as number) - losses[0]!)).toBeLessThan(1e-12);
    expect(maxAbsDiff(got['mean']!, mean)).toBeLessThan(1e-12);
    expect(maxAbsDiff(got['variance']!, variance)).toBeLessThan(1e-12);
    expect(maxAbsDiff(got['torch_mean']!, mean)).toBeLessThan(1e-12);
    // torch's running variance takes the batch variance × n/(n − 1) where nnx takes it × 1.
    const x = inputs.get('x')!;
    for (let c = 0; c < 2; c++) {
      const col = [0, 1, 2].map((i) => x[i * 2 + c]!);
      const mu = col.reduce((a, b) => a + b, 0) / BATCH;
      const biased = col.reduce((a, v) => a + (v - mu) ** 2, 0) / BATCH;
      const old = weights.get('batch_normalization_1/moving_variance')![c]!;
      expect(Math.abs(variance[c]! - (0.99 * old + 0.01 * biased))).toBeLessThan(1e-7);
      const extra = got['torch_variance']![c]! - variance[c]!;
      expect(Math.abs(extra - 0.01 * biased * (BATCH / (BATCH - 1) - 1))).toBeLessThan(1e-12);
      expect(extra).toBeGreaterThan(1e-5);
    }
  });
});
