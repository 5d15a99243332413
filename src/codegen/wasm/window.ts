/**
 * Wasm for the pooling ops in NHWC (max and average, forward and gradients), SIMD128 over the
 * channels: four channels per f32x4 where they are a multiple of 4, the rest one lane at a time
 * (load32_zero / store32_lane), with the same arithmetic. Each window's in-bounds tap range is
 * computed once, so the tap loops hold no bounds checks. The gradients scatter each window's g
 * into dx in output order, as the reference accumulates, over images split between threads (no
 * two threads touch one image, so no atomics); each thread first zeroes its images' dx.
 * The convolutions are implicit GEMMs in conv-gemm.ts.
 */
import type { Graph, Node } from '../../ir/graph.js';
import type { FusedKernel } from '../../ir/passes/fuse.js';
import type { PlannedKernel } from '../target.js';
import { F32, type FunctionBody, I32, V128, uleb } from './encoder.js';
import { VectorEpilogue, mapEpilogue } from './vector.js';
import { FusedWriter, type WasmContext, type WasmKernel, kernelFunction, threadRange } from './writer.js';
import {
  I32_ADD as ADD,
  I32_SUB as SUB,
  I32_MUL as MUL,
  I32_DIV_U as DIV_U,
  I32_REM_U as REM_U,
  I32_LT_S as LT_S,
  I32_GT_S as GT_S,
  SIMD_PREFIX as SIMD,
  F32X4_ADD,
  F32X4_DIV,
  F32X4_PMAX,
  F32X4_EQ,
  V128_AND,
  V128_ANDNOT,
  V128_OR,
  F32X4_SPLAT,
  V128_ZERO,
} from './opcodes.js';

export type PoolOp = 'max_pool2d' | 'max_pool2d_grad' | 'avg_pool2d' | 'avg_pool2d_grad';

/** Channels per group: a whole f32x4, or one lane of it (the others zero, never stored). */
type Width = 4 | 1;

function load(f: FunctionBody, width: Width, offset: number): FunctionBody {
  return width === 4 ? f.loadV128(offset) : f.op(SIMD, 0x5c, 2, ...uleb(offset));
}
function store(f: FunctionBody, width: Width, offset: number): FunctionBody {
  return width === 4 ? f.storeV128(offset) : f.op(SIMD, 0x5a, 2, ...uleb(offset), 0);
}

/** Pushes max(a, b) or min(a, b) of two i32s on the stack, signed. */
function pushMinMax(f: FunctionBody, a: () => void, b: () => void, max: boolean): void {
  const [x, y] = [f.local(I32), f.local(I32)];
  a();
  f.set(x);
  b();
  f.set(y);
  f.get(x)
    .get(y)
    .get(x)
    .get(y)
    .op(max ? GT_S : LT_S)
    .select();
}

/**
 * The pooling kernel; a gradient with `epilogue` (from {@link poolGradEpilogue}) also computes
 * that kernel's roots over each image of dx as soon as its windows are scattered, while the
 * image is still in cache.
 */
export function windowKernel(
  { g, bufferOf }: PlannedKernel,
  node: Node<PoolOp>,
  ctx: WasmContext,
  epilogue?: FusedKernel,
): WasmKernel {
  const f = kernelFunction();
  const I = () => f.local(I32);
  const grad = node.op === 'max_pool2d_grad' || node.op === 'avg_pool2d_grad';
  const image = (node.op === 'avg_pool2d_grad' ? node.shape : g.nodes[node.srcs[0]!]!.shape) as number[];
  const pooled = (
    grad ? g.nodes[node.srcs[node.op === 'max_pool2d_grad' ? 1 : 0]!]!.shape : node.shape
  ) as number[];
  const [batch, h, w, ch] = image as [number, number, number, number];
  const [, oh, ow] = pooled as [number, number, number];
  const addr = (k: number) => ctx.address(bufferOf.get(node.srcs[k]!)!);
  const out = ctx.address(bufferOf.get(node.id)!);
  // The image (x, or dx) and the pooled tensor (y, or g).
  const xAt = node.op === 'avg_pool2d_grad' ? out : addr(0);
  const yAt = grad ? addr(node.op === 'max_pool2d_grad' ? 1 : 0) : out;
  const { window, strides, pad } = node.params;
  const [kh, kw] = window;
  const [sh, sw] = strides;
  const [pt, pl] = [pad[0], pad[1]];
  const row = w * ch * 4;
  const pixel = ch * 4;

  const [lo, hi, q, b, oy, ox, ky0, ky1, kx0, kx1, ky, kx, win, pos, cb, tap] = Array.from({ length: 16 }, I);
  const count = f.local(F32);
  const [best, acc, v, taken, m, gv] = Array.from({ length: 6 }, () => f.local(V128));

  /** for (v = from; v < to; v += step) over locals. */
  const range = (v: number, from: () => void, to: () => void, body: () => void, step = 1) =>
    f.forRange(v, from, to, body, step);
  /** Visits every in-bounds tap of the window, `tap` holding its byte address in the image plus cb. */
  const taps = (visit: () => void) =>
    range(
      ky,
      () => f.get(ky0),
      () => f.get(ky1),
      () =>
        range(
          kx,
          () => f.get(kx0),
          () => f.get(kx1),
          () => {
            f.get(win).get(ky).i32(row).op(MUL, ADD).get(kx).i32(pixel).op(MUL, ADD).get(cb).op(ADD).set(tap);
            visit();
          },
        ),
    );
  /** best = the window's first maximum (pmax keeps the earlier on ties: best < v ? v : best). */
  const windowMax = (width: Width) => {
    f.get(win).get(ky0).i32(row).op(MUL, ADD).get(kx0).i32(pixel).op(MUL, ADD).get(cb).op(ADD);
    load(f, width, xAt).set(best);
    taps(() => {
      f.get(best).get(tap);
      load(f, width, xAt)
        .op(...F32X4_PMAX)
        .set(best);
    });
  };
  /** One channel group at byte offset cb of the window at (b, oy, ox); `pos` addresses y / g. */
  const group = (width: Width) => {
    switch (node.op) {
      case 'max_pool2d':
        // A window wholly in the padding gives 0.
        f.op(...V128_ZERO).set(best);
        f.get(count).f32(0).op(0x5e /* gt */).if();
        windowMax(width);
        f.end();
        f.get(pos).get(cb).op(ADD).get(best);
        store(f, width, yAt);
        break;
      case 'avg_pool2d':
        f.op(...V128_ZERO).set(acc);
        taps(() => {
          f.get(acc).get(tap);
          load(f, width, xAt);
          f.get(count)
            .op(...F32X4_SPLAT)
            .op(...F32X4_DIV)
            .op(...F32X4_ADD)
            .set(acc);
        });
        f.get(pos).get(cb).op(ADD).get(acc);
        store(f, width, yAt);
        break;
      case 'max_pool2d_grad':
        // g goes to the first tap equal to the maximum: each lane's mask once, in tap order.
        f.get(count).f32(0).op(0x5e).if();
        windowMax(width);
        f.get(pos).get(cb).op(ADD);
        load(f, width, yAt).set(gv);
        f.op(...V128_ZERO).set(taken);
        taps(() => {
          f.get(tap);
          load(f, width, xAt)
            .get(best)
            .op(...F32X4_EQ)
            .get(taken)
            .op(...V128_ANDNOT)
            .set(m);
          f.get(taken)
            .get(m)
            .op(...V128_OR)
            .set(taken);
          f.get(tap).get(tap);
          load(f, width, out)
            .get(gv)
            .get(m)
            .op(...V128_AND)
            .op(...F32X4_ADD);
          store(f, width, out);
        });
        f.end();
        break;
      case 'avg_pool2d_grad':
        f.get(pos).get(cb).op(ADD);
        load(f, width, yAt)
          .get(count)
          .op(...F32X4_SPLAT)
          .op(...F32X4_DIV)
          .set(gv);
        taps(() => {
          f.get(tap).get(tap);
          load(f, width, out)
            .get(gv)
            .op(...F32X4_ADD);
          store(f, width, out);
        });
        break;
    }
  };
  /** The window at (b, oy, ox): its tap range, count, image base and pooled address, then every group. */
  const windowAt = () => {
    // iy = oy·sh − pt + ky is inside [0, h) for ky in [max(0, pt − oy·sh), min(kh, h + pt − oy·sh)).
    const edge = (o: number, s: number, p: number, k: number, n: number, k0: number, k1: number) => {
      pushMinMax(
        f,
        () => f.i32(p).get(o).i32(s).op(MUL, SUB),
        () => f.i32(0),
        true,
      );
      f.set(k0);
      pushMinMax(
        f,
        () =>
          f
            .i32(n + p)
            .get(o)
            .i32(s)
            .op(MUL, SUB),
        () => f.i32(k),
        false,
      );
      f.set(k1);
    };
    edge(oy, sh, pt, kh, h, ky0, ky1);
    edge(ox, sw, pl, kw, w, kx0, kx1);
    // count = max(0, ky1 − ky0) · max(0, kx1 − kx0)
    pushMinMax(
      f,
      () => f.get(ky1).get(ky0).op(SUB),
      () => f.i32(0),
      true,
    );
    pushMinMax(
      f,
      () => f.get(kx1).get(kx0).op(SUB),
      () => f.i32(0),
      true,
    );
    f.op(MUL, 0xb2 /* f32.convert_i32_s */).set(count);
    // win = byte offset of tap (0, 0): ((b·h + oy·sh − pt)·w + ox·sw − pl)·ch·4 (may lie outside).
    f.get(b)
      .i32(h * row)
      .op(MUL)
      .get(oy)
      .i32(sh * row)
      .op(MUL, ADD)
      .get(ox)
      .i32(sw * pixel)
      .op(MUL, ADD)
      .i32(pt * row + pl * pixel)
      .op(SUB)
      .set(win);
    f.get(b)
      .i32(oh * ow)
      .op(MUL)
      .get(oy)
      .i32(ow)
      .op(MUL, ADD)
      .get(ox)
      .op(ADD)
      .i32(pixel)
      .op(MUL)
      .set(pos);
    const whole = Math.floor(ch / 4) * 16;
    if (whole > 0)
      range(
        cb,
        () => f.i32(0),
        () => f.i32(whole),
        () => group(4),
        16,
      );
    if (whole < pixel)
      range(
        cb,
        () => f.i32(whole),
        () => f.i32(pixel),
        () => group(1),
        4,
      );
  };
  const columns = () =>
    range(
      ox,
      () => f.i32(0),
      () => f.i32(ow),
      windowAt,
    );
  if (grad) {
    // Whole images per thread: zero dx, then scatter every window of the image.
    threadRange(f, batch, lo, hi);
    range(
      b,
      () => f.get(lo),
      () => f.get(hi),
      () => {
        f.get(b)
          .i32(h * row)
          .op(MUL)
          .i32(out)
          .op(ADD)
          .i32(0)
          .i32(h * row)
          .op(0xfc, 0x0b, 0x00 /* memory.fill */);
        range(
          oy,
          () => f.i32(0),
          () => f.i32(oh),
          columns,
        );
        if (epilogue) {
          // The image's elements four at a time: dx (the anchor) from memory, then the roots.
          const vector = new VectorEpilogue(new FusedWriter(f, g, epilogue, bufferOf, ctx));
          const [e, end] = [I(), I()];
          f.get(b)
            .i32(h * w * ch)
            .op(MUL)
            .tee(e)
            .i32(h * w * ch)
            .op(ADD)
            .set(end);
          range(
            e,
            () => f.get(e),
            () => f.get(end),
            () => {
              f.get(e).i32(2).op(0x74 /* shl */).loadV128(out).set(gv);
              vector.storeRoots(gv, { local: e, key: 'e' });
            },
            4,
          );
        }
      },
    );
  } else {
    threadRange(f, batch * oh, lo, hi);
    range(
      q,
      () => f.get(lo),
      () => f.get(hi),
      () => {
        f.get(q).i32(oh).op(DIV_U).set(b);
        f.get(q).i32(oh).op(REM_U).set(oy);
        columns();
      },
    );
  }
  const name = epilogue
    ? `${node.op}_${[...new Set(epilogue.roots.map((r) => g.nodes[r]!.op))].join('_')}`
    : node.op;
  return { name, phases: [f], scratchBytes: 0 };
}

/**
 * A pooling gradient kernel and the map kernel after it (the activation's gradient) as one
 * ({@link mapEpilogue}) when the channels are a multiple of 4. dx is still stored, so other
 * kernels may read it.
 */
export function poolGradEpilogue(
  g: Graph,
  kernels: readonly FusedKernel[],
  at: number,
): FusedKernel | undefined {
  const op = kernels[at] && g.nodes[kernels[at].roots[0]!]!.op;
  return op === 'max_pool2d_grad' || op === 'avg_pool2d_grad' ? mapEpilogue(g, kernels, at) : undefined;
}
