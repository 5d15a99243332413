/**
 * The graph verifier after every stage: each example's lowered models, its step graphs after
 * autodiff and the optimizers, those graphs after each optimisation pass in turn, and their
 * fusion into kernels (on and off). And the verifiers themselves, on graphs and fusions broken
 * on purpose, so a pass that breaks an invariant is caught.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile, compileGan } from '../../src/compile.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { BATCH, type Graph, type Node } from '../../src/ir/graph.js';
import { optimizationPasses } from '../../src/ir/passes/index.js';
import { fuse } from '../../src/ir/passes/fuse.js';
import { assertFusedWellFormed, assertWellFormed, verifyFusion, verifyGraph } from '../../src/ir/verify.js';

const files = [
  ...readdirSync('examples')
    .filter((f) => f.endsWith('.nnx'))
    .map((f) => `examples/${f}`),
  'test/export/layers.nnx',
];

/** The graph after each pass, checked as it comes out. */
function verifyThroughPasses(name: string, g: Graph, batch: number): void {
  assertWellFormed(g, `${name}: building`);
  let graph = g;
  for (const [pass, run] of optimizationPasses({ [BATCH]: batch })) {
    graph = run(graph);
    assertWellFormed(graph, `${name}: ${pass}`);
  }
  // Then fusion, as codegen runs it, and with fusion off (one kernel per node).
  assertFusedWellFormed(fuse(graph), `${name}: fuse`);
  assertFusedWellFormed(fuse(graph, false), `${name}: fuse (off)`);
}

describe('every graph an example makes is well formed after every pass and fusion', () => {
  for (const path of files) {
    it(path, () => {
      const text = readFileSync(path, 'utf8');
      const isGan = /^gan\s/m.test(text);
      const result = isGan ? compileGan(text, { path }) : compile(text, { path });
      expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const { checked } = result;
      expect(checked.models.size).toBeGreaterThan(0);
      for (const [model, ir] of checked.models) assertWellFormed(ir.graph, `lowering ${model}`);
      if ('train' in result && result.train && result.compiled) {
        const { steps } = result.compiled;
        for (const entry of ['train', 'evaluate', 'predict'] as const)
          verifyThroughPasses(entry, steps[entry], result.train.batch);
      } else if ('gan' in result && result.gan && result.compiled) {
        for (const [entry, g] of Object.entries(result.compiled.steps))
          verifyThroughPasses(entry, g, result.gan.batch);
      } else throw new Error(`${path} neither trains a model nor a GAN`);
    });
  }
});

describe('the verifier finds each kind of broken invariant', () => {
  function smallGraph(): Graph {
    const b = new GraphBuilder();
    const x = b.input('x', 'data', [BATCH, 3]);
    const w = b.input('w', 'param', [3, 2]);
    const y = b.matmul(x, w);
    b.output('y', b.unary('relu', y), 'prediction');
    return b.build();
  }
  const replace = (g: Graph, id: number, node: Partial<Node>): Graph => ({
    ...g,
    nodes: g.nodes.map((n) => (n.id === id ? ({ ...n, ...node } as Node) : n)),
  });
  const messages = (g: Graph) => verifyGraph(g).map((p) => p.message);

  it('accepts a graph the builder made', () => expect(verifyGraph(smallGraph())).toEqual([]));
  it('a shape that its rule does not give', () =>
    expect(messages(replace(smallGraph(), 2, { shape: [BATCH, 3] }))).toContain(
      '%2 = matmul: has shape [B,3], its shape rule gives [B,2]',
    ));
  it('a source that comes later (not topological)', () =>
    expect(messages(replace(smallGraph(), 2, { srcs: [0, 3] }))).toEqual([
      '%2 = matmul: source %3 does not come before it (topological order)',
    ]));
  it('the wrong number of sources', () =>
    expect(messages(replace(smallGraph(), 3, { srcs: [2, 2] }))).toContain(
      '%3 = relu: takes 1 sources, has 2',
    ));
  it("a missing param and one that is not its op's", () =>
    expect(messages(replace(smallGraph(), 2, { params: { transA: false, axis: 1 } as never }))).toEqual([
      '%2 = matmul: param transB is missing',
      "%2 = matmul: param axis is not one of its op's",
    ]));
  it('an update output whose target is not an input', () => {
    const g = smallGraph();
    const broken = {
      ...g,
      outputs: [...g.outputs, { name: 'w/next', node: 3, role: 'update' as const, target: 2 }],
    };
    expect(messages(broken)).toEqual(['output w/next: its target %2 is not an input']);
  });
  it('assertWellFormed names the pass', () =>
    expect(() => assertWellFormed(replace(smallGraph(), 0, { id: 7 }), 'a pass')).toThrow(
      /graph after a pass is malformed:\n {2}%0 = input: its id is 7/,
    ));
});

describe('the fusion verifier finds each kind of broken invariant', () => {
  // relu(matmul(x, w) + b) and a second output read from the sum: fuse stores both.
  function fused() {
    const b = new GraphBuilder();
    const x = b.input('x', 'data', [4, 3]);
    const w = b.input('w', 'param', [3, 2]);
    const bias = b.input('b', 'param', [2]);
    const z = b.add(b.matmul(x, w), bias);
    b.output('y', b.unary('relu', z), 'prediction');
    b.output('z', z, 'prediction');
    return fuse(b.build());
  }
  const messages = (f: ReturnType<typeof fused>) => verifyFusion(f).map((p) => p.message);

  it('accepts what fuse made', () => expect(messages(fused())).toEqual([]));
  it('a node in no kernel, and a read of a value nobody stores', () => {
    const f = fused();
    // Take the matmul out of its kernel: it is computed nowhere, and its reader reads it unstored.
    const kernels = f.kernels.map((k) => {
      const members = new Set([...k.members].filter((m) => m !== 3));
      return { ...k, members, anchor: undefined, prologue: new Set<number>() };
    });
    expect(messages({ ...f, kernels })).toEqual([
      '%3 = matmul is in no kernel',
      'kernel 0 (root %5): reads %3, which no kernel stores',
    ]);
  });
  it('a node in two kernels', () => {
    const f = fused();
    const kernels = [...f.kernels, { roots: [5], members: new Set([5]), prologue: new Set<number>() }];
    expect(messages({ ...f, kernels })).toContain('%5 is in kernels 0 and 1');
  });
  it('an output that is not stored', () => {
    const f = fused();
    const kernels = f.kernels.map((k) => ({ ...k, roots: k.roots.filter((r) => r !== 4) }));
    expect(messages({ ...f, kernels })).toContain('output z: %4 is not stored');
  });
  it('an anchor that is not a matmul or a reduction', () => {
    const f = fused();
    const kernels = f.kernels.map((k) => ({ ...k, anchor: 5 }));
    expect(messages({ ...f, kernels })).toEqual(['kernel 0 (root %5): its anchor %5 is a relu']);
  });
  it('two kernels that read each other (no order)', () => {
    const f = fused();
    // The matmul and the relu in one kernel, the add between them in another: each reads the other.
    const kernels = [
      { roots: [3, 5], anchor: 3, members: new Set([3, 5]), prologue: new Set<number>() },
      { roots: [4], members: new Set([4]), prologue: new Set<number>() },
    ];
    expect(messages({ ...f, kernels })).toEqual([
      'kernel 0 depends on itself through other kernels (a cycle)',
    ]);
  });
  it('more than 8 storage bindings', () => {
    const b = new GraphBuilder();
    let sum = b.input('x0', 'data', [4]);
    for (let i = 1; i < 9; i++) sum = b.add(sum, b.input(`x${i}`, 'data', [4]));
    b.output('y', sum, 'prediction');
    const g = b.build();
    const adds = g.nodes.filter((n) => n.op === 'add').map((n) => n.id);
    const one = { roots: [sum], members: new Set(adds), prologue: new Set<number>() };
    expect(messages({ graph: g, kernels: [one] })).toEqual([
      `kernel 0 (root %${sum}): binds 10 storage buffers, more than 8`,
    ]);
  });
  it('assertFusedWellFormed names the stage', () => {
    const f = fused();
    expect(() => assertFusedWellFormed({ ...f, kernels: [] }, 'a step')).toThrow(
      /fusion of a step is malformed:\n {2}%3 = matmul is in no kernel/,
    );
  });
});
