/**
 * train.py's optimizers (nnx's formulas: Adam's, RMSprop's and Adagrad's ε placement, SGD's
 * momentum form) against the compiler's own training step run by the reference interpreter:
 * 20 steps from the same weights on one fixed batch, in float64, losses step by step.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { exportPytorch } from '../../src/export/pytorch.js';
import { inputNode } from '../../src/ir/graph.js';
import { interpret } from '../../src/ir/interpret.js';
import { type Tensor, tensor } from '../../src/ir/tensor.js';
import { runPython } from './torch.js';
import { maxAbsDiff } from './fixtures.js';
import { initialWeights } from '../../src/export/weights.js';
import { MASK_INPUT } from '../../src/lower/layers/types.js';

const STEPS = 20;
const X = [0, 0, 0, 1, 1, 0, 1, 1];
const Y = [0, 1, 1, 0];

const DRIVER = `
import json, sys, torch
sys.path.insert(0, '.')
import model as exported, train
net = exported.Xor().double()
exported.load_nnx_weights(net, 'weights.safetensors')
opt = train.make_optimizer(net)
x = torch.tensor(${JSON.stringify(X)}, dtype=torch.float64).reshape(4, 2)
y = torch.tensor(${JSON.stringify(Y)}, dtype=torch.float64).reshape(4, 1)
mask = torch.ones(4, dtype=torch.float64)
print(json.dumps([float(train.train_step(net, opt, [x, y, mask])['loss']) for _ in range(${STEPS})]))
`;

function interpreterLosses(settings: string[]): { losses: number[]; dir: string } {
  const path = 'examples/xor.nnx';
  const r = compile(readFileSync(path, 'utf8'), { path, settings });
  const weights = initialWeights(r.compiled!, 3);
  const g = r.compiled!.steps.train;
  const values = new Map<string, Tensor>();
  for (const n of g.nodes) {
    if (n.op !== 'input') continue;
    const { name, role } = n.params;
    const shape = n.shape.map((d) => (d === 'B' ? 4 : (d as number)));
    const size = shape.reduce((a, b) => a * b, 1);
    const data =
      role === 'param'
        ? weights.get(name)!
        : name === 'x'
          ? X
          : name === 'target'
            ? Y
            : name === MASK_INPUT
              ? [1, 1, 1, 1]
              : new Array(size).fill(0);
    values.set(name, tensor(shape, data));
  }
  const losses: number[] = [];
  for (let s = 0; s < STEPS; s++) {
    const out = interpret(g, values, { dtype: 'f64' });
    losses.push(out[g.outputs.find((o) => o.role === 'loss')!.node]!.data[0]!);
    for (const o of g.outputs) {
      if (o.role !== 'update') continue;
      const target = inputNode(g, o.target!);
      values.set(target.params.name, out[o.node]!);
    }
  }
  const exported = exportPytorch({
    model: r.model!,
    compiled: r.compiled!,
    train: r.train!,
    weights,
    source: 'xor.nnx',
  });
  const dir = mkdtempSync(join(tmpdir(), 'nnx-opt-'));
  for (const [name, data] of exported.files!) writeFileSync(join(dir, name), data);
  return { losses, dir };
}

describe("train.py's optimizers", () => {
  const cases: [string, string[]][] = [
    ['SGD', []],
    ['SGD with Nesterov momentum', ['optimizer=SGD(lr: 0.1, momentum: 0.9, nesterov: true)']],
    ['Adam', ['optimizer=Adam(lr: 0.05)']],
    ['RMSProp', ['optimizer=RMSProp(lr: 0.01)']],
    ['Adagrad', ['optimizer=Adagrad(lr: 0.1)']],
    // Keras' ε placements, with a large ε so that the placement moves the losses.
    ['Adam, Keras placement', ['optimizer=Adam(lr: 0.05, epsilon: 0.01, epsilon_placement: keras)']],
    ['RMSProp, Keras placement', ['optimizer=RMSProp(lr: 0.01, epsilon: 0.01, epsilon_placement: keras)']],
    ['Adagrad, Keras placement', ['optimizer=Adagrad(lr: 0.1, epsilon: 0.01, epsilon_placement: keras)']],
  ];
  for (const [name, settings] of cases) {
    it(`${name}: 20 losses equal the interpreter's training step`, () => {
      const { losses, dir } = interpreterLosses(settings);
      writeFileSync(join(dir, 'steps.py'), DRIVER);
      const got = JSON.parse(runPython(['steps.py'], dir)) as number[];
      const diff = maxAbsDiff(got, losses);
      console.log(`${name}: max |torch - interpreter| over ${STEPS} losses = ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(1e-10);
      expect(losses[STEPS - 1]).not.toBe(losses[0]);
    });
  }
  it("Keras' placement is not PyTorch's: the interpreter's losses differ", () => {
    const keras = interpreterLosses(['optimizer=Adam(lr: 0.05, epsilon: 0.01, epsilon_placement: keras)']);
    const pytorch = interpreterLosses(['optimizer=Adam(lr: 0.05, epsilon: 0.01)']);
    expect(maxAbsDiff(keras.losses, pytorch.losses)).toBeGreaterThan(1e-6);
  });
});
