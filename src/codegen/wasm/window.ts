/**
 * Wasm for the window ops in NHWC: conv2d and both its gradients, max and average pooling and
 * theirs. Each is output-stationary, one output element per iteration (each thread a
 * contiguous share), gathering over the window taps that land inside the image, so no two
 * threads write one element and no atomics are needed. Scalar loops: correct first; the
 * register-tiled implicit GEMM of the WGSL target is not ported yet.
 */
import { type Node, sizeOf } from '../../ir/graph.js';
import type { PlannedKernel } from '../target.js';
import { F32, type FunctionBody, I32 } from './encoder.js';
import { type WasmContext, type WasmKernel, kernelFunction, threadRange } from './writer.js';

export type WindowOp =
  | 'conv2d'
  | 'conv2d_input_grad'
  | 'conv2d_filter_grad'
  | 'max_pool2d'
  | 'max_pool2d_grad'
  | 'avg_pool2d'
  | 'avg_pool2d_grad';

const ADD = 0x6a;
const SUB = 0x6b;
const MUL = 0x6c;
const DIV_U = 0x6e;
const REM_U = 0x70;
const LT_U = 0x49;

/** Small structured helpers over one function body. */
class Code {
  constructor(
    readonly f: FunctionBody,
    readonly ctx: WasmContext,
  ) {}
  i32(): number {
    return this.f.local(I32);
  }
  /** `for (v = 0; v < n; v++) body()`. */
  loop(n: number, body: (v: number) => void): void {
    const v = this.i32();
    this.f.forRange(
      v,
      () => this.f.i32(0),
      () => this.f.i32(n),
      () => body(v),
    );
  }
  /** Sets a fresh local to Σ terms: [local, factor] pairs plus a constant. */
  sum(terms: readonly (readonly [number, number])[], constant = 0): number {
    const f = this.f;
    f.i32(constant);
    for (const [local, factor] of terms) {
      f.get(local);
      if (factor !== 1) f.i32(factor).op(MUL);
      f.op(ADD);
    }
    const out = this.i32();
    f.set(out);
    return out;
  }
  /** `if (0 <= v < n) body()`, one unsigned compare. */
  ifBelow(v: number, n: number, body: () => void): void {
    this.f.get(v).i32(n).op(LT_U).if();
    body();
    this.f.end();
  }
  /** Pushes element `index` (an i32 local) of a buffer. */
  load(buffer: number, index: number): void {
    this.f.get(index).i32(2).op(0x74).loadF32(this.ctx.address(buffer));
  }
  /** Splits element index `i` of `shape` into one local per axis. */
  coords(i: number, shape: readonly number[]): number[] {
    let stride = sizeOf(shape);
    return shape.map((d) => {
      stride /= d;
      const c = this.i32();
      this.f.get(i);
      if (stride !== 1) this.f.i32(stride).op(DIV_U);
      if (stride * d !== sizeOf(shape)) this.f.i32(d).op(REM_U);
      this.f.set(c);
      return c;
    });
  }
}

export function windowKernel(
  { g, bufferOf }: PlannedKernel,
  node: Node<WindowOp>,
  ctx: WasmContext,
): WasmKernel {
  const f = kernelFunction();
  const c = new Code(f, ctx);
  const out = node.shape as number[];
  const src = (k: number) => g.nodes[node.srcs[k]!]!;
  const buf = (k: number) => bufferOf.get(node.srcs[k]!)!;
  const p = node.params as {
    strides: readonly [number, number];
    dilation?: readonly [number, number];
    pad: readonly number[];
    window?: readonly [number, number];
  };
  const [sh, sw] = p.strides;
  const [dh, dw] = p.dilation ?? [1, 1];
  const [pt, pl] = [p.pad[0]!, p.pad[1]!];
  const acc = f.local(F32);
  const best = f.local(F32);
  const found = c.i32();
  const [lo, hi, i] = [c.i32(), c.i32(), c.i32()];
  const n = sizeOf(out);
  /** Sets a fresh local to y·s + k·d − p (a window tap's input row or column). */
  const tapAt = (y: number, s: number, k: number, d: number, pad: number) =>
    c.sum(
      [
        [y, s],
        [k, d],
      ],
      -pad,
    );
  /**
   * The output position (oy or ox) whose tap k reads input position `at`, or none: t = at + pad
   * − k·d must be a non-negative multiple of s below `size` (a negative t is huge unsigned).
   */
  const outAt = (
    at: number,
    k: number,
    d: number,
    pad: number,
    s: number,
    size: number,
    body: (o: number) => void,
  ) => {
    const t = c.i32();
    f.get(at).i32(pad).op(ADD).get(k).i32(d).op(MUL).op(SUB).set(t);
    f.get(t).i32(s).op(REM_U).op(0x45 /* eqz */).if();
    const o = c.i32();
    f.get(t).i32(s).op(DIV_U).set(o);
    c.ifBelow(o, size, () => body(o));
    f.end();
  };
  /** acc += a · b of two loads. */
  const fma = (ba: number, ia: number, bb: number, ib: number) => {
    f.get(acc);
    c.load(ba, ia);
    c.load(bb, ib);
    f.op(0x94, 0x92).set(acc);
  };
  /** Visits the in-bounds taps (ky, kx, iy, ix) of output position (oy, ox) over an h×w image. */
  const taps = (
    oy: number,
    ox: number,
    [kh, kw]: readonly number[],
    [h, w]: readonly number[],
    visit: (ky: number, kx: number, iy: number, ix: number) => void,
  ) =>
    c.loop(kh!, (ky) => {
      const iy = tapAt(oy, sh, ky, dh, pt);
      c.ifBelow(iy, h!, () =>
        c.loop(kw!, (kx) => {
          const ix = tapAt(ox, sw, kx, dw, pl);
          c.ifBelow(ix, w!, () => visit(ky, kx, iy, ix));
        }),
      );
    });
  /** Sets `acc` to the in-bounds tap count of window (oy, ox), as f32. */
  const countTaps = (oy: number, ox: number, win: readonly number[], hw: readonly number[]) => {
    f.f32(0).set(acc);
    taps(oy, ox, win, hw, () => f.get(acc).f32(1).op(0x92).set(acc));
  };

  threadRange(f, n, lo, hi);
  f.forRange(
    i,
    () => f.get(lo),
    () => f.get(hi),
    () => {
      f.f32(0).set(acc);
      switch (node.op) {
        case 'conv2d': {
          const [, h, w, ci] = src(0).shape as number[];
          const [kh, kw, , co] = src(1).shape as number[];
          const [b, oy, ox, o] = c.coords(i, out);
          taps(oy!, ox!, [kh!, kw!], [h!, w!], (ky, kx, iy, ix) =>
            c.loop(ci!, (cc) => {
              const xi = c.sum([
                [b!, h! * w! * ci!],
                [iy, w! * ci!],
                [ix, ci!],
                [cc, 1],
              ]);
              const wi = c.sum([
                [ky, kw! * ci! * co!],
                [kx, ci! * co!],
                [cc, co!],
                [o!, 1],
              ]);
              fma(buf(0), xi, buf(1), wi);
            }),
          );
          break;
        }
        case 'conv2d_input_grad': {
          // dx[b, iy, ix, c] = Σ g[b, oy, ox, o] · w[ky, kx, c, o] over taps that read (iy, ix).
          const [, oh, ow, co] = src(0).shape as number[];
          const [kh, kw, ci] = src(1).shape as number[];
          const [b, iy, ix, cc] = c.coords(i, out);
          c.loop(kh!, (ky) =>
            outAt(iy!, ky, dh, pt, sh, oh!, (oy) =>
              c.loop(kw!, (kx) =>
                outAt(ix!, kx, dw, pl, sw, ow!, (ox) =>
                  c.loop(co!, (o) => {
                    const gi = c.sum([
                      [b!, oh! * ow! * co!],
                      [oy, ow! * co!],
                      [ox, co!],
                      [o, 1],
                    ]);
                    const wi = c.sum([
                      [ky, kw! * ci! * co!],
                      [kx, ci! * co!],
                      [cc!, co!],
                      [o, 1],
                    ]);
                    fma(buf(0), gi, buf(1), wi);
                  }),
                ),
              ),
            ),
          );
          break;
        }
        case 'conv2d_filter_grad': {
          // dw[ky, kx, c, o] = Σ x[b, iy, ix, c] · g[b, oy, ox, o] over in-bounds taps.
          const [batch, h, w, ci] = src(0).shape as number[];
          const [, oh, ow, co] = src(1).shape as number[];
          const [ky, kx, cc, o] = c.coords(i, out);
          c.loop(batch!, (b) =>
            c.loop(oh!, (oy) => {
              const iy = tapAt(oy, sh, ky!, dh, pt);
              c.ifBelow(iy, h!, () =>
                c.loop(ow!, (ox) => {
                  const ix = tapAt(ox, sw, kx!, dw, pl);
                  c.ifBelow(ix, w!, () => {
                    const xi = c.sum([
                      [b, h! * w! * ci!],
                      [iy, w! * ci!],
                      [ix, ci!],
                      [cc!, 1],
                    ]);
                    const gi = c.sum([
                      [b, oh! * ow! * co!],
                      [oy, ow! * co!],
                      [ox, co!],
                      [o!, 1],
                    ]);
                    fma(buf(0), xi, buf(1), gi);
                  });
                }),
              );
            }),
          );
          break;
        }
        case 'max_pool2d':
        case 'avg_pool2d': {
          const [, h, w, ch] = src(0).shape as number[];
          const [b, oy, ox, cc] = c.coords(i, out);
          const xAt = (iy: number, ix: number) =>
            c.sum([
              [b!, h! * w! * ch!],
              [iy, w! * ch!],
              [ix, ch!],
              [cc!, 1],
            ]);
          if (node.op === 'max_pool2d') {
            // The first maximum of the in-bounds taps; 0 for a window wholly in the padding.
            f.i32(0).set(found);
            taps(oy!, ox!, p.window!, [h!, w!], (_ky, _kx, iy, ix) => {
              c.load(buf(0), xAt(iy, ix));
              f.set(best);
              f.get(found).op(0x45).get(best).get(acc).op(0x5e /* f32.gt */).op(0x72 /* or */).if();
              f.get(best).set(acc).i32(1).set(found);
              f.end();
            });
          } else {
            // Each tap divided by the window's in-bounds count, as the reference sums.
            countTaps(oy!, ox!, p.window!, [h!, w!]);
            f.get(acc).set(best);
            f.f32(0).set(acc);
            taps(oy!, ox!, p.window!, [h!, w!], (_ky, _kx, iy, ix) => {
              f.get(acc);
              c.load(buf(0), xAt(iy, ix));
              f.get(best).op(0x95, 0x92).set(acc);
            });
          }
          break;
        }
        case 'max_pool2d_grad': {
          // dx at (iy, ix) gathers g of every window whose first maximum is this element.
          const [, h, w, ch] = src(0).shape as number[];
          const [, oh, ow] = src(1).shape as number[];
          const [kh, kw] = p.window!;
          const [b, iy, ix, cc] = c.coords(i, out);
          const xAt = (y: number, x: number) =>
            c.sum([
              [b!, h! * w! * ch!],
              [y, w! * ch!],
              [x, ch!],
              [cc!, 1],
            ]);
          const self = xAt(iy!, ix!);
          const argmax = c.i32();
          c.loop(kh, (ky) =>
            outAt(iy!, ky, 1, pt, sh, oh!, (oy) =>
              c.loop(kw, (kx) =>
                outAt(ix!, kx, 1, pl, sw, ow!, (ox) => {
                  // argmax starts at a valid element: the compare loads it before the first tap is found.
                  f.i32(0).set(found);
                  f.get(self).set(argmax);
                  taps(oy, ox, [kh, kw], [h!, w!], (_a, _b, y, x) => {
                    const at = xAt(y, x);
                    c.load(buf(0), at);
                    f.set(best);
                    f.get(found).op(0x45);
                    f.get(best);
                    c.load(buf(0), argmax);
                    f.op(0x5e).op(0x72).if();
                    f.get(at).set(argmax).i32(1).set(found);
                    f.end();
                  });
                  f.get(argmax).get(self).op(0x46).if();
                  f.get(acc);
                  c.load(
                    buf(1),
                    c.sum([
                      [b!, oh! * ow! * ch!],
                      [oy, ow! * ch!],
                      [ox, ch!],
                      [cc!, 1],
                    ]),
                  );
                  f.op(0x92).set(acc);
                  f.end();
                }),
              ),
            ),
          );
          break;
        }
        case 'avg_pool2d_grad': {
          const [, h, w] = out;
          const [, oh, ow, ch] = src(0).shape as number[];
          const [kh, kw] = p.window!;
          const [b, iy, ix, cc] = c.coords(i, out);
          const sum = f.local(F32);
          f.f32(0).set(sum);
          c.loop(kh, (ky) =>
            outAt(iy!, ky, 1, pt, sh, oh!, (oy) =>
              c.loop(kw, (kx) =>
                outAt(ix!, kx, 1, pl, sw, ow!, (ox) => {
                  countTaps(oy, ox, [kh, kw], [h!, w!]);
                  f.get(sum);
                  c.load(
                    buf(0),
                    c.sum([
                      [b!, oh! * ow! * ch!],
                      [oy, ow! * ch!],
                      [ox, ch!],
                      [cc!, 1],
                    ]),
                  );
                  f.get(acc).op(0x95, 0x92).set(sum);
                }),
              ),
            ),
          );
          f.get(sum).set(acc);
          break;
        }
      }
      f.get(i)
        .i32(2)
        .op(0x74)
        .get(acc)
        .storeF32(ctx.address(bufferOf.get(node.id)!));
    },
  );
  return { name: node.op, phases: [f], scratchBytes: 0 };
}
