/**
 * The wasm window kernels (conv2d and both gradients, max and average pooling and theirs)
 * against the reference interpreter (f32), on the WGSL kernel tests' geometries: strides,
 * dilation, uneven padding, odd edges, channels that are and are not multiples of 4 and 8,
 * batch 1 and 3, and a tie sent to the first maximum; each on one thread and on two (the convs
 * on three too, with their multiply-adds as mul+add and as relaxed FMA).
 */
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { sizeOf } from '../../../src/ir/graph.js';
import { interpret } from '../../../src/ir/interpret.js';
import { SHAPE_RULES } from '../../../src/ir/ops.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { randomArray, seededRandom } from '../../ir/random.js';
import { runGraphOnWasm, runGraphOnWasmThreads } from '../../wasm.js';
import { BufferPool } from '../../../src/codegen/plan.js';
import { KernelTable, lowerEntry } from '../../../src/codegen/spec.js';
import { convEpilogue } from '../../../src/codegen/wasm/conv-gemm.js';
import { poolGradEpilogue } from '../../../src/codegen/wasm/window.js';

interface Operand {
  readonly shape: number[];
  readonly values?: readonly number[];
}

async function check(
  operands: Operand[],
  f: (b: GraphBuilder, xs: number[]) => number,
  threads: number,
  fma?: boolean,
): Promise<Float32Array> {
  const rand = seededRandom(1);
  const b = new GraphBuilder();
  const xs = operands.map((o, i) => b.input(`x${i}`, 'data', o.shape));
  b.output('y', f(b, xs), 'prediction');
  const g = b.build();
  const values = new Map<string, Float32Array>(
    operands.map((o, i) => [
      `x${i}`,
      Float32Array.from(o.values ?? randomArray(rand, sizeOf(o.shape), -3, 3)),
    ]),
  );
  const tensors = new Map<string, Tensor>(
    [...values].map(([k, v], i) => [k, { shape: operands[i]!.shape, data: v }]),
  );
  const want = interpret(g, tensors, { dtype: 'f32' })[g.outputs[0]!.node]!.data as Float32Array;
  const got = (
    threads === 1 ? runGraphOnWasm(g, values, {}, fma) : await runGraphOnWasmThreads(g, values, threads, fma)
  ).get('y')!;
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!));
    worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
  }
  expect(worst).toBeLessThan(2e-5);
  return got;
}

// Node 20 validates relaxed SIMD only behind this flag (Node 22 by default): set before any
// module is compiled, so the FMA form is tested on every Node this project supports.
setFlagsFromString('--experimental-wasm-relaxed-simd');

const CONVS = [
  {
    name: '5×5 valid on 13×11×3 → 7',
    x: [3, 13, 11, 3],
    w: [5, 5, 3, 7],
    strides: [1, 1],
    dilation: [1, 1],
    pad: [0, 0, 0, 0],
  },
  {
    name: '3×3 same stride 2 on 9×10×5 → 33',
    x: [2, 9, 10, 5],
    w: [3, 3, 5, 33],
    strides: [2, 2],
    dilation: [1, 1],
    pad: [1, 1, 1, 1],
  },
  {
    name: '2×3 dilation 2 stride (1,2) uneven padding',
    x: [2, 7, 6, 2],
    w: [2, 3, 2, 3],
    strides: [1, 2],
    dilation: [2, 2],
    pad: [0, 1, 1, 2],
  },
  {
    name: '3×3 same on 5×6×8 → 5 (channels a multiple of the block)',
    x: [2, 5, 6, 8],
    w: [3, 3, 8, 5],
    strides: [1, 1],
    dilation: [1, 1],
    pad: [1, 1, 1, 1],
  },
  {
    name: '3×3 same on one 12×10×8 image → 16 (B read in place)',
    x: [1, 12, 10, 8],
    w: [3, 3, 8, 16],
    strides: [1, 1],
    dilation: [1, 1],
    pad: [1, 1, 1, 1],
  },
  {
    name: '3×3 same on 16×14×4 → 8 (the filter gradient in 6 uneven chunks)',
    x: [3, 16, 14, 4],
    w: [3, 3, 4, 8],
    strides: [1, 1],
    dilation: [1, 1],
    pad: [1, 1, 1, 1],
  },
  {
    name: '3×3 valid stride 2 on 11×11×1 → 32',
    x: [3, 11, 11, 1],
    w: [3, 3, 1, 32],
    strides: [2, 2],
    dilation: [1, 1],
    pad: [0, 0, 0, 0],
  },
] as const;

const THREADS = [1, 2];
/** The conv GEMMs' multiply-adds run as mul+add or as relaxed FMA: both forms, on 1 to 3 threads. */
const CONV_RUNS = [
  { threads: 1, fma: false },
  { threads: 1, fma: true },
  { threads: 2, fma: true },
  { threads: 3, fma: false },
  { threads: 3, fma: true },
];

describe('wasm conv2d kernels match the reference interpreter', () => {
  for (const c of CONVS) {
    const p = { strides: c.strides, dilation: c.dilation, pad: c.pad } as never;
    const y = SHAPE_RULES.conv2d([c.x, c.w], p) as number[];
    for (const { threads, fma } of CONV_RUNS) {
      const on = `(${threads} thread${threads > 1 ? 's' : ''}, ${fma ? 'relaxed FMA' : 'mul+add'})`;
      it(`conv2d ${c.name} ${on}`, () =>
        check(
          [{ shape: [...c.x] }, { shape: [...c.w] }],
          (b, [x, w]) => b.emit('conv2d', [x!, w!], p),
          threads,
          fma,
        ));
      it(`conv2d_input_grad ${c.name} ${on}`, () =>
        check(
          [{ shape: y }, { shape: [...c.w] }],
          (b, [g, w]) =>
            b.emit('conv2d_input_grad', [g!, w!], { ...(p as object), inputHW: [c.x[1], c.x[2]] } as never),
          threads,
          fma,
        ));
      it(`conv2d_filter_grad ${c.name} ${on}`, () =>
        check(
          [{ shape: [...c.x] }, { shape: y }],
          (b, [x, g]) =>
            b.emit('conv2d_filter_grad', [x!, g!], { ...(p as object), kernelHW: [c.w[0], c.w[1]] } as never),
          threads,
          fma,
        ));
    }
  }
});

describe('a conv2d with its bias and relu merged into its stores', () => {
  const geometry = { strides: [1, 1], dilation: [1, 1], pad: [1, 1, 1, 1] } as never;
  const layer =
    (x: number[], w: number[], alsoConv?: (b: GraphBuilder, conv: number) => void) =>
    (b: GraphBuilder, [xs, ws, bias]: number[]) => {
      const y = b.emit('conv2d', [xs!, ws!], geometry);
      alsoConv?.(b, y);
      const shape = SHAPE_RULES.conv2d([x, w], geometry) as number[];
      return b.unary('relu', b.add(y, b.broadcast(bias!, shape)));
    };
  /** The layer's kernels in plan order; with `read`, the conv's output is also an output or summed. */
  const kernelsOf = (x: number[], w: number[], read: 'none' | 'output' | 'sum') => {
    const b = new GraphBuilder();
    const xs = [b.input('x0', 'data', x), b.input('x1', 'data', w), b.input('x2', 'data', [w[3]!])];
    const y = layer(x, w, (b, conv) => {
      if (read === 'output') b.output('z', conv, 'prediction');
      if (read === 'sum') b.output('z', b.sum(conv, [0, 1, 2]), 'prediction');
    })(b, xs);
    b.output('y', y, 'prediction');
    const { fused, plan } = lowerEntry('run', b.build(), 1, new BufferPool(), new KernelTable());
    return { g: fused.graph, kernels: plan.order.map((k) => fused.kernels[k]!) };
  };
  it('merges when the channels fill 8-column panels and nothing else reads the conv', () => {
    const { g, kernels } = kernelsOf([2, 5, 6, 3], [3, 3, 3, 16], 'none');
    expect(convEpilogue(g, kernels, 0)?.anchor).toBe(kernels[0]!.roots[0]);
  });
  it('does not merge 7 channels, nor a conv whose output is an output or read by another kernel', () => {
    const seven = kernelsOf([2, 5, 6, 3], [3, 3, 3, 7], 'none');
    expect(convEpilogue(seven.g, seven.kernels, 0)).toBeUndefined();
    for (const read of ['output', 'sum'] as const) {
      const { g, kernels } = kernelsOf([2, 5, 6, 3], [3, 3, 3, 16], read);
      expect(
        kernels.some((_, at) => convEpilogue(g, kernels, at) !== undefined),
        read,
      ).toBe(false);
    }
  });
  for (const o of [16, 7])
    for (const { threads, fma } of CONV_RUNS)
      it(`3×3 same on [3, 7, 9, 5] → ${o}, ${o % 8 === 0 ? 'merged' : 'apart'} (${threads} thread${threads > 1 ? 's' : ''}, ${fma ? 'relaxed FMA' : 'mul+add'})`, () =>
        check(
          [{ shape: [3, 7, 9, 5] }, { shape: [3, 3, 5, o] }, { shape: [o] }],
          layer([3, 7, 9, 5], [3, 3, 5, o]),
          threads,
          fma,
        ));
});

describe("a pooling gradient with the activation's gradient per image", () => {
  // dx · (x > 0) after max_pool2d_grad (relu's gradient), and dx · 0.5 after avg_pool2d_grad.
  const cases = [
    {
      name: 'max 2×2 stride 2 on [3, 9, 11, 8] (odd edges)',
      x: [3, 9, 11, 8],
      window: [2, 2],
      strides: [2, 2],
      pad: [0, 0, 0, 0],
      max: true,
    },
    {
      name: 'max 3×3 stride 2 same on [2, 8, 9, 12] (overlap)',
      x: [2, 8, 9, 12],
      window: [3, 3],
      strides: [2, 2],
      pad: [1, 1, 1, 1],
      max: true,
    },
    {
      name: 'avg 3×3 stride 2 same on [3, 7, 6, 4]',
      x: [3, 7, 6, 4],
      window: [3, 3],
      strides: [2, 2],
      pad: [1, 0, 1, 1],
      max: false,
    },
  ];
  for (const c of cases) {
    const p = { window: c.window, strides: c.strides, pad: c.pad } as never;
    const y = SHAPE_RULES.max_pool2d([c.x], p) as number[];
    const build = (b: GraphBuilder, [x, g, pre]: number[]) => {
      const dx = c.max
        ? b.emit('max_pool2d_grad', [x!, g!], p)
        : b.emit('avg_pool2d_grad', [g!], { ...(p as object), inputHW: [c.x[1], c.x[2]] } as never);
      return c.max ? b.mul(dx, b.binary('gt', pre!, b.constant(0))) : b.mul(dx, b.constant(0.5));
    };
    it(`${c.name}: the map kernel merges`, () => {
      const b = new GraphBuilder();
      const xs = [b.input('x0', 'data', c.x), b.input('x1', 'data', y), b.input('x2', 'data', c.x)];
      b.output('y', build(b, xs), 'prediction');
      const { fused, plan } = lowerEntry('run', b.build(), 1, new BufferPool(), new KernelTable());
      const kernels = plan.order.map((k) => fused.kernels[k]!);
      expect(kernels.some((_, at) => poolGradEpilogue(fused.graph, kernels, at) !== undefined)).toBe(true);
    });
    for (const threads of [1, 2, 3])
      it(`${c.name} (${threads} thread${threads > 1 ? 's' : ''})`, () =>
        check([{ shape: c.x }, { shape: y }, { shape: c.x }], build, threads));
  }
});

const POOLS = [
  {
    name: '2×2 stride 2 on 9×11×67 (odd edges)',
    x: [2, 9, 11, 67],
    window: [2, 2],
    strides: [2, 2],
    pad: [0, 0, 0, 0],
  },
  { name: '3×3 stride 2 same on 7×6×3', x: [3, 7, 6, 3], window: [3, 3], strides: [2, 2], pad: [1, 0, 1, 1] },
  {
    name: '3×3 stride 2 same on 8×9×12 (overlap)',
    x: [3, 8, 9, 12],
    window: [3, 3],
    strides: [2, 2],
    pad: [1, 1, 1, 1],
  },
  {
    name: '2×3 stride 1 on one 5×6×4 image',
    x: [1, 5, 6, 4],
    window: [2, 3],
    strides: [1, 1],
    pad: [0, 0, 0, 0],
  },
] as const;

describe('wasm pooling kernels match the reference interpreter', () => {
  for (const c of POOLS) {
    const p = { window: c.window, strides: c.strides, pad: c.pad } as never;
    const y = SHAPE_RULES.max_pool2d([c.x], p) as number[];
    for (const threads of THREADS) {
      const on = `(${threads} thread${threads > 1 ? 's' : ''})`;
      it(`max_pool2d ${c.name} ${on}`, () =>
        check([{ shape: [...c.x] }], (b, [x]) => b.emit('max_pool2d', [x!], p), threads));
      it(`avg_pool2d ${c.name} ${on}`, () =>
        check([{ shape: [...c.x] }], (b, [x]) => b.emit('avg_pool2d', [x!], p), threads));
      it(`max_pool2d_grad ${c.name} ${on}`, () =>
        check(
          [{ shape: [...c.x] }, { shape: y }],
          (b, [x, g]) => b.emit('max_pool2d_grad', [x!, g!], p),
          threads,
        ));
      it(`avg_pool2d_grad ${c.name} ${on}`, () =>
        check(
          [{ shape: y }],
          (b, [g]) =>
            b.emit('avg_pool2d_grad', [g!], { ...(p as object), inputHW: [c.x[1], c.x[2]] } as never),
          threads,
        ));
    }
  }
  it('max_pool2d_grad sends a tie to the first maximum', async () => {
    const got = await check(
      [
        { shape: [1, 2, 2, 1], values: [1, 1, 1, 1] },
        { shape: [1, 1, 1, 1], values: [5] },
      ],
      (b, [x, g]) =>
        b.emit('max_pool2d_grad', [x!, g!], { window: [2, 2], strides: [2, 2], pad: [0, 0, 0, 0] }),
      1,
    );
    expect(Array.from(got)).toEqual([5, 0, 0, 0]);
  });
});
