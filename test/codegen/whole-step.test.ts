/**
 * Whole-step kernels (src/codegen/whole-step.ts): a step whose tensors all fit one workgroup's
 * memory runs as one kernel (xor), or a few (an iris-sized MLP with dropout and Adam, whose
 * buffers are more than one kernel may bind). Each trains as the interpreter does, and on wasm
 * bit for bit as the plan of separate kernels (each step of the whole runs its kernel's code);
 * WebGPU (lavapipe, slow) runs xor once.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ADAPTER } from '../../src/codegen/adapter.js';
import { CNN, syntheticBatch } from '../../bench/models.js';
import { compile } from '../../src/compile.js';
import { BufferPool } from '../../src/codegen/plan.js';
import { KernelTable, lowerEntry } from '../../src/codegen/spec.js';
import { wholeStepLimits } from '../../src/codegen/whole-step.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { interpret } from '../../src/ir/interpret.js';
import { runGraphOnGpu } from '../gpu.js';
import { runGraphOnWasm } from '../wasm.js';
import { NnxModel } from '../../src/runtime/index.js';
import type { ModelSpec } from '../../src/runtime/spec.js';
import { randomArray, seededRandom } from '../ir/random.js';
import { interpretTrainSteps } from './step-oracle.js';

const xorSource = readFileSync(new URL('../../examples/xor.nnx', import.meta.url), 'utf8');

// Iris' shape (4 measurements, 3 classes, batch 16) with dropout's draws and Adam's corrections.
const irisSized = `
sequential Net(x: [4]) {
  Dense(10, activation: relu)
  Dropout(0.2)
  Dense(3, activation: softmax)
}
train Net { data: iris, loss: sparse_categorical_crossentropy, optimizer: Adam(lr: 0.01), metrics: [accuracy], batch: 16 }
`;

function compiled(source: string, wholeStep: boolean) {
  const { compiled, diagnostics } = compile(source, { wasm: true, wholeStep });
  expect(diagnostics).toEqual([]);
  return compiled!;
}

interface Batch {
  readonly x: Float32Array;
  readonly target: Float32Array;
  readonly count: number;
}

const xorBatch: Batch = {
  x: Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]),
  target: Float32Array.from([0, 1, 1, 0]),
  count: 4,
};

function irisBatch(): Batch {
  const rand = seededRandom(9);
  const count = 13; // a partial batch: the mask removes the last 3 rows
  return {
    x: Float32Array.from(randomArray(rand, count * 4, -2, 2)),
    target: Float32Array.from({ length: count }, () => Math.floor(rand() * 3)),
    count,
  };
}

/** Weights after `steps` steps from the seeded start, and the evaluate entry's loss and accuracy. */
async function train(spec: ModelSpec, backend: 'wasm' | 'webgpu', batch: Batch, steps: number) {
  const model = await NnxModel.create(spec, { seed: 4, backend });
  const before = await model.getWeights();
  for (let s = 0; s < steps; s++) model.trainStep({ x: batch.x, target: batch.target });
  const after = await model.getWeights();
  const metrics = await model.evaluate({
    count: batch.count,
    inputs: { x: batch.x },
    targets: { target: batch.target },
  });
  model.destroy();
  return { before, after, metrics };
}

/** Every weight within f32 round-off of the interpreter's `steps` steps from the same start. */
function expectInterpreter(
  c: ReturnType<typeof compiled>,
  run: Awaited<ReturnType<typeof train>>,
  batch: Batch,
  steps: number,
): void {
  const want = interpretTrainSteps(
    c.optimized.train,
    run.before,
    { x: batch.x, target: batch.target },
    batch.count,
    steps,
    4,
  );
  let moved = 0;
  for (const [name, w] of run.after) {
    const expected = want.get(name)!.data;
    w.forEach((v, i) => {
      expect(Math.abs(v - expected[i]!)).toBeLessThan(2e-5 * Math.max(1, Math.abs(expected[i]!)));
      if (v !== run.before.get(name)![i]) moved++;
    });
  }
  expect(moved).toBeGreaterThan(0);
}

describe('whole-step kernels', () => {
  it('xor: every entry is one kernel of one workgroup, within the adapter limits', () => {
    const c = compiled(xorSource, true);
    for (const entry of ['train', 'evaluate', 'predict'] as const) {
      const { dispatches } = c.spec.entries[entry];
      expect(dispatches).toHaveLength(1);
      expect(dispatches[0]!.workgroups).toEqual([1, 1, 1]);
      expect(dispatches[0]!.buffers.length).toBeLessThanOrEqual(DEFAULT_ADAPTER.maxStorageBuffers);
    }
    const train = c.lowered.train.fused.kernels[0]!;
    // Its steps are the 8 kernels of the separate plan, in its order.
    const apart = compiled(xorSource, false);
    expect(train.steps).toHaveLength(apart.spec.entries.train.dispatches.length);
    expect(apart.spec.entries.train.dispatches.length).toBe(8);
    // The temporaries live in workgroup memory, declared within WebGPU's default 16 KiB.
    const wgsl = c.spec.kernels[c.spec.entries.train.dispatches[0]!.kernel]!.wgsl;
    const floats = [...wgsl.matchAll(/var<workgroup> \w+: array<f32, (\d+)>/g)].map((m) => Number(m[1]));
    expect(floats.length).toBeGreaterThan(1);
    expect(4 * floats.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(DEFAULT_ADAPTER.workgroupStorageBytes);
  });

  it('an entry over the workgroup memory stays as separate kernels (the MNIST MLP)', () => {
    const source = readFileSync(new URL('../../examples/mnist_mlp.nnx', import.meta.url), 'utf8');
    const { compiled: c } = compile(source);
    expect(c!.lowered.train.fused.kernels.some((k) => k.steps)).toBe(false);
  });

  it('an iris-sized step (dropout, Adam, a partial batch) takes 4 kernels, from 10 (Adam slots: more buffers than one kernel may bind)', () => {
    const whole = compiled(irisSized, true).spec.entries;
    const apart = compiled(irisSized, false).spec.entries;
    expect(apart.train.dispatches).toHaveLength(10);
    expect(whole.train.dispatches).toHaveLength(4);
    expect(whole.evaluate.dispatches).toHaveLength(1);
    for (const d of whole.train.dispatches)
      expect(d.buffers.length).toBeLessThanOrEqual(DEFAULT_ADAPTER.maxStorageBuffers);
  });

  it.each([
    ['xor', xorSource, xorBatch, 20],
    ['iris-sized', irisSized, irisBatch(), 5],
  ] as const)(
    'on wasm, %s trains as the interpreter does and bit for bit as separate kernels',
    async (_name, source, batch, steps) => {
      const whole = compiled(source, true);
      const apart = compiled(source, false);
      const a = await train(whole.spec, 'wasm', batch, steps);
      const b = await train(apart.spec, 'wasm', batch, steps);
      expectInterpreter(whole, a, batch, steps);
      for (const [name, w] of a.after) expect(w).toEqual(b.after.get(name));
      expect(a.metrics).toEqual(b.metrics);
    },
  );

  it('the bench CNN: runs of small kernels among the large ones, 28 -> at most 25 dispatches', () => {
    const whole = compiled(CNN.source, true);
    const { dispatches } = whole.spec.entries.train;
    expect(dispatches.length).toBeLessThanOrEqual(25);
    const runs = whole.lowered.train.fused.kernels.filter((k) => k.steps);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    // Each step of a run is a small kernel; the convolutions stay kernels of their own.
    const g = whole.lowered.train.fused.graph;
    for (const run of runs)
      for (const m of run.members) expect(g.nodes[m]!.op.startsWith('conv2d')).toBe(false);
  });

  it('on wasm, the bench CNN trains bit for bit as separate kernels', async () => {
    const whole = compiled(CNN.source, true);
    const apart = compiled(CNN.source, false);
    const { x, y } = syntheticBatch(CNN, 3);
    const batch: Batch = { x, target: y, count: CNN.batch };
    const a = await train(whole.spec, 'wasm', batch, 2);
    const b = await train(apart.spec, 'wasm', batch, 2);
    let moved = 0;
    for (const [name, w] of a.after) {
      expect(w).toEqual(b.after.get(name));
      w.forEach((v, i) => (moved += v !== a.before.get(name)![i] ? 1 : 0));
    }
    expect(moved).toBeGreaterThan(0);
    expect(a.metrics).toEqual(b.metrics);
  });

  it('on WebGPU, an iris-sized step in 4 whole-step kernels trains as the interpreter does', async () => {
    const c = compiled(irisSized, true);
    const batch = irisBatch();
    expectInterpreter(c, await train(c.spec, 'webgpu', batch, 5), batch, 5);
  }, 600_000);

  it('batched products, a transposed read, reductions over inner and outer axes: one kernel, as the interpreter on WebGPU and wasm', async () => {
    // Attention's shape: per-batch q·kᵀ, a softmax over keys, its product with v, then a
    // transposed output and a sum over the batch axis; 3 batches of awkward sizes.
    const [bs, n, m, d] = [3, 5, 6, 4];
    const b = new GraphBuilder();
    const q = b.input('q', 'data', [bs, n, d]);
    const k = b.input('k', 'data', [bs, m, d]);
    const v = b.input('v', 'data', [bs, m, d]);
    const scores = b.mul(b.matmul(q, k, false, true), b.broadcast(b.constant(0.5), [bs, n, m]));
    const e = b.unary('exp', b.sub(scores, b.broadcast(b.reduceMax(scores, [2], true), [bs, n, m])));
    const p = b.div(e, b.broadcast(b.sum(e, [2], true), [bs, n, m]));
    const out = b.matmul(p, v);
    b.output('t', b.transpose(out, [0, 2, 1]), 'prediction');
    b.output('s', b.sum(out, [0]), 'prediction');
    const g = b.build();
    const limits = wholeStepLimits(DEFAULT_ADAPTER);
    const lowered = lowerEntry('run', g, 1, new BufferPool(), new KernelTable(), { wholeStep: limits });
    expect(lowered.entry.dispatches).toHaveLength(1);
    expect(lowered.fused.kernels[0]!.steps!.length).toBeGreaterThan(3);
    const rand = seededRandom(21);
    const data = (size: number) => Float32Array.from(randomArray(rand, size, -2, 2));
    const inputs = new Map([
      ['q', data(bs * n * d)],
      ['k', data(bs * m * d)],
      ['v', data(bs * m * d)],
    ]);
    const tensors = new Map(
      [...inputs].map(([name, x]) => [name, { shape: [bs, name === 'q' ? n : m, d], data: x }]),
    );
    const want = interpret(g, tensors, { dtype: 'f32' });
    const gpu = await runGraphOnGpu(g, inputs, { wholeStep: limits });
    const cpu = runGraphOnWasm(g, inputs, { wholeStep: limits });
    for (const o of g.outputs) {
      const expected = want[o.node]!.data;
      for (const got of [gpu.get(o.name)!, cpu.get(o.name)!])
        expected.forEach((x, i) =>
          expect(Math.abs(got[i]! - x)).toBeLessThan(1e-5 * Math.max(1, Math.abs(x))),
        );
    }
  }, 600_000);

  it('on WebGPU, xor trains as the interpreter does', async () => {
    const c = compiled(xorSource, true);
    const run = await train(c.spec, 'webgpu', xorBatch, 20);
    expectInterpreter(c, run, xorBatch, 20);
    const apart = await train(compiled(xorSource, false).spec, 'webgpu', xorBatch, 20);
    for (const [name, w] of run.after) {
      const other = apart.after.get(name)!;
      w.forEach((v, i) => expect(Math.abs(v - other[i]!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(v))));
    }
    expect(run.metrics['loss']).toBeCloseTo(apart.metrics['loss']!, 6);
  }, 600_000);
});
