/**
 * Row-block kernels (src/codegen/rows.ts): softmax + cross-entropy, its gradient and the loss,
 * accuracy and count sums as one kernel, against the reference interpreter running the same
 * step graph, on row counts that are not multiples of the workgroup (64) and class counts 1, 3,
 * 10 and 37; dense, sparse and logits forms. The wasm backend runs every case; WebGPU (lavapipe,
 * slow) one.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { MAX_ROW_BLOCK_ELEMENTS } from '../../src/codegen/rows.js';
import { BufferPool } from '../../src/codegen/plan.js';
import { KernelTable, lowerEntry } from '../../src/codegen/spec.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { interpret } from '../../src/ir/interpret.js';
import { runGraphOnWasm } from '../wasm.js';
import { NnxModel } from '../../src/runtime/index.js';
import { randomArray, seededRandom } from '../ir/random.js';
import { interpretTrainSteps } from './step-oracle.js';

interface Case {
  readonly rows: number;
  readonly classes: number;
  readonly loss: string;
  /** Real samples of the batch (the rest is padding the mask removes). */
  readonly count: number;
}

const source = ({ rows, classes, loss }: Case) => {
  const logits = loss.endsWith('_from_logits');
  return `
model Net(x: [5]) -> (y: [${classes}]) {
  y = Dense(${classes}${logits ? '' : ', activation: softmax'})(Dense(6, activation: tanh)(x))
}
train Net { data: mnist, loss: ${loss}, optimizer: Adam(lr: 0.05), metrics: [accuracy], batch: ${rows} }
`;
};

/** Compiled for wasm; `wholeStep` false keeps a small step's kernels apart (the row kernel visible). */
function compiled(c: Case, wholeStep = false) {
  const { compiled, diagnostics } = compile(source(c), { wasm: true, wholeStep });
  expect(diagnostics).toEqual([]);
  return compiled!;
}

function batchOf(c: Case, seed: number): { x: Float32Array; target: Float32Array } {
  const rand = seededRandom(seed);
  const x = Float32Array.from(randomArray(rand, c.count * 5, -2, 2));
  const sparse = c.loss.startsWith('sparse');
  const labels = Array.from({ length: c.count }, () => Math.floor(rand() * c.classes));
  const target = sparse
    ? Float32Array.from(labels)
    : Float32Array.from({ length: c.count * c.classes }, (_, i) =>
        labels[Math.floor(i / c.classes)] === i % c.classes ? 1 : 0,
      );
  return { x, target };
}

/**
 * Trains 3 steps and evaluates once on `backend`; compares both with the interpreter. With
 * `wholeStep`, the plan a small case gets by default: the row kernel as a step of a whole-step kernel.
 */
async function checkCase(c: Case, backend: 'wasm' | 'webgpu', wholeStep = false) {
  const { spec, optimized, lowered } = compiled(c, wholeStep);
  // The case exercises the row kernel: the softmax, loss and gradient are one kernel.
  const rowKernels = lowered.train.fused.kernels.flatMap((k) => k.steps ?? [k]).filter((k) => k.rows);
  expect(rowKernels.length).toBe(1);
  const model = await NnxModel.create(spec, { seed: 4, backend });
  const weights = await model.getWeights();
  const batch = batchOf(c, 17);
  const steps = 3;
  for (let s = 0; s < steps; s++) model.trainStep(batch);
  const after = await model.getWeights();
  const want = interpretTrainSteps(optimized.train, weights, batch, c.count, steps, 4);
  let moved = 0;
  for (const [name, w] of after) {
    const expected = want.get(name)!.data;
    w.forEach((v, i) => {
      expect(Math.abs(v - expected[i]!)).toBeLessThan(2e-5 * Math.max(1, Math.abs(expected[i]!)));
      if (v !== weights.get(name)![i]) moved++;
    });
  }
  // One class: softmax is 1 whatever the logits, so nothing moves; otherwise the step trains.
  if (c.classes > 1) expect(moved).toBeGreaterThan(0);
  // Evaluate: the loss and accuracy sums and the sample count of the row kernel.
  const values = await model.evaluate({
    count: c.count,
    inputs: { x: batch.x },
    targets: { target: batch.target },
  });
  const sums = interpretTrainSteps(optimized.evaluate, after, batch, c.count, 1, 4);
  const total = (name: string) => sums.get(`metric/${name}`)!.data[0]!;
  expect(total('count')).toBe(c.count);
  expect(Math.abs(values['loss']! - total('loss') / c.count)).toBeLessThan(
    1e-5 * Math.max(1, values['loss']!),
  );
  expect(values['accuracy']).toBeCloseTo(total('accuracy') / c.count, 6);
  model.destroy();
}

const CASES: readonly Case[] = [
  { rows: 67, classes: 3, loss: 'categorical_crossentropy', count: 66 },
  { rows: 13, classes: 1, loss: 'categorical_crossentropy', count: 13 },
  { rows: 130, classes: 37, loss: 'sparse_categorical_crossentropy', count: 129 },
  { rows: 10, classes: 10, loss: 'categorical_crossentropy_from_logits', count: 7 },
  { rows: 65, classes: 10, loss: 'sparse_categorical_crossentropy_from_logits', count: 65 },
  { rows: 1, classes: 10, loss: 'categorical_crossentropy', count: 1 },
];

describe('softmax + cross-entropy as one row kernel', () => {
  it('the MNIST MLP step computes softmax, loss, gradient and every sum in one kernel', () => {
    const c = compiled({ rows: 100, classes: 10, loss: 'categorical_crossentropy', count: 100 });
    const { train, evaluate } = c.lowered;
    const rows = train.fused.kernels.filter((k) => k.rows);
    expect(rows.length).toBe(1);
    const ops = new Set([...rows[0]!.members].map((m) => train.fused.graph.nodes[m]!.op));
    for (const op of ['reduce_max', 'exp', 'log', 'sum', 'eq'] as const) expect(ops.has(op)).toBe(true);
    // No kernel of the evaluate entry is a lone sum: the count folds into the row kernel.
    const g = evaluate.fused.graph;
    const loneSums = evaluate.fused.kernels.filter(
      (k) => !k.rows && k.members.size <= 2 && [...k.members].some((m) => g.nodes[m]!.op === 'sum'),
    );
    expect(loneSums).toEqual([]);
  });

  it("folds Adam's step counter and bias corrections into the row kernel's leader (MNIST MLP: 12 dispatches)", () => {
    const c = compiled({ rows: 100, classes: 10, loss: 'categorical_crossentropy', count: 100 });
    const { train } = c.lowered;
    const g = train.fused.graph;
    const updated = new Map(g.outputs.filter((o) => o.role === 'update').map((o) => [o.node, o.name]));
    const row = train.fused.kernels.find((k) => k.rows)!;
    const stored = row.roots.flatMap((r) => (updated.has(r) ? [updated.get(r)!] : []));
    expect(stored).toEqual(
      expect.arrayContaining(['optimizer/step', 'optimizer/correction_1', 'optimizer/correction_2']),
    );
    // No kernel of single values is left; more bindings than 8, within the adapter's 16.
    expect(
      train.fused.kernels.filter(
        (k) => !k.rows && k.roots.every((r) => updated.get(r)?.startsWith('optimizer/')),
      ),
    ).toEqual([]);
    const i = train.plan.order.findIndex((k) => train.fused.kernels[k] === row);
    expect(train.entry.dispatches[i]!.buffers.length).toBeGreaterThan(8);
    expect(train.entry.dispatches[i]!.buffers.length).toBeLessThanOrEqual(16);
    const mnist = readFileSync(new URL('../../examples/mnist_mlp.nnx', import.meta.url), 'utf8');
    // dense_1's forward matmul fills the adapter with narrower workgroups, not a split in K.
    expect(compile(mnist).compiled!.spec.entries.train.dispatches).toHaveLength(12);
  });

  it('softmax(x + bias) with a stored [cols] vector read per element, on wasm', () => {
    const [rows, cols] = [37, 11];
    const b = new GraphBuilder();
    const x = b.input('x', 'data', [rows, cols]);
    const bias = b.input('bias', 'data', [cols]);
    const z = b.add(x, b.broadcast(bias, [rows, cols]));
    const e = b.unary('exp', b.sub(z, b.broadcast(b.reduceMax(z, [1], true), [rows, cols])));
    b.output('y', b.div(e, b.broadcast(b.sum(e, [1], true), [rows, cols])), 'prediction');
    const g = b.build();
    const lowered = lowerEntry('run', g, rows, new BufferPool(), new KernelTable());
    // One kernel in all: the bias add joins the row kernel.
    expect(lowered.fused.kernels.map((k) => !!k.rows)).toEqual([true]);
    const rand = seededRandom(5);
    const inputs = new Map([
      ['x', Float32Array.from(randomArray(rand, rows * cols, -4, 4))],
      ['bias', Float32Array.from(randomArray(rand, cols, -4, 4))],
    ]);
    const tensors = new Map([
      ['x', { shape: [rows, cols], data: inputs.get('x')! }],
      ['bias', { shape: [cols], data: inputs.get('bias')! }],
    ]);
    const want = interpret(g, tensors, { dtype: 'f32' })[g.outputs[0]!.node]!.data;
    const got = runGraphOnWasm(g, inputs).get('y')!;
    want.forEach((v, i) => expect(Math.abs(got[i]! - v)).toBeLessThan(1e-6));
  });

  it('a block over the size limit stays in kernels of many workgroups', () => {
    // 300 × 300 is over MAX_ROW_BLOCK_ELEMENTS: one workgroup would be too few for it.
    const c = compiled({ rows: 300, classes: 300, loss: 'categorical_crossentropy', count: 300 });
    expect(300 * 300).toBeGreaterThan(MAX_ROW_BLOCK_ELEMENTS);
    // The softmax's sums over 300 classes are split into partials (src/ir/passes/split.ts); a row
    // kernel may then finish the [300, slices] partials, never the whole 300 × 300 block.
    expect(c.lowered.train.fused.kernels.filter((k) => k.rows && k.rows.cols >= 300)).toEqual([]);
    const small = compiled({ rows: 30, classes: 300, loss: 'categorical_crossentropy', count: 30 });
    expect(small.lowered.train.fused.kernels.filter((k) => k.rows).length).toBe(1);
  });

  it.each(CASES.map((c) => [`${c.rows} rows, ${c.classes} classes, ${c.loss}`, c] as const))(
    'on wasm: %s',
    async (_name, c) => checkCase(c, 'wasm'),
  );

  it.each(CASES.map((c) => [`${c.rows} rows, ${c.classes} classes, ${c.loss}`, c] as const))(
    'on wasm, as the default (whole-step) plan: %s',
    async (_name, c) => checkCase(c, 'wasm', true),
  );

  it('on WebGPU: 130 rows, 37 classes, sparse categorical cross-entropy', async () =>
    checkCase(CASES[2]!, 'webgpu'));
});
