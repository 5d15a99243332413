/**
 * The matmul's GPU tiles (workgroup-memory staging, vec4 loads, 4×4 outputs per invocation)
 * against the reference interpreter on whatever adapter runs the tests (lavapipe in CI), on
 * sizes that are not multiples of the 64- or 32-wide tiles or of the K step, with transposed
 * operands, batches and fused epilogues: the variant the spec carries, run in place of the
 * default kernel.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { SHAPE_RULES } from '../../src/ir/ops.js';
import { type RunOptions, worstErrorOnGpu } from '../gpu.js';

/** Runs `y = f(x0, …)` with the given tiles and returns the worst relative error against f64. */
const worstError = (
  shapes: number[][],
  f: (b: GraphBuilder, xs: number[]) => number,
  run: RunOptions,
  seed = 1,
): Promise<number> => worstErrorOnGpu(shapes, f, { run, seed });

const gpu: RunOptions = { tiles: 'gpu' };

describe('the GPU tiles of a matmul match the f64 interpreter', () => {
  // m, k, n from 1 and 7 (under a quad and a tile), 63/65 (either side of 64), 100, 130 (two
  // tiles and a bit); K = 7, 63, 65 leave a partial K step. Operands whose stored rows are a
  // multiple of 4 long load vec4s (100, 64, 132), the others element by element (130 is not);
  // each transposition twice. One kernel compile per case: lavapipe's JIT is what costs here.
  const cases: [number, number, number, boolean, boolean][] = [
    [1, 1, 1, false, false],
    [1, 130, 7, true, false],
    [7, 63, 65, false, true],
    [65, 7, 63, true, true],
    [63, 100, 130, false, false],
    [100, 65, 100, true, false],
    [130, 100, 1, false, true],
    [100, 64, 132, true, true],
  ];
  for (const [m, k, n, ta, tb] of cases) {
    it(`${m}×${k}·${k}×${n} transA=${ta} transB=${tb}`, async () => {
      const worst = await worstError(
        [ta ? [k, m] : [m, k], tb ? [n, k] : [k, n]],
        (b, [x, y]) => b.matmul(x!, y!, ta, tb),
        gpu,
        m * 7 + k * 3 + n,
      );
      expect(worst).toBeLessThan(2e-5 * Math.max(1, Math.sqrt(k)));
    });
  }
  it('one operand both sides (x·xᵀ), unaligned and aligned', async () => {
    for (const [r, c] of [
      [37, 65],
      [36, 100],
    ] as const)
      expect(await worstError([[r, c]], (b, [x]) => b.matmul(x!, x!, false, true), gpu)).toBeLessThan(2e-4);
  });
  it('batched products, and a batch of rows folded over one shared B', async () => {
    expect(
      await worstError(
        [
          [3, 65, 12],
          [3, 12, 33],
        ],
        (b, [x, y]) => b.matmul(x!, y!),
        gpu,
      ),
    ).toBeLessThan(1e-4);
    expect(
      await worstError(
        [
          [2, 3, 8, 70],
          [2, 3, 20, 8],
        ],
        (b, [x, y]) => b.matmul(x!, y!, true, true),
        gpu,
      ),
    ).toBeLessThan(1e-4);
    expect(
      await worstError(
        [
          [4, 17, 12],
          [12, 68],
        ],
        (b, [x, y]) => b.matmul(x!, y!),
        gpu,
      ),
    ).toBeLessThan(1e-4);
  });
  it('a fused bias + relu epilogue (a Dense layer) and one reading an operand again (a residual)', async () => {
    expect(
      await worstError(
        [[70, 65], [65, 130], [130]],
        (b, [x, w, bias]) => b.unary('relu', b.add(b.matmul(x!, w!), bias!)),
        gpu,
      ),
    ).toBeLessThan(1e-4);
    // x + x·W: the epilogue reads x, which the product loads as vec4s.
    expect(
      await worstError(
        [
          [33, 64],
          [64, 64],
        ],
        (b, [x, w]) => b.add(x!, b.unary('tanh', b.matmul(x!, w!))),
        gpu,
      ),
    ).toBeLessThan(1e-4);
  });
  it('the default (cpu) tiles of the same product agree with the interpreter too', async () => {
    expect(
      await worstError(
        [
          [63, 100],
          [130, 100],
        ],
        (b, [x, y]) => b.matmul(x!, y!, false, true),
        {},
      ),
    ).toBeLessThan(1e-4);
  });
});

describe('the GPU tiles of a convolution (an implicit GEMM) match the f64 interpreter', () => {
  // Channels, outputs and pixels that are multiples of neither the 64- and 32-wide tiles nor the
  // K step; same padding whose windows reach past the last row and column (odd sizes), valid
  // padding, stride 2, dilation with uneven padding, 1×1 and 5×5 filters, every batch above 1.
  // Three kernel compiles per case (forward and both gradients).
  const convs = [
    {
      name: '5×5 valid on 2×9×11×3 → 7',
      x: [2, 9, 11, 3],
      w: [5, 5, 3, 7],
      s: [1, 1],
      d: [1, 1],
      pad: [0, 0, 0, 0],
    },
    {
      name: '3×3 same stride 2 on 3×9×9×5 → 33',
      x: [3, 9, 9, 5],
      w: [3, 3, 5, 33],
      s: [2, 2],
      d: [1, 1],
      pad: [1, 1, 1, 1],
    },
    {
      name: '1×1 stride 2 on 2×7×6×6 → 10',
      x: [2, 7, 6, 6],
      w: [1, 1, 6, 10],
      s: [2, 2],
      d: [1, 1],
      pad: [0, 0, 0, 0],
    },
    // Channels and outputs multiples of 4: every operand of every kind gathered by vec4.
    {
      name: '3×3 same on 2×5×7×8 → 12 (vec4 loads)',
      x: [2, 5, 7, 8],
      w: [3, 3, 8, 12],
      s: [1, 1],
      d: [1, 1],
      pad: [1, 1, 1, 1],
    },
    {
      name: '2×3 dilation 2 stride (1,2) uneven padding',
      x: [2, 7, 6, 2],
      w: [2, 3, 2, 3],
      s: [1, 2],
      d: [2, 2],
      pad: [0, 1, 1, 2],
    },
  ] as const;
  for (const c of convs) {
    const p = { strides: c.s, dilation: c.d, pad: c.pad };
    const y = SHAPE_RULES.conv2d([[...c.x], [...c.w]], p as never) as number[];
    const [kh, kw, ci, co] = c.w;
    it(`conv2d ${c.name}`, async () => {
      const worst = await worstError([[...c.x], [...c.w]], (b, [x, w]) => b.emit('conv2d', [x!, w!], p), gpu);
      expect(worst).toBeLessThan(2e-5 * Math.sqrt(kh * kw * ci));
    });
    it(`conv2d_input_grad ${c.name}`, async () => {
      const inputHW = [c.x[1], c.x[2]] as const;
      const worst = await worstError(
        [y, [...c.w]],
        (b, [g, w]) => b.emit('conv2d_input_grad', [g!, w!], { ...p, inputHW }),
        gpu,
      );
      expect(worst).toBeLessThan(2e-5 * Math.sqrt(kh * kw * co));
    });
    it(`conv2d_filter_grad ${c.name}`, async () => {
      const worst = await worstError(
        [[...c.x], y],
        (b, [x, g]) => b.emit('conv2d_filter_grad', [x!, g!], { ...p, kernelHW: [kh, kw] }),
        gpu,
      );
      expect(worst).toBeLessThan(2e-5 * Math.sqrt(y[0]! * y[1]! * y[2]!));
    });
  }
  it('the sliced filter gradient: 5 partials over 27 (image, row) pairs, 1 over 8, and 4 over 5 (vec4 loads)', async () => {
    // 27 / 5 pairs: slices of 5 and 6 pairs, so the shorter ones read zeros past their last.
    const valid = { strides: [1, 1], dilation: [1, 1], pad: [0, 0, 0, 0], kernelHW: [3, 3] } as const;
    expect(
      await worstError(
        [
          [3, 11, 10, 2],
          [3, 9, 8, 5],
        ],
        (b, [x, g]) => b.emit('conv2d_filter_grad', [x!, g!], { ...valid, slices: 5 }),
        gpu,
      ),
    ).toBeLessThan(1e-4);
    // One slice: the partial is the whole gradient, in a layer of its own.
    expect(
      await worstError(
        [
          [2, 6, 5, 3],
          [2, 4, 3, 5],
        ],
        (b, [x, g]) => b.emit('conv2d_filter_grad', [x!, g!], { ...valid, slices: 1 }),
        gpu,
      ),
    ).toBeLessThan(1e-4);
    expect(
      await worstError(
        [
          [1, 7, 7, 4],
          [1, 5, 3, 68],
        ],
        (b, [x, g]) =>
          b.emit('conv2d_filter_grad', [x!, g!], { ...valid, strides: [1, 2], pad: [0, 0, 0, 0], slices: 4 }),
        gpu,
      ),
    ).toBeLessThan(1e-4);
  });
});
