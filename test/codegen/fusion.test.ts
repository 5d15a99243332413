/**
 * Fused kernels against the reference interpreter on the adapter, on shapes that are not
 * multiples of the tiles, and the fusion decisions themselves (how many kernels, which roots).
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { type Graph, sizeOf } from '../../src/ir/graph.js';
import { interpret } from '../../src/ir/interpret.js';
import { fuse } from '../../src/ir/passes/fuse.js';
import { compile } from '../../src/compile.js';
import { ADAPTER_PROFILES, DEFAULT_ADAPTER } from '../../src/codegen/adapter.js';
import type { Tensor } from '../../src/ir/tensor.js';
import { runGraphOnGpu } from '../gpu.js';
import { randomArray, seededRandom } from '../ir/random.js';

interface Built {
  graph: Graph;
  shapes: Map<string, number[]>;
}

function build(
  inputs: Record<string, number[]>,
  f: (b: GraphBuilder, x: Record<string, number>) => Record<string, number>,
): Built {
  const b = new GraphBuilder();
  const xs: Record<string, number> = {};
  for (const [name, shape] of Object.entries(inputs)) xs[name] = b.input(name, 'data', shape);
  for (const [name, node] of Object.entries(f(b, xs))) b.output(name, node, 'prediction');
  return { graph: b.build(), shapes: new Map(Object.entries(inputs)) };
}

async function expectMatchesReference({ graph, shapes }: Built, seed = 3): Promise<void> {
  const rand = seededRandom(seed);
  const values = new Map<string, Float32Array>();
  const tensors = new Map<string, Tensor>();
  for (const [name, shape] of shapes) {
    const data = Float32Array.from(randomArray(rand, sizeOf(shape), -2, 2));
    values.set(name, data);
    tensors.set(name, { shape, data });
  }
  const want = interpret(graph, tensors, { dtype: 'f32' });
  const got = await runGraphOnGpu(graph, values);
  for (const o of graph.outputs) {
    const w = want[o.node]!.data;
    const g = got.get(o.name)!;
    expect(g.length).toBe(w.length);
    for (let i = 0; i < w.length; i++)
      expect(Math.abs(g[i]! - w[i]!)).toBeLessThan(3e-5 * Math.max(1, Math.abs(w[i]!)));
  }
}

const denseRelu = build({ x: [37, 29], w: [29, 19], bias: [19] }, (b, { x, w, bias }) => ({
  y: b.unary('relu', b.add(b.matmul(x!, w!), bias!)),
}));

/** Flatten then Dense, and a folded contraction: matmuls reading reshapes of stored tensors. */
const flattenDense = build({ x: [7, 3, 5], w: [15, 6], g: [7, 3, 6] }, (b, { x, w, g }) => {
  const h = b.unary('relu', x!);
  return {
    h,
    y: b.matmul(b.reshape(h, [7, 15]), w!),
    dw: b.matmul(b.reshape(x!, [21, 5]), b.reshape(g!, [21, 6]), true, false),
  };
});

const softmaxRows = build({ z: [13, 11] }, (b, { z }) => {
  const e = b.unary('exp', b.sub(z!, b.broadcast(b.reduceMax(z!, [1], true), [13, 11])));
  return { p: b.div(e, b.broadcast(b.sum(e, [1], true), [13, 11])) };
});

const adamLike = build({ p: [67], g: [67], m: [67], v: [67] }, (b, { p, g, m, v }) => {
  const c = (x: number) => b.constant(x);
  const m2 = b.add(b.mul(c(0.9), m!), b.mul(c(0.1), g!));
  const v2 = b.add(b.mul(c(0.999), b.unary('abs', v!)), b.mul(c(0.001), b.mul(g!, g!)));
  return { m2, v2, p2: b.sub(p!, b.mul(c(0.01), b.div(m2, b.add(b.unary('sqrt', v2), c(1e-7))))) };
});

const reducePrologueEpilogue = build({ x: [9, 70], y: [9, 70] }, (b, { x, y }) => ({
  loss: b.div(b.sum(b.mul(b.sub(x!, y!), b.sub(x!, y!)), [1]), b.constant(70)),
}));

/** Categorical accuracy's pattern: a broadcast of a row maximum read inside a reduction's loop. */
const rowMaxInPrologue = build({ p: [6, 5], y: [6, 5] }, (b, { p, y }) => {
  const isMax = b.binary('eq', p!, b.broadcast(b.reduceMax(p!, [1], true), [6, 5]));
  return {
    hits: b.sum(b.mul(isMax, y!), [1]),
    scaled: b.sum(b.mul(p!, b.broadcast(b.reduceMax(y!, [1], true), [6, 5])), [1]),
  };
});

const transposedEpilogue = build({ a: [23, 17], w: [31, 17], r: [23, 31] }, (b, { a, w, r }) => ({
  y: b.unary('tanh', b.add(b.matmul(a!, w!, false, true), r!)),
}));

/** A layer whose pre-activation is also needed later (by the gradient of relu). */
const siblings = build({ x: [10, 7], w: [7, 9], bias: [9] }, (b, { x, w, bias }) => {
  const z = b.add(b.matmul(x!, w!), bias!);
  return { h: b.unary('relu', z), mask: b.binary('gt', z, b.constant(0)), z2: b.sum(z, [0]) };
});

describe('fusion decisions', () => {
  it('stores an activation beside the pre-activation it is computed from', () => {
    const { graph, kernels } = fuse(siblings.graph);
    const dense = kernels.find((k) => k.anchor !== undefined && graph.nodes[k.anchor]!.op === 'matmul')!;
    expect(dense.roots.map((r) => graph.nodes[r]!.op).sort()).toEqual(['add', 'gt', 'relu']);
  });
  it('puts a matmul with its bias and activation in one kernel', () => {
    const { kernels } = fuse(denseRelu.graph);
    expect(kernels).toHaveLength(1);
    expect(denseRelu.graph.nodes[kernels[0]!.anchor!]!.op).toBe('matmul');
  });
  it('computes the three outputs of an Adam-like update in one kernel with three roots', () => {
    const { kernels } = fuse(adamLike.graph);
    expect(kernels).toHaveLength(1);
    expect(kernels[0]!.roots).toHaveLength(3);
  });
  it('folds a squared difference into the reduction and the division after it', () => {
    const { kernels } = fuse(reducePrologueEpilogue.graph);
    expect(kernels).toHaveLength(1);
    expect(kernels[0]!.prologue.size).toBeGreaterThan(0);
  });
  it('keeps a value read by two kernels in a buffer (softmax: max, exp, sum, divide)', () => {
    const { graph, kernels } = fuse(softmaxRows.graph);
    expect(kernels.map((k) => graph.nodes[k.roots[0]!]!.op).sort()).toEqual([
      'div',
      'exp',
      'reduce_max',
      'sum',
    ]);
  });
  it('draws random numbers inside the kernel that reads them, storing no tensor of draws', () => {
    const b = new GraphBuilder();
    const counter = b.input('random/step', 'state', []);
    const seed = b.input('random/seed', 'state', []);
    const x = b.input('x', 'data', [4, 9]);
    const u = b.emit('random_uniform', [counter, seed], { shape: [4, 9], salt: 5 });
    b.output('y', b.mul(x, b.binary('gt', u, b.constant(0.5))), 'prediction');
    const { kernels } = fuse(b.build());
    expect(kernels).toHaveLength(1);
  });

  it('lets a matmul read a reshape of a stored tensor in place: no copy kernel', () => {
    const { kernels } = fuse(flattenDense.graph);
    // relu (stored), and the two matmuls with their reshapes as views.
    expect(kernels).toHaveLength(3);
    expect(kernels.every((k) => k.roots.every((r) => flattenDense.graph.nodes[r]!.op !== 'reshape'))).toBe(
      true,
    );
  });

  it('with fusion off, gives each node its own kernel', () => {
    const computing = denseRelu.graph.nodes.filter((n) => n.op !== 'input' && n.op !== 'const').length;
    expect(fuse(denseRelu.graph, false).kernels).toHaveLength(computing);
  });
});

describe('fusion of a whole training step', () => {
  const mlpSource = `
sequential Mlp(x: [20]) {
  Dense(16, activation: relu)
  Dense(16, activation: relu)
  Dense(5, activation: softmax)
}
train Mlp { data: xor, loss: categorical_crossentropy, optimizer: Adam(lr: 0.001), metrics: [accuracy], batch: 8 }
`;
  // The kernels fusion makes, not the whole-step kernel this small step would become.
  const { compiled } = compile(mlpSource, { wholeStep: false });
  const { fused } = compiled!.lowered.train;
  it('never binds more storage buffers than WebGPU guarantees (8), but for the folds the adapter allows', () => {
    const { kernels } = compiled!.spec;
    for (const d of compiled!.spec.entries.train.dispatches) {
      // The row kernel that took the optimizer's scalars binds up to the adapter's 16 (lavapipe).
      const limit = kernels[d.kernel]!.name.startsWith('rows_') ? DEFAULT_ADAPTER.maxStorageBuffers : 8;
      expect(d.buffers.length).toBeLessThanOrEqual(limit);
    }
    const { compiled: forH100 } = compile(mlpSource, { wholeStep: false, adapter: ADAPTER_PROFILES.h100 });
    for (const d of forH100!.spec.entries.train.dispatches) expect(d.buffers.length).toBeLessThanOrEqual(8);
  });
  it("updates each parameter's value, m and v in one kernel", () => {
    const updates = new Map(
      fused.graph.outputs.filter((o) => o.role === 'update').map((o) => [o.node, o.name]),
    );
    const adamKernels = fused.kernels.filter((k) => k.roots.some((r) => updates.get(r)?.endsWith('/m')));
    expect(adamKernels).toHaveLength(6);
    for (const k of adamKernels) {
      const slots = k.roots.map((r) => updates.get(r)!).filter((name) => /\/(m|v)$/.test(name));
      expect(slots).toHaveLength(2);
    }
    expect(adamKernels.every((k) => k.roots.length === 3)).toBe(true);
  });
});

describe('fused kernels match the interpreter on the adapter', () => {
  it('matmul + bias + relu (37×29·29×19)', () => expectMatchesReference(denseRelu));
  it('a matmul kernel storing its pre-activation and two siblings', () => expectMatchesReference(siblings));
  it('matmul with a transposed operand and a residual epilogue', () =>
    expectMatchesReference(transposedEpilogue));
  it('softmax over rows of 13×11', () => expectMatchesReference(softmaxRows));
  it('matmuls reading reshapes as views (Flatten → Dense, a folded contraction)', () =>
    expectMatchesReference(flattenDense));
  it('an Adam-like update with three stored results', () => expectMatchesReference(adamLike));
  it('a reduction with a prologue and an epilogue', () => expectMatchesReference(reducePrologueEpilogue));
  it('a broadcast row maximum read inside a reduction (categorical accuracy)', () =>
    expectMatchesReference(rowMaxInPrologue));
});

describe('fusion of attention', () => {
  const { compiled, diagnostics } = compile(
    `
sequential M(x: [7, 6]) {
  MultiHeadAttention(2, 3, causal: true)
}
train M { data: xor, loss: mse, batch: 5 }
`,
    { wholeStep: false },
  );
  it('computes the softmax over the key axis in three kernels, with the scale and mask in the scores', () => {
    expect(diagnostics).toEqual([]);
    const { fused } = compiled!.lowered.predict;
    // Kernels over [batch, heads, query steps, …], in the order of their first root (the head
    // transposes compute none of the ops listed, and are left out).
    const kernels = fused.kernels
      .filter((k) => [...k.members].some((m) => fused.graph.nodes[m]!.shape.slice(0, 3).join() === '5,2,7'))
      .sort((a, b) => Math.min(...a.roots) - Math.min(...b.roots));
    const describe = (k: (typeof kernels)[number]) =>
      [...k.members]
        .map((m) => fused.graph.nodes[m]!.op)
        .filter((op) => ['matmul', 'reduce_max', 'sum', 'exp', 'iota'].includes(op))
        .sort()
        .join(' ');
    // Q·Kᵀ with its scale and causal mask; max; Σ exp (lse); the weights; weights·V.
    expect(kernels.map(describe).filter((d) => d !== '')).toEqual([
      'iota iota matmul',
      'reduce_max',
      'exp sum',
      'exp',
      'matmul',
    ]);
    const stored = kernels.flatMap((k) => k.roots.map((r) => fused.graph.nodes[r]!.op));
    expect(stored.filter((op) => op === 'exp')).toHaveLength(1); // the weights, never Σ's exponentials
  });
  it('matches the interpreter on the adapter', async () => {
    // Parameters as data inputs: the kernel harness uploads only those.
    const predict = compiled!.optimized.predict;
    const g = {
      ...predict,
      nodes: predict.nodes.map((n) =>
        n.op === 'input' ? { ...n, params: { ...(n.params as object), role: 'data' } } : n,
      ) as typeof predict.nodes,
    };
    const rand = seededRandom(12);
    const values = new Map<string, Float32Array>();
    const tensors = new Map<string, Tensor>();
    for (const n of g.nodes) {
      if (n.op !== 'input') continue;
      const shape = n.shape as number[];
      const data = Float32Array.from(randomArray(rand, sizeOf(shape), -2, 2));
      values.set((n.params as { name: string }).name, data);
      tensors.set((n.params as { name: string }).name, { shape, data });
    }
    const want = interpret(g, tensors, { dtype: 'f32' })[g.outputs[0]!.node]!.data;
    const got = (await runGraphOnGpu(g, values)).get(g.outputs[0]!.name)!;
    expect(got.length).toBe(5 * 7 * 6);
    for (let i = 0; i < want.length; i++)
      expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(3e-5 * Math.max(1, Math.abs(want[i]!)));
  });
});
