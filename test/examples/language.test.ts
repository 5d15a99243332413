/**
 * The language examples (siamese, residual, multi_output), end to end: each compiles, and
 * trains a few epochs on synthetic data on the wasm backend (test/backends.ts). The Siamese example's shared encoder is
 * shown to be ONE parameter set whose gradient is the sum of the gradients of its two calls.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { MODEL_TEST_BACKEND, compileFor, createOn } from '../backends.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { ModelIR } from '../../src/lower/lower.js';
import { grad } from '../../src/ir/grad.js';
import { interpret } from '../../src/ir/interpret.js';
import { type Tensor, tensor } from '../../src/ir/tensor.js';
import type { Dataset, NnxModel } from '../../src/runtime/index.js';
import { Rng } from '../../src/runtime/rng.js';

function source(name: string): string {
  return readFileSync(new URL(`../../examples/${name}`, import.meta.url), 'utf8');
}

function compiled(name: string, text = source(name)) {
  const result = compileFor(MODEL_TEST_BACKEND, text, { path: `examples/${name}` });
  expect(result.diagnostics).toEqual([]);
  return result;
}

function random(count: number, rng: Rng, scale = 1): Float32Array {
  return Float32Array.from({ length: count }, () => rng.uniformIn(-scale, scale));
}

const models: NnxModel[] = [];
afterAll(() => {
  for (const m of models) m.destroy();
});

/** Trains a few epochs; returns the first and last epoch's loss. */
async function trainBriefly(name: string, data: Dataset, epochs: number): Promise<[number, number]> {
  const { compiled: c } = compiled(name);
  const model = await createOn(MODEL_TEST_BACKEND, c!.spec, { seed: 3 });
  models.push(model);
  const history = await model.fit(data, { epochs });
  const losses = history.epochs.map((e) => e['loss']!);
  expect(losses.every(Number.isFinite)).toBe(true);
  return [losses[0]!, losses[losses.length - 1]!];
}

/** Gradients of Σ output² with respect to every parameter, in f64 on the interpreter. */
function gradients(m: ModelIR, values: ReadonlyMap<string, Tensor>): Map<string, Float64Array> {
  const b = new GraphBuilder(m.graph);
  const out = m.outputs[0]!.node;
  const loss = b.sum(b.mul(out, out), [0, 1]);
  const { graph, grads } = grad(
    b.build(),
    loss,
    m.params.map((p) => p.node),
  );
  const computed = interpret(graph, values);
  return new Map(m.params.map((p) => [p.name, computed[grads.get(p.node)!]!.data as Float64Array]));
}

describe('examples/siamese.nnx', () => {
  it('has one parameter set for the shared encoder', () => {
    const { compiled: c, model } = compiled('siamese.nnx');
    expect(model!.params.map((p) => p.name)).toEqual([
      'encoder/dense_1/kernel',
      'encoder/dense_1/bias',
      'encoder/dense_2/kernel',
      'encoder/dense_2/bias',
      'dense_1/kernel',
      'dense_1/bias',
    ]);
    expect(c!.spec.params.map((p) => p.name)).toEqual(model!.params.map((p) => p.name));
  });

  it('sums the gradients of both calls into the shared encoder', () => {
    // The same network with two separate encoders given the same weights: the shared kernel's
    // gradient must equal the left copy's plus the right copy's.
    const shared = compiled('siamese.nnx').model!;
    const untiedText = source('siamese.nnx')
      .replace(
        '  let encoder = Encoder(16)\n',
        '  let encoderL = Encoder(16)\n  let encoderR = Encoder(16)\n',
      )
      .replace('encoder(left) - encoder(right)', 'encoderL(left) - encoderR(right)');
    const untied = compiled('siamese.nnx', untiedText).model!;
    const rng = new Rng(11);
    const values = new Map<string, Tensor>();
    const batch = 5;
    for (const input of shared.inputs) values.set(input.name, tensor([batch, 8], random(batch * 8, rng)));
    for (const p of shared.params) {
      const shape = p.shape as number[];
      const v = tensor(
        shape,
        random(
          shape.reduce((a, b) => a * b, 1),
          rng,
        ),
      );
      values.set(p.name, v);
      values.set(p.name.replace('encoder/', 'encoderL/'), v);
      values.set(p.name.replace('encoder/', 'encoderR/'), v);
    }
    const g = gradients(shared, values);
    const u = gradients(untied, values);
    for (const name of ['encoder/dense_1/kernel', 'encoder/dense_2/bias']) {
      const left = u.get(name.replace('encoder/', 'encoderL/'))!;
      const right = u.get(name.replace('encoder/', 'encoderR/'))!;
      g.get(name)!.forEach((x, i) => expect(x).toBeCloseTo(left[i]! + right[i]!, 10));
      // Both branches contribute: neither copy's gradient is the whole.
      expect(left.some((x, i) => Math.abs(x - right[i]!) > 1e-6)).toBe(true);
    }
  });

  it('trains on pairs from two inputs', async () => {
    const rng = new Rng(5);
    const count = 32;
    const left = random(count * 8, rng);
    const right = Float32Array.from(left);
    const same = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      same[i] = i % 2;
      if (i % 2 === 0) right.set(random(8, rng), i * 8);
    }
    const data = { count, inputs: { left, right }, targets: { target: same } };
    const [first, last] = await trainBriefly('siamese.nnx', data, 6);
    expect(last).toBeLessThan(first);
  });
});

describe('examples/residual.nnx', () => {
  it('builds residual blocks with block and repeat, and learns xor', async () => {
    const { model } = compiled('residual.nnx');
    expect(model!.params.filter((p) => p.name.endsWith('kernel')).map((p) => p.name)).toEqual([
      'tower_1/dense_1/kernel',
      'tower_1/residual_1/dense_1/kernel',
      'tower_1/residual_1/dense_2/kernel',
      'tower_1/residual_2/dense_1/kernel',
      'tower_1/residual_2/dense_2/kernel',
      'tower_1/residual_3/dense_1/kernel',
      'tower_1/residual_3/dense_2/kernel',
      'dense_1/kernel',
    ]);
    const x = Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]);
    const y = Float32Array.from([0, 1, 1, 0]);
    const [first, last] = await trainBriefly(
      'residual.nnx',
      { count: 4, inputs: { x }, targets: { target: y } },
      20,
    );
    expect(last).toBeLessThan(first);
  });
});

describe('examples/multi_output.nnx', () => {
  it('trains two heads with two weighted losses', async () => {
    const { compiled: c } = compiled('multi_output.nnx');
    expect(c!.spec.entries.train.inputs.filter((s) => s.role === 'target').map((s) => s.name)).toEqual([
      'target/kind',
      'target/size',
    ]);
    const rng = new Rng(9);
    const count = 32;
    const x = random(count * 6, rng);
    const kind = new Float32Array(count * 3);
    const size = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const row = x.subarray(i * 6, i * 6 + 6);
      kind[i * 3 + (row[0]! > 0.3 ? 0 : row[0]! > -0.3 ? 1 : 2)] = 1;
      size[i] = row[1]! + row[2]!;
    }
    const data = { count, inputs: { x }, targets: { 'target/kind': kind, 'target/size': size } };
    const [first, last] = await trainBriefly('multi_output.nnx', data, 6);
    expect(last).toBeLessThan(first);
  });

  it('weights the losses as the train block says', () => {
    const halves = (text: string) =>
      compiled('multi_output.nnx', text)
        .compiled!.steps.train.nodes.filter((n) => n.op === 'const')
        .filter((n) => (n.params as { value: number }).value === 0.5).length;
    const equal = source('multi_output.nnx').replace('size: 0.5 }', 'size: 1.0 }');
    expect(halves(source('multi_output.nnx'))).toBeGreaterThan(halves(equal));
  });
});
