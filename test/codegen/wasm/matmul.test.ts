/**
 * The wasm matmul kernel against the reference interpreter (f32): every remainder of its 4×8
 * register tile and of its macro-blocks, the four transposes, batches, fused epilogues, one and
 * several threads, with the multiply-adds as mul+add and as relaxed-SIMD FMA. Buffers start as
 * NaN, so an element the kernel skips fails.
 */
import { setFlagsFromString } from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { BufferPool } from '../../../src/codegen/plan.js';
import { KernelTable, lowerEntry } from '../../../src/codegen/spec.js';
import { buildWasmModule } from '../../../src/codegen/wasm/module.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { type Graph, inputsOf, sizeOf } from '../../../src/ir/graph.js';
import { interpret } from '../../../src/ir/interpret.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { instantiateWasm, newMemory, wasmBytes } from '../../../src/runtime/wasm/instance.js';
import { relaxedSimdAvailable, useRelaxedMadd } from '../../../src/runtime/wasm/relaxed.js';
import type { WorkerPool } from '../../../src/runtime/wasm/pool.js';
import { startNodeWorkers } from '../../../src/runtime/wasm/threads.js';
import { randomArray, seededRandom } from '../../ir/random.js';

// Node 20 validates relaxed SIMD only behind this flag (Node 22 by default): set before any
// module is compiled, so the FMA form is tested on every Node this project supports.
setFlagsFromString('--experimental-wasm-relaxed-simd');

const pools: WorkerPool[] = [];
afterAll(() => pools.forEach((p) => p.stop()));

/** Lowers `g`, runs it on `threads` threads (shared memory and workers past one), returns the outputs. */
async function runOnWasm(
  g: Graph,
  inputs: ReadonlyMap<string, Float32Array>,
  threads: number,
  fma: boolean,
): Promise<Map<string, Float32Array>> {
  const pool = new BufferPool();
  const { entry, fused, plan } = lowerEntry('run', g, 1, pool, new KernelTable());
  const spec = buildWasmModule(pool.buffers, [{ name: 'run', fused, plan }]);
  const shared = threads > 1;
  const memory = newMemory(spec, shared);
  const module = new WebAssembly.Module(wasmBytes(spec, shared, fma));
  const wasm = instantiateWasm(spec, { memory, module, shared });
  new Float32Array(memory.buffer).fill(NaN, 16);
  for (const n of inputsOf(fused.graph)) {
    const buffer = plan.bufferOf.get(n.id);
    if (buffer !== undefined)
      new Float32Array(memory.buffer, spec.offsets[buffer]!).set(inputs.get(n.params.name)!);
  }
  if (shared) {
    const workers = await startNodeWorkers(module, memory, ['run'], threads);
    pools.push(workers);
    workers.run('run', (t, ts) => wasm.run('run', t, ts));
  } else wasm.run('run', 0, 1);
  return new Map(
    entry.outputs.map((o) => [
      o.name,
      new Float32Array(
        memory.buffer.slice(spec.offsets[o.buffer]!, spec.offsets[o.buffer]! + 4 * sizeOf(o.shape)),
      ),
    ]),
  );
}

interface Options {
  readonly threads?: number;
  readonly fma?: boolean;
  readonly seed?: number;
}

/** Builds outputs `f(x0, x1, …)` over data inputs of `shapes`, runs both, compares every output. */
async function check(
  shapes: readonly (readonly number[])[],
  f: (b: GraphBuilder, xs: number[]) => Record<string, number>,
  { threads = 1, fma = false, seed = 1 }: Options = {},
): Promise<void> {
  const rand = seededRandom(seed);
  const b = new GraphBuilder();
  const xs = shapes.map((s, i) => b.input(`x${i}`, 'data', [...s]));
  for (const [name, node] of Object.entries(f(b, xs))) b.output(name, node, 'prediction');
  const g = b.build();
  const values = new Map(
    shapes.map((s, i) => [`x${i}`, Float32Array.from(randomArray(rand, sizeOf([...s]), -3, 3))]),
  );
  const tensors = new Map<string, Tensor>(
    [...values].map(([k, v], i) => [k, { shape: [...shapes[i]!], data: v }]),
  );
  const want = interpret(g, tensors, { dtype: 'f32' });
  const got = await runOnWasm(g, values, threads, fma);
  for (const o of g.outputs) {
    const w = want[o.node]!.data;
    const x = got.get(o.name)!;
    expect(x.length).toBe(w.length);
    let worst = 0;
    for (let i = 0; i < w.length; i++) {
      const err = Math.abs(x[i]! - w[i]!) / Math.max(1, Math.abs(w[i]!));
      worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
    }
    expect(worst, o.name).toBeLessThan(1e-4);
  }
}

const TRANSPOSES = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

/**
 * [m, k, n]: every tile remainder (m mod 4, n mod 8), k = 1, k long enough for several A
 * macro-blocks, and whole panels (B read in place when untransposed and m ≤ 64).
 */
const SHAPES = [
  [1, 1, 1],
  [3, 5, 17],
  [5, 17, 33],
  [17, 33, 130],
  [33, 130, 5],
  [130, 3, 33],
  [130, 130, 17],
  [17, 1, 130],
  [130, 600, 9],
  // n a multiple of 8: untransposed B is read in place (no packing) up to 64 rows, packed past.
  [17, 33, 8],
  [61, 600, 24],
  [130, 600, 24],
] as const;

describe('wasm matmul matches the reference interpreter', () => {
  it('the engine validates relaxed SIMD here, so the FMA form below runs', () =>
    expect(relaxedSimdAvailable()).toBe(true));

  for (const fma of [false, true]) {
    const form = fma ? 'relaxed FMA' : 'mul+add';
    for (const [m, k, n] of SHAPES) {
      for (const [ta, tb] of TRANSPOSES) {
        it(`${m}×${k}·${k}×${n} transA=${ta} transB=${tb}, ${form}`, () =>
          check(
            [ta ? [k, m] : [m, k], tb ? [n, k] : [k, n]],
            (b, [x, y]) => ({ y: b.matmul(x!, y!, ta, tb) }),
            {
              fma,
              seed: m + k + n,
            },
          ));
      }
    }
    for (const [name, a, c, ta, tb] of [
      ['3×(17×5·5×33)', [3, 17, 5], [3, 5, 33], false, false],
      ['3×(17×5·5×16) (each batch of B read in place)', [3, 17, 5], [3, 5, 16], false, false],
      ['2×(5×17)ᵀ·(33×5)ᵀ', [2, 5, 17], [2, 33, 5], true, true],
      ['[4,13,6] · shared [6,17] (one product of 52 rows)', [4, 13, 6], [6, 17], false, false],
      ['[4,6,13]ᵀ · shared [6,17]', [4, 6, 13], [6, 17], true, false],
      ['shared [13,6] · [3,6,10]ᵀ', [13, 6], [3, 10, 6], false, true],
    ] as const) {
      it(`batched ${name}, ${form}`, () =>
        check([a, c], (b, [x, y]) => ({ y: b.matmul(x!, y!, ta, tb) }), { fma }));
    }
    it(`a dense layer (matmul, bias, relu in one kernel) on a partial tile, ${form}`, () =>
      check(
        [[130, 33], [33, 17], [17]],
        (b, [x, w, bias]) => ({
          y: b.unary('relu', b.add(b.matmul(x!, w!), b.broadcast(bias!, [130, 17]))),
        }),
        { fma },
      ));
    it(`A·Bᵀ stored and also through an epilogue (two roots), ${form}`, () =>
      check(
        [
          [17, 9],
          [24, 9],
        ],
        (b, [x, y]) => {
          const p = b.matmul(x!, y!, false, true);
          return { p, q: b.unary('tanh', b.mul(p, b.constant(0.25))) };
        },
        { fma },
      ));
  }

  // Full tiles run these epilogues four columns at a time, partial ones element by element.
  for (const fma of [false, true]) {
    const form = fma ? 'relaxed FMA' : 'mul+add';
    it(`an Adam-like epilogue (scalars, sqrt, div, three roots) on 33×(17·40), ${form}`, () =>
      check(
        [[17, 33], [17, 40], [33, 40], [33, 40], [], []],
        (b, [x, g, m, v, lr, c]) => {
          const grad = b.matmul(x!, g!, true, false);
          const s = (t: number) => b.broadcast(t, [33, 40]);
          const m1 = b.add(b.mul(b.constant(0.9), m!), b.mul(b.constant(0.1), grad));
          const v1 = b.add(
            b.mul(b.constant(0.999), b.mul(v!, v!)),
            b.mul(b.constant(0.001), b.mul(grad, grad)),
          );
          const step = b.div(
            b.mul(s(lr!), m1),
            b.add(b.unary('sqrt', b.mul(v1, s(b.unary('abs', c!)))), b.constant(1e-3)),
          );
          return { m1, v1, step };
        },
        { fma },
      ));
    it(`bias and relu over whole panels only (n = 32), ${form}`, () =>
      check(
        [[37, 19], [19, 32], [32]],
        (b, [x, w, bias]) => ({
          y: b.unary('relu', b.add(b.matmul(x!, w!), b.broadcast(bias!, [37, 32]))),
        }),
        { fma },
      ));
    it(`a relu gradient (gt, mul with a stored value) with n = 18, not a multiple of 4, ${form}`, () =>
      check(
        [
          [9, 11],
          [18, 11],
          [9, 18],
        ],
        (b, [x, w, pre]) => ({
          y: b.mul(b.matmul(x!, w!, false, true), b.binary('gt', pre!, b.constant(0))),
        }),
        { fma },
      ));
    it(`an epilogue through a reshape of a folded batch, plus a row broadcast, ${form}`, () =>
      check(
        [[4, 13, 6], [6, 16], [16]],
        (b, [x, w, bias]) => ({
          y: b.sub(b.matmul(x!, w!), b.broadcast(bias!, [4, 13, 16])),
        }),
        { fma },
      ));
    it(`an epilogue with a host transcendental stays element by element, ${form}`, () =>
      check(
        [
          [6, 5],
          [5, 24],
        ],
        (b, [x, w]) => ({ y: b.unary('exp', b.mul(b.matmul(x!, w!), b.constant(0.1))) }),
        {
          fma,
        },
      ));
    it(`a column broadcast ([m, 1] over n) with n = 16, ${form}`, () =>
      check(
        [
          [7, 3],
          [3, 16],
          [7, 1],
        ],
        (b, [x, w, col]) => ({
          y: b.binary('max', b.matmul(x!, w!), b.broadcast(col!, [7, 16])),
        }),
        { fma },
      ));
  }

  for (const threads of [2, 3]) {
    for (const fma of [false, true]) {
      const form = fma ? 'relaxed FMA' : 'mul+add';
      for (const [m, k, n, ta, tb] of [
        [128, 33, 10, false, false], // the MLP's batch against a narrow layer: few panels
        [5, 17, 130, false, true], // fewer rows than threads·tile: the split is over the columns
        [130, 600, 33, true, false], // several macro-blocks of A
        [64, 600, 32, true, false], // the most rows that read B in place
        [32, 70, 128, false, false], // the CNN's dense layer shape class: in place, split over columns
        [1, 3, 1, false, false], // less work than threads
      ] as const) {
        it(`${m}×${k}·${k}×${n} transA=${ta} transB=${tb} on ${threads} threads, ${form}`, () =>
          check(
            [ta ? [k, m] : [m, k], tb ? [n, k] : [k, n]],
            (b, [x, y]) => ({ y: b.matmul(x!, y!, ta, tb) }),
            {
              threads,
              fma,
              seed: threads + m,
            },
          ));
      }
      it(`a batched dense layer with an epilogue on ${threads} threads, ${form}`, () =>
        check(
          [
            [3, 21, 9],
            [3, 9, 13],
          ],
          (b, [x, w]) => ({ y: b.unary('sigmoid', b.matmul(x!, w!)) }),
          {
            threads,
            fma,
          },
        ));
    }
  }
});

describe('relaxed FMA rewrite', () => {
  it('rewrites every multiply-add of a module in place, and the module validates', () => {
    const b = new GraphBuilder();
    b.output('y', b.matmul(b.input('a', 'data', [9, 5]), b.input('b', 'data', [5, 11])), 'prediction');
    const pool = new BufferPool();
    const spec = buildWasmModule(pool.buffers, [
      { name: 'run', ...lowerEntry('run', b.build(), 1, pool, new KernelTable()) },
    ]);
    expect(spec.maddSites!.length).toBeGreaterThan(0);
    const plain = wasmBytes(spec, false, false);
    const fused = wasmBytes(spec, false, true);
    expect(fused.length).toBe(plain.length);
    expect(WebAssembly.validate(fused)).toBe(true);
    for (const at of spec.maddSites!) expect(plain[at]).toBe(0x20); // each site starts with local.get
    // A site that is not a multiply-add is an internal error, never a silently broken module.
    expect(() => useRelaxedMadd(plain.slice(), [spec.maddSites![0]! + 1])).toThrow(/madd site/);
  });
});
