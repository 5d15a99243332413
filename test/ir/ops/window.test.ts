/**
 * The windowed and indexing ops: the reference implementations of conv2d and pooling against
 * naive direct loops written here independently (padding in a zero-padded copy of the image),
 * and every shape rule's error message.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/ir/builder.js';
import type { Shape } from '../../../src/ir/graph.js';
import { interpret } from '../../../src/ir/interpret.js';
import { samePadding } from '../../../src/ir/ops/window.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { randomArray, seededRandom } from '../random.js';

type Img = number[][][][]; // [n][y][x][c]

function toImg(t: Tensor): Img {
  const [n, h, w, c] = t.shape as [number, number, number, number];
  return Array.from({ length: n }, (_, b) =>
    Array.from({ length: h }, (_, y) =>
      Array.from({ length: w }, (_, x) =>
        Array.from({ length: c }, (_, k) => t.data[((b * h + y) * w + x) * c + k]!),
      ),
    ),
  );
}

/** The image inside a border of `fill`: top, left, bottom, right. */
function padded(img: Img, [t, l, b, r]: readonly number[], fill: number): Img {
  const h = img[0]!.length;
  const w = img[0]![0]!.length;
  const c = img[0]![0]![0]!.length;
  return img.map((rows) =>
    Array.from({ length: h + t! + b! }, (_, y) =>
      Array.from({ length: w + l! + r! }, (_, x) => {
        const inside = y >= t! && y < h + t! && x >= l! && x < w + l!;
        return inside ? [...rows[y - t!]![x - l!]!] : new Array<number>(c).fill(fill);
      }),
    ),
  );
}

/** TF's `same`: output ⌈n/s⌉, written out again here rather than imported. */
function tfSame(n: number, k: number, s: number, d: number): [number, number] {
  const effective = (k - 1) * d + 1;
  const total = Math.max(0, (Math.ceil(n / s) - 1) * s + effective - n);
  return [Math.floor(total / 2), Math.ceil(total / 2)];
}

function naiveConv(x: Tensor, w: Tensor, s: [number, number], d: [number, number], same: boolean): number[] {
  const [, h, wd] = x.shape as number[];
  const [kh, kw, c, o] = w.shape as [number, number, number, number];
  const [pt, pb] = same ? tfSame(h!, kh, s[0], d[0]) : [0, 0];
  const [pl, pr] = same ? tfSame(wd!, kw, s[1], d[1]) : [0, 0];
  const img = padded(toImg(x), [pt, pl, pb, pr], 0);
  const out: number[] = [];
  for (const rows of img) {
    for (let y = 0; y + (kh - 1) * d[0] < rows.length; y += s[0])
      for (let xx = 0; xx + (kw - 1) * d[1] < rows[0]!.length; xx += s[1])
        for (let oc = 0; oc < o; oc++) {
          let acc = 0;
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++)
              for (let ic = 0; ic < c; ic++)
                acc += rows[y + i * d[0]]![xx + j * d[1]]![ic]! * w.data[((i * kw + j) * c + ic) * o + oc]!;
          out.push(acc);
        }
  }
  return out;
}

/** Max pads with −∞ (never chosen); average keeps a count of the real taps (padding not counted). */
function naivePool(
  x: Tensor,
  k: [number, number],
  s: [number, number],
  same: boolean,
  kind: 'max' | 'avg',
): number[] {
  const [, h, wd, c] = x.shape as number[];
  const [pt, pb] = same ? tfSame(h!, k[0], s[0], 1) : [0, 0];
  const [pl, pr] = same ? tfSame(wd!, k[1], s[1], 1) : [0, 0];
  const img = padded(toImg(x), [pt, pl, pb, pr], NaN);
  const out: number[] = [];
  for (const rows of img)
    for (let y = 0; y + k[0] <= rows.length; y += s[0])
      for (let xx = 0; xx + k[1] <= rows[0]!.length; xx += s[1])
        for (let ch = 0; ch < c!; ch++) {
          const taps: number[] = [];
          for (let i = 0; i < k[0]; i++)
            for (let j = 0; j < k[1]; j++) {
              const v = rows[y + i]![xx + j]![ch]!;
              if (!Number.isNaN(v)) taps.push(v);
            }
          out.push(kind === 'max' ? Math.max(...taps) : taps.reduce((a, v) => a + v, 0) / taps.length);
        }
  return out;
}

function run(
  shapes: number[][],
  f: (b: GraphBuilder, xs: number[]) => number,
  seed = 3,
): { got: number[]; ins: Tensor[] } {
  const rand = seededRandom(seed);
  const b = new GraphBuilder();
  const xs = shapes.map((s, i) => b.input(`x${i}`, 'data', s));
  const y = f(b, xs);
  const ins = shapes.map((s) => ({
    shape: s,
    data: randomArray(
      rand,
      s.reduce((p, q) => p * q, 1),
      -2,
      2,
    ),
  }));
  const values = interpret(b.build(), new Map(ins.map((t, i) => [`x${i}`, t])));
  return { got: Array.from(values[y]!.data), ins };
}

function expectClose(got: number[], want: number[]) {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThan(1e-12));
}

describe('conv2d and pooling against naive direct loops', () => {
  const convs: [string, number[], number[], [number, number], [number, number], boolean][] = [
    ['valid 3×3', [2, 6, 7, 3], [3, 3, 3, 4], [1, 1], [1, 1], false],
    ['same 5×5 stride 2', [1, 9, 8, 2], [5, 5, 2, 3], [2, 2], [1, 1], true],
    ['same 3×2 stride (2,1) dilation (1,2)', [2, 7, 6, 2], [3, 2, 2, 2], [2, 1], [1, 2], true],
    ['valid 2×2 dilation 2 stride 3', [1, 8, 9, 1], [2, 2, 1, 2], [3, 3], [2, 2], false],
  ];
  for (const [name, xs, ws, s, d, same] of convs) {
    it(`conv2d ${name}`, () => {
      const pad = (n: number, k: number, i: number) => (same ? samePadding(n, k, s[i]!, d[i]!) : [0, 0]);
      const [pt, pb] = pad(xs[1]!, ws[0]!, 0);
      const [pl, pr] = pad(xs[2]!, ws[1]!, 1);
      const { got, ins } = run([xs, ws], (b, [x, w]) =>
        b.emit('conv2d', [x!, w!], { strides: s, dilation: d, pad: [pt!, pl!, pb!, pr!] }),
      );
      expectClose(got, naiveConv(ins[0]!, ins[1]!, s, d, same));
    });
  }
  const pools: [string, number[], [number, number], [number, number], boolean][] = [
    ['2×2 stride 2 valid on odd sizes', [2, 5, 7, 3], [2, 2], [2, 2], false],
    ['3×3 stride 2 same', [1, 6, 7, 2], [3, 3], [2, 2], true],
    ['3×3 stride 1 same', [1, 4, 5, 1], [3, 3], [1, 1], true],
    ['2×3 stride (1,3) same', [2, 5, 7, 2], [2, 3], [1, 3], true],
  ];
  for (const [name, xs, k, s, same] of pools) {
    const pad = (n: number, kk: number, i: number) => (same ? samePadding(n, kk, s[i]!, 1) : [0, 0]);
    const [pt, pb] = pad(xs[1]!, k[0], 0);
    const [pl, pr] = pad(xs[2]!, k[1], 1);
    const p = { window: k, strides: s, pad: [pt!, pl!, pb!, pr!] as [number, number, number, number] };
    it(`max_pool2d ${name}`, () => {
      const { got, ins } = run([xs], (b, [x]) => b.emit('max_pool2d', [x!], p));
      expectClose(got, naivePool(ins[0]!, k, s, same, 'max'));
    });
    it(`avg_pool2d ${name} divides by the in-bounds count`, () => {
      const { got, ins } = run([xs], (b, [x]) => b.emit('avg_pool2d', [x!], p));
      expectClose(got, naivePool(ins[0]!, k, s, same, 'avg'));
    });
  }
});

describe('shape rules of the layer-library ops', () => {
  const shapeError = (shapes: Shape[], build: (b: GraphBuilder, xs: number[]) => void) => {
    const b = new GraphBuilder();
    const xs = shapes.map((s, i) => b.input(`x${i}`, 'data', s));
    try {
      build(b, xs);
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };
  const conv = { strides: [1, 1], dilation: [1, 1], pad: [0, 0, 0, 0] } as const;
  const pool = { window: [2, 2], strides: [2, 2], pad: [0, 0, 0, 0] } as const;

  it('conv2d', () => {
    expect(
      shapeError(
        [
          ['B', 8, 3],
          [3, 3, 3, 4],
        ],
        (b, [x, w]) => b.emit('conv2d', [x!, w!], conv),
      ),
    ).toBe('conv2d needs an NHWC image of rank 4, got [B,8,3]');
    expect(
      shapeError(
        [
          ['B', 8, 8, 3],
          [3, 3, 4],
        ],
        (b, [x, w]) => b.emit('conv2d', [x!, w!], conv),
      ),
    ).toBe('conv2d needs a filter of shape [height, width, in, out], got [3,3,4]');
    expect(
      shapeError(
        [
          ['B', 8, 8, 3],
          [3, 3, 2, 4],
        ],
        (b, [x, w]) => b.emit('conv2d', [x!, w!], conv),
      ),
    ).toBe('conv2d: the input [B,8,8,3] has 3 channels but the filter [3,3,2,4] expects 2');
    expect(
      shapeError(
        [
          ['B', 2, 8, 3],
          [3, 3, 3, 4],
        ],
        (b, [x, w]) => b.emit('conv2d', [x!, w!], conv),
      ),
    ).toBe('conv2d: the window does not fit the input [B,2,8,3] (the output would be 0×6)');
    expect(
      shapeError(
        [
          ['B', 'H', 8, 3],
          [3, 3, 3, 4],
        ],
        (b, [x, w]) => b.emit('conv2d', [x!, w!], conv),
      ),
    ).toBe('conv2d needs fixed height, width and channels, got [B,H,8,3]');
  });
  it('pooling and its gradients', () => {
    expect(shapeError([['B', 1, 5, 2]], (b, [x]) => b.emit('max_pool2d', [x!], pool))).toBe(
      'max_pool2d: the window does not fit the input [B,1,5,2] (the output would be 0×2)',
    );
    expect(shapeError([['B', 10]], (b, [x]) => b.emit('avg_pool2d', [x!], pool))).toBe(
      'avg_pool2d needs an NHWC image of rank 4, got [B,10]',
    );
    expect(
      shapeError(
        [
          ['B', 4, 4, 2],
          ['B', 3, 2, 2],
        ],
        (b, [x, g]) => b.emit('max_pool2d_grad', [x!, g!], pool),
      ),
    ).toBe('max_pool2d_grad: [B,3,2,2] is not the output shape [B,2,2,2]');
  });
  it('gather, scatter_add and one_hot', () => {
    expect(
      shapeError(
        [
          ['V', 4],
          ['B', 3],
        ],
        (b, [t, i]) => b.emit('gather', [t!, i!], {}),
      ),
    ).toBe('gather needs a table with a fixed number of rows, got [V,4]');
    expect(
      shapeError(
        [
          ['B', 3],
          ['B', 4, 5],
        ],
        (b, [i, g]) => b.emit('scatter_add', [i!, g!], { rows: 9 }),
      ),
    ).toBe('scatter_add: the values [B,4,5] do not start with the index shape [B,3]');
    expect(shapeError([['B']], (b, [i]) => b.emit('one_hot', [i!], { depth: 0 }))).toBe(
      'one_hot needs a depth of at least 1, got 0',
    );
  });
  it('slice and concat', () => {
    expect(shapeError([['B', 6]], (b, [x]) => b.emit('slice', [x!], { axis: 1, start: 4, size: 3 }))).toBe(
      'slice [4, 7) of axis 1 is out of range for [B,6]',
    );
    expect(shapeError([['B', 6]], (b, [x]) => b.emit('slice', [x!], { axis: 0, start: 0, size: 1 }))).toBe(
      'cannot slice the symbolic dimension B of [B,6]',
    );
    expect(shapeError([['B', 6]], (b, [x]) => b.emit('slice', [x!], { axis: 2, start: 0, size: 1 }))).toBe(
      'axis 2 is out of range for a tensor of shape [B,6]',
    );
    expect(
      shapeError(
        [
          ['B', 2, 3],
          ['B', 2, 4],
        ],
        (b, xs) => b.emit('concat', xs, { axis: 1 }),
      ),
    ).toBe('cannot concatenate [B,2,3] and [B,2,4] along axis 1: the other dimensions differ');
    expect(
      shapeError(
        [
          ['B', 2],
          ['B', 2],
        ],
        (b, xs) => b.emit('concat', xs, { axis: 0 }),
      ),
    ).toBe('cannot concatenate along the symbolic dimension B of [B,2]');
    expect(shapeError([], (b) => b.emit('concat', [], { axis: 0 }))).toBe('concat needs at least one tensor');
    expect(shapeError([['B', 6]], (b, [x]) => b.emit('pad', [x!], { axis: 0, before: 1, after: 0 }))).toBe(
      'cannot pad the symbolic dimension B of [B,6]',
    );
    expect(shapeError([['B', 6]], (b, [x]) => b.emit('pad', [x!], { axis: 1, before: -1, after: 0 }))).toBe(
      'padding must be non-negative, got -1 and 0',
    );
  });
  it('random_uniform', () => {
    expect(
      shapeError([[2], []], (b, [t, seed]) =>
        b.emit('random_uniform', [t!, seed!], { shape: ['B', 3], salt: 1 }),
      ),
    ).toBe('random_uniform takes a scalar counter and a scalar seed, got shapes [2], []');
  });
  it('image_shift', () => {
    const shift = (b: GraphBuilder, [x, m]: number[]) => b.emit('image_shift', [x!, m!], { adjoint: false });
    expect(
      shapeError(
        [
          ['B', 784],
          ['B', 3],
        ],
        shift,
      ),
    ).toBe('image_shift needs NHWC images with a fixed height and width, got [B,784]');
    expect(
      shapeError(
        [
          ['B', 4, 4, 1],
          ['B', 2],
        ],
        shift,
      ),
    ).toBe('image_shift needs one (dy, dx, flip) row per image, [B,3], got [B,2]');
    expect(
      shapeError(
        [
          ['B', 4, 4, 1],
          [8, 3],
        ],
        shift,
      ),
    ).toBe('image_shift needs one (dy, dx, flip) row per image, [B,3], got [8,3]');
    expect(
      shapeError(
        [
          ['B', 4, 5, 2],
          ['B', 3],
        ],
        shift,
      ),
    ).toBe('no error');
  });
});
