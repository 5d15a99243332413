/**
 * conv2d and both its gradients as implicit GEMMs in SIMD128, the CPU twin of the WGSL
 * kernel's register blocks: C[m, n] = Σ_t Σ_r A_row(t)[r] · B[t·R + r, n], where each row's
 * reduction is T segments of R elements at a fixed stride (a tap's channels, or one image row),
 * so the inner loop has no index arithmetic and no bounds checks. Two phases:
 *  1. prepare: pack B into panels of 8 columns (zero past n) unless it already is 8-column
 *     aligned rows; copy x into a zero-padded image in scratch when the conv pads, so every
 *     tap of the forward conv and the filter gradient lands inside it; zero a segment of
 *     scratch that the input gradient's rows read at taps outside the output;
 *  2. compute: the threads share out row blocks (each over every panel) or, for the filter
 *     gradient's long reduction, (panel, row block) tiles chunk by chunk; a tile is MR×8 f32x4
 *     accumulators, updated with a splat of A times the panel's row.
 * Every output element is one thread's, summed in one order whatever the thread count, so two
 * threads give the bits of one. Scratch is the region the module plans once, never per step.
 * The fused graph gives a conv kernel alone, its bias and activation the next kernel (the WGSL
 * kernel runs so); the module may merge that map kernel into the forward conv's stores
 * ({@link convEpilogue}).
 */
import type { Graph, Node } from '../../ir/graph.js';
import type { FusedKernel } from '../../ir/passes/fuse.js';
import { sliceStart } from '../../ir/graph.js';
import type { PlannedKernel } from '../target.js';
import { type FunctionBody, I32, V128 } from './encoder.js';
import { VectorEpilogue, mapEpilogue } from './vector.js';
import {
  FusedWriter,
  type WasmContext,
  type WasmKernel,
  kernelFunction,
  forThreadShare,
  threadRange,
} from './writer.js';
import {
  I32_ADD as ADD,
  I32_SUB as SUB,
  I32_MUL as MUL,
  I32_DIV_U as DIV_U,
  I32_REM_U as REM_U,
  I32_LT_U as LT_U,
  I32_OR as OR,
  V128_ZERO,
} from './opcodes.js';

/** Rows and columns of the register tile: 8 accumulators, 2 B vectors and a splat in registers. */
const MR = 4;
const NR = 8;
/** Pixels per reduction chunk of the filter gradient: its g rows and x taps fit in L2. */
const CHUNK_PIXELS = 128;

export type ConvOp = 'conv2d' | 'conv2d_input_grad' | 'conv2d_filter_grad';

const align16 = (n: number) => Math.ceil(n / 16) * 16;

/** Pushes min(local, limit) as unsigned i32. */
function pushMin(f: FunctionBody, local: number, limit: number): void {
  f.get(local).i32(limit).get(local).i32(limit).op(LT_U).select();
}

/** memory.fill(dst, 0, bytes) and memory.copy(dst, src, bytes), their operands already pushed. */
const fill = (f: FunctionBody) => f.op(0xfc, 0x0b, 0x00);
const copy = (f: FunctionBody) => f.op(0xfc, 0x0a, 0x00, 0x00);

/** How B's rows are read: row k of panel p at base + p·panelStride + k·rowStride (bytes). */
interface BLayout {
  readonly base: number;
  readonly panelStride: number;
  readonly rowStride: number;
}

/** Where B comes from when it must be packed: element (k, col) at (k / r1)·s1 + (k % r1)·s0 + col·ns. */
interface BSource {
  readonly address: number;
  readonly r1: number;
  readonly s1: number;
  readonly s0: number;
  readonly ns: number;
}

interface Gemm {
  readonly m: number;
  readonly n: number;
  /** Segments and elements per segment of the reduction. */
  readonly segments: number;
  readonly length: number;
  /** Bytes between consecutive elements of a row's segment. */
  readonly aStride: number;
  /** Byte address of C (m × n, row-major). */
  readonly out: number;
  readonly b: BLayout;
  /** Whether work items are (panel, row block) tiles, consecutive ones sharing a panel (B reuse). */
  readonly panelOuter: boolean;
  /** Emits, once per row of a block, the locals the row's segment addresses need. */
  readonly rowSetup: (f: FunctionBody, row: number, i: number) => void;
  /** Segment t's coordinates are (t / segmentDivisor, t % segmentDivisor): a tap (ky, kx), or (b, oy). */
  readonly segmentDivisor: number;
  /** Emits, once per segment, the locals every row's segment address shares, from its coordinates. */
  readonly segmentSetup: (f: FunctionBody, tq: number, tr: number) => void;
  /**
   * Pushes the byte address of row i's segment t and, when `valid` is given, ORs whether it
   * reads real data into that local (a block whose rows all read zeros skips the segment).
   */
  readonly segment: (f: FunctionBody, i: number, valid?: number) => void;
  readonly skipsEmptySegments: boolean;
  /** Segments per chunk of a long reduction (see computePhase); all in one when absent. */
  readonly chunkSegments?: number;
  /**
   * Stores four outputs from an f32x4 accumulator, given their element index, instead of C
   * (a fused epilogue: n is a multiple of 8 and the reduction is one chunk).
   */
  readonly epilogue?: (f: FunctionBody, acc: number, index: number) => void;
  /** The first segment summed (0 when absent): one slice of a split filter gradient sums `segments` from here. */
  readonly firstSegment?: number;
}

/** Phase 1: pack B (threads share the rows), pad x into scratch, zero a segment. */
function preparePhase(
  f: FunctionBody,
  pack: { source: BSource; k: number; n: number; packed: number } | undefined,
  pad:
    | { x: number; xp: number; n: number; h: number; w: number; c: number; pads: readonly number[] }
    | undefined,
  zero: { at: number; bytes: number } | undefined,
): void {
  const I = () => f.local(I32);
  if (pack) {
    const { source, k, n, packed } = pack;
    const panels = Math.ceil(n / NR);
    const [q, p, kk, src, dst] = [I(), I(), I(), I(), I()];
    forThreadShare(f, panels * k, q, () => {
      f.get(q).i32(k).op(DIV_U).set(p);
      f.get(q).i32(k).op(REM_U).set(kk);
      // src = element (kk, p·8) of the source; dst = packed + q·32 (panel p, row kk).
      f.get(kk).i32(source.r1).op(DIV_U).i32(source.s1).op(MUL);
      f.get(kk).i32(source.r1).op(REM_U).i32(source.s0).op(MUL, ADD);
      f.get(p)
        .i32(NR * source.ns)
        .op(MUL, ADD)
        .set(src);
      f.get(q)
        .i32(NR * 4)
        .op(MUL)
        .i32(packed)
        .op(ADD)
        .set(dst);
      for (let j = 0; j < NR; j++) {
        f.get(dst);
        f.get(p).i32(NR).op(MUL).i32(j).op(ADD).i32(n).op(LT_U);
        f.if(0x7d);
        f.get(src)
          .i32(j * source.ns)
          .op(ADD)
          .i32(2)
          .op(0x74)
          .loadF32(source.address);
        f.else().f32(0).end();
        f.storeF32(j * 4);
      }
    });
  }
  if (pad) {
    const { x, xp, n, h, w, c, pads } = pad;
    const [pt, pl, pb, pr] = pads as [number, number, number, number];
    const hp = h + pt + pb;
    const wp = w + pl + pr;
    const [q, iy, dst] = [I(), I(), I()];
    forThreadShare(f, n * hp, q, () => {
      // Padded row q = (b, y) of xp; image row y − pt of image b when inside.
      f.get(q)
        .i32(wp * c * 4)
        .op(MUL)
        .i32(xp)
        .op(ADD)
        .set(dst);
      f.get(q).i32(hp).op(REM_U).i32(pt).op(SUB).set(iy);
      f.get(iy).i32(h).op(LT_U).if();
      if (pl > 0)
        fill(
          f
            .get(dst)
            .i32(0)
            .i32(pl * c * 4),
        );
      f.get(dst)
        .i32(pl * c * 4)
        .op(ADD);
      // source: x + ((b·h + iy)·w)·c·4
      f.get(q).i32(hp).op(DIV_U).i32(h).op(MUL).get(iy).op(ADD);
      f.i32(w * c * 4)
        .op(MUL)
        .i32(x)
        .op(ADD)
        .i32(w * c * 4);
      copy(f);
      if (pr > 0)
        fill(
          f
            .get(dst)
            .i32((pl + w) * c * 4)
            .op(ADD)
            .i32(0)
            .i32(pr * c * 4),
        );
      f.else();
      fill(
        f
          .get(dst)
          .i32(0)
          .i32(wp * c * 4),
      );
      f.end();
    });
  }
  if (zero) {
    f.get(0).op(0x45).if();
    fill(f.i32(zero.at).i32(0).i32(zero.bytes));
    f.end();
  }
}

/**
 * Phase 2: the register-tiled product. Without chunks a work item is a row block and its row
 * setup (divisions) serves every panel; with chunks (the filter gradient) an item is one
 * (panel, row block) tile, consecutive items sharing a panel.
 */
function computePhase(f: FunctionBody, gemm: Gemm): void {
  const { m, n, segments, length, aStride, b } = gemm;
  const I = () => f.local(I32);
  const panels = Math.ceil(n / NR);
  const blocks = Math.ceil(m / MR);
  const [lo, hi, q, p, rb, t, r, bp, bseg, off, valid, tq, tr] = Array.from({ length: 13 }, I);
  const rows = Array.from({ length: MR }, I);
  const a = Array.from({ length: MR }, I);
  const at = Array.from({ length: MR }, I);
  const acc = Array.from({ length: MR * 2 }, () => f.local(V128));
  const [b0, b1, s] = [f.local(V128), f.local(V128), f.local(V128)];
  // A long reduction runs in chunks of segments, every tile of the thread's share per chunk, so
  // one chunk of A and B stays in cache while all tiles pass over it; partial sums wait in C.
  const perChunk =
    n % NR === 0 && gemm.chunkSegments !== undefined ? Math.min(gemm.chunkSegments, segments) : segments;
  const chunks = Math.ceil(segments / perChunk);
  const tileItems = gemm.panelOuter || chunks > 1;
  const [kc, tEnd, index] = [I(), I(), I()];
  const D = gemm.segmentDivisor;
  if (gemm.epilogue && (n % NR !== 0 || chunks > 1))
    throw new Error('internal: a conv epilogue needs full panels and one chunk');
  const first = gemm.firstSegment ?? 0;

  const setupRows = () => {
    // Rows past m repeat the last (read, never stored).
    for (let i = 0; i < MR; i++) {
      f.get(rb).i32(MR).op(MUL).i32(i).op(ADD).set(rows[i]!);
      pushMin(f, rows[i]!, m - 1);
      f.set(rows[i]!);
      gemm.rowSetup(f, rows[i]!, i);
    }
  };
  /** The MR×8 tile at (rb, p) over chunk kc's segments. */
  const tile = () => {
    for (let i = 0; i < MR; i++)
      // Byte offset of C(row, p·8).
      f.get(rows[i]!)
        .i32(n * 4)
        .op(MUL)
        .get(p)
        .i32(NR * 4)
        .op(MUL, ADD)
        .set(at[i]!);
    const zeroAcc = () => {
      for (const v of acc) f.op(...V128_ZERO).set(v);
    };
    if (chunks === 1) zeroAcc();
    else {
      f.get(kc).op(0x45).if();
      zeroAcc();
      f.else();
      acc.forEach((v, j) =>
        f
          .get(at[j >> 1]!)
          .loadV128(gemm.out + (j & 1) * 16)
          .set(v),
      );
      f.end();
    }
    f.get(p)
      .i32(b.panelStride)
      .op(MUL)
      .i32(b.base + first * length * b.rowStride)
      .op(ADD);
    if (chunks > 1)
      f.get(kc)
        .i32(perChunk * length * b.rowStride)
        .op(MUL, ADD);
    f.set(bseg);
    // The segment's coordinates (t / D, t % D), stepped without dividing.
    if (chunks > 1) {
      f.get(kc).i32(perChunk).op(MUL).i32(perChunk).op(ADD).set(tEnd);
      pushMin(f, tEnd, segments);
      f.set(tEnd);
      f.get(kc).i32(perChunk).op(MUL).i32(first).op(ADD).i32(D).op(DIV_U).set(tq);
      f.get(kc).i32(perChunk).op(MUL).i32(first).op(ADD).i32(D).op(REM_U).set(tr);
    } else {
      f.i32(segments).set(tEnd);
      f.i32(Math.floor(first / D)).set(tq);
      f.i32(first % D).set(tr);
    }
    f.forRange(
      t,
      () => (chunks > 1 ? f.get(kc).i32(perChunk).op(MUL) : f.i32(0)),
      () => f.get(tEnd),
      () => {
        if (gemm.skipsEmptySegments) f.i32(0).set(valid);
        gemm.segmentSetup(f, tq, tr);
        for (let i = 0; i < MR; i++) {
          gemm.segment(f, i, gemm.skipsEmptySegments ? valid : undefined);
          f.set(a[i]!);
        }
        if (gemm.skipsEmptySegments) f.get(valid).if();
        f.get(bseg).set(bp);
        f.i32(0).set(off);
        f.forRange(
          r,
          () => f.i32(0),
          () => f.i32(length),
          () => {
            f.get(bp).loadV128(0).set(b0);
            f.get(bp).loadV128(16).set(b1);
            for (let i = 0; i < MR; i++) {
              f.get(a[i]!).get(off).op(ADD).loadSplat(0).set(s);
              f.madd(acc[2 * i]!, s, b0);
              f.madd(acc[2 * i + 1]!, s, b1);
            }
            f.get(bp).i32(b.rowStride).op(ADD).set(bp);
            f.get(off).i32(aStride).op(ADD).set(off);
          },
        );
        if (gemm.skipsEmptySegments) f.end();
        f.get(bseg)
          .i32(length * b.rowStride)
          .op(ADD)
          .set(bseg);
        // tr += 1, carrying into tq at D.
        f.get(tr).i32(1).op(ADD).set(tr);
        f.get(tr).i32(D).op(0x46 /* eq */).if();
        f.i32(0).set(tr);
        f.get(tq).i32(1).op(ADD).set(tq);
        f.end();
      },
    );
    // Store the rows inside C; lane by lane where the last panel passes n.
    for (let i = 0; i < MR; i++) {
      f.get(rb)
        .i32(MR)
        .op(MUL)
        .i32(i + 1)
        .op(ADD)
        .i32(m + 1)
        .op(LT_U)
        .if();
      if (gemm.epilogue) {
        for (let v = 0; v < 2; v++) {
          // Element (row, p·8 + 4v) of C.
          f.get(at[i]!)
            .i32(2)
            .op(0x76 /* shr_u */)
            .i32(4 * v)
            .op(ADD)
            .set(index);
          gemm.epilogue(f, acc[2 * i + v]!, index);
        }
      } else if (n % NR === 0) {
        f.get(at[i]!)
          .get(acc[2 * i]!)
          .storeV128(gemm.out);
        f.get(at[i]!)
          .get(acc[2 * i + 1]!)
          .storeV128(gemm.out + 16);
      } else {
        for (let j = 0; j < NR; j++) {
          f.get(p).i32(NR).op(MUL).i32(j).op(ADD).i32(n).op(LT_U).if();
          f.get(at[i]!)
            .get(acc[2 * i + (j >> 2)]!)
            .op(0xfd, 0x1f, j & 3)
            .storeF32(gemm.out + j * 4);
          f.end();
        }
      }
      f.end();
    }
  };

  threadRange(f, tileItems ? blocks * panels : blocks, lo, hi);
  f.forRange(
    kc,
    () => f.i32(0),
    () => f.i32(chunks),
    () =>
      f.forRange(
        q,
        () => f.get(lo),
        () => f.get(hi),
        () => {
          if (tileItems) {
            f.get(q).i32(blocks).op(DIV_U).set(p);
            f.get(q).i32(blocks).op(REM_U).set(rb);
            setupRows();
            tile();
          } else {
            f.get(q).set(rb);
            setupRows();
            f.forRange(
              p,
              () => f.i32(0),
              () => f.i32(panels),
              tile,
            );
          }
        },
      ),
  );
}

/** Pushes local · factor + local2 · factor2 … (i32), skipping unit factors' multiplies. */
function pushSum(f: FunctionBody, terms: readonly (readonly [number, number])[], constant = 0): void {
  f.i32(constant);
  for (const [local, factor] of terms) {
    f.get(local);
    if (factor !== 1) f.i32(factor).op(MUL);
    f.op(ADD);
  }
}

/**
 * The conv kernel; with `epilogue` (from {@link convEpilogue}), a kernel whose anchor is the
 * conv2d: its roots are stored four outputs at a time from the accumulators, and the conv's
 * own output is not.
 */
export function convGemmKernel(
  { g, bufferOf }: PlannedKernel,
  node: Node<ConvOp>,
  ctx: WasmContext,
  epilogue?: FusedKernel,
): WasmKernel {
  const src = (k: number) => g.nodes[node.srcs[k]!]!.shape as number[];
  const address = (k: number) => ctx.address(bufferOf.get(node.srcs[k]!)!);
  const out = ctx.address(bufferOf.get(node.id)!);
  const p = node.params;
  const [sh, sw] = p.strides;
  const [dh, dw] = p.dilation;
  const [pt, pl, pb, pr] = p.pad;
  const padded = pt + pl + pb + pr > 0;
  let scratch = ctx.scratch;
  const take = (bytes: number) => {
    const at = scratch;
    scratch += align16(bytes);
    return at;
  };
  const prepare = kernelFunction();
  const compute = kernelFunction();
  const f = compute;
  const seg = f.local(I32);
  const rowLocals = (count: number) =>
    Array.from({ length: MR }, () => Array.from({ length: count }, () => f.local(I32)));
  /** B as [k, n] rows of `ld` floats at `address`: read in place when 8-column aligned, else packed. */
  const bOf = (k: number, n: number, source: BSource, inPlace: boolean) => {
    if (inPlace)
      return {
        layout: { base: source.address, panelStride: NR * 4, rowStride: source.s0 * 4 },
        pack: undefined,
      };
    const packed = take(Math.ceil(n / NR) * k * NR * 4);
    return {
      layout: { base: packed, panelStride: k * NR * 4, rowStride: NR * 4 },
      pack: { source, k, n, packed },
    };
  };
  let gemm: Gemm;
  let pack: Parameters<typeof preparePhase>[1];
  let pad: Parameters<typeof preparePhase>[2];
  let zero: Parameters<typeof preparePhase>[3];
  if (node.op === 'conv2d' || node.op === 'conv2d_filter_grad') {
    const [batch, h, w, c] = src(0) as [number, number, number, number];
    const hp = h + pt + pb;
    const wp = w + pl + pr;
    const xp = padded ? take(batch * hp * wp * c * 4) : address(0);
    if (padded) pad = { x: address(0), xp, n: batch, h, w, c, pads: p.pad };
    if (node.op === 'conv2d') {
      // Rows (b, oy, ox), columns o; segments ky (a tap row's kw·c floats are contiguous when
      // dw = 1) or (ky, kx), each c floats, of the padded image.
      const [, oh, ow, o] = node.shape as [number, number, number, number];
      const [kh, kw] = src(1) as [number, number];
      const k = kh * kw * c;
      const B = bOf(k, o, { address: address(1), r1: k, s1: 0, s0: o, ns: 1 }, o % NR === 0);
      pack = B.pack;
      const merged = dw === 1;
      const base = rowLocals(1);
      gemm = {
        m: batch * oh * ow,
        n: o,
        segments: merged ? kh : kh * kw,
        length: merged ? kw * c : c,
        aStride: 4,
        out,
        b: B.layout,
        panelOuter: false,
        rowSetup: (f, row, i) => {
          // base = xp + ((b·hp + oy·sh)·wp + ox·sw)·c·4
          const [bb, oy, ox] = [f.local(I32), f.local(I32), f.local(I32)];
          f.get(row)
            .i32(oh * ow)
            .op(DIV_U)
            .set(bb);
          f.get(row).i32(ow).op(DIV_U).i32(oh).op(REM_U).set(oy);
          f.get(row).i32(ow).op(REM_U).set(ox);
          pushSum(f, [
            [bb, hp * wp * c * 4],
            [oy, sh * wp * c * 4],
            [ox, sw * c * 4],
          ]);
          f.i32(xp).op(ADD).set(base[i]![0]!);
        },
        segmentDivisor: merged ? kh : kw,
        segmentSetup: (f, ky, kx) => {
          // merged: segment ky; else tap (ky, kx).
          if (merged)
            f.get(kx)
              .i32(dh * wp * c * 4)
              .op(MUL)
              .set(seg);
          else
            f.get(ky)
              .i32(dh * wp * c * 4)
              .op(MUL)
              .get(kx)
              .i32(dw * c * 4)
              .op(MUL, ADD)
              .set(seg);
        },
        segment: (f, i) => void f.get(base[i]![0]!).get(seg).op(ADD),
        skipsEmptySegments: false,
        ...(epilogue && {
          epilogue: (f: FunctionBody, acc: number, index: number) =>
            new VectorEpilogue(new FusedWriter(f, g, epilogue, bufferOf, ctx)).storeRoots(acc, {
              local: index,
              key: 'index',
            }),
        }),
      };
    } else {
      // Rows (ky, kx, ci), columns o; segments (b, oy), each ow pixels sw·c floats apart; B is g
      // as [b·oh·ow, o].
      const [, oh, ow, o] = src(1) as [number, number, number, number];
      const [kh, kw] = node.params.kernelHW;
      const k = batch * oh * ow;
      const B = bOf(k, o, { address: address(1), r1: k, s1: 0, s0: o, ns: 1 }, o % NR === 0);
      pack = B.pack;
      const tap = rowLocals(1);
      gemm = {
        m: kh * kw * c,
        n: o,
        segments: batch * oh,
        length: ow,
        aStride: sw * c * 4,
        out,
        b: B.layout,
        panelOuter: true,
        chunkSegments: Math.max(1, Math.round(CHUNK_PIXELS / ow)),
        rowSetup: (f, row, i) => {
          // tap = xp + ((ky·dh)·wp + kx·dw)·c·4 + ci·4
          f.get(row)
            .i32(kw * c)
            .op(DIV_U)
            .i32(dh * wp * c * 4)
            .op(MUL);
          f.get(row)
            .i32(c)
            .op(DIV_U)
            .i32(kw)
            .op(REM_U)
            .i32(dw * c * 4)
            .op(MUL, ADD);
          f.get(row).i32(c).op(REM_U).i32(4).op(MUL, ADD);
          f.i32(xp).op(ADD).set(tap[i]![0]!);
        },
        segmentDivisor: oh,
        segmentSetup: (f, bb, oy) => {
          // (b·hp + oy·sh)·wp·c·4 for segment (b, oy)
          f.get(bb)
            .i32(hp * wp * c * 4)
            .op(MUL)
            .get(oy)
            .i32(sh * wp * c * 4)
            .op(MUL, ADD)
            .set(seg);
        },
        segment: (f, i) => void f.get(tap[i]![0]!).get(seg).op(ADD),
        skipsEmptySegments: false,
      };
    }
  } else {
    // dx: rows (b, iy, ix), columns ci; segments (ky, kx), each the o floats of g at the output
    // pixel that reads (iy, ix) through that tap, or a zero segment when none does.
    const [batch, oh, ow, o] = src(0) as [number, number, number, number];
    const [kh, kw, c] = src(1) as [number, number, number];
    const [, h, w] = node.shape as [number, number, number, number];
    const B = bOf(kh * kw * o, c, { address: address(1), r1: o, s1: c * o, s0: 1, ns: o }, false);
    pack = B.pack;
    const zeros = take(o * 4);
    zero = { at: zeros, bytes: o * 4 };
    const [img, iy, ix] = [0, 1, 2];
    const loc = rowLocals(3);
    const [dyOf, dxOf] = [f.local(I32), f.local(I32)];
    gemm = {
      m: batch * h * w,
      n: c,
      segments: kh * kw,
      length: o,
      aStride: 4,
      out,
      b: B.layout,
      panelOuter: false,
      rowSetup: (f, row, i) => {
        f.get(row)
          .i32(h * w)
          .op(DIV_U)
          .i32(oh * ow * o * 4)
          .op(MUL)
          .i32(address(0))
          .op(ADD)
          .set(loc[i]![img]!);
        f.get(row).i32(w).op(DIV_U).i32(h).op(REM_U).set(loc[i]![iy]!);
        f.get(row).i32(w).op(REM_U).set(loc[i]![ix]!);
      },
      segmentDivisor: kw,
      segmentSetup: (f, ky, kx) => {
        // ky·dh − pt and kx·dw − pl of tap (ky, kx), so ty = iy − dyOf.
        f.get(ky).i32(dh).op(MUL).i32(-pt).op(ADD).set(dyOf);
        f.get(kx).i32(dw).op(MUL).i32(-pl).op(ADD).set(dxOf);
      },
      segment: (f, i, valid) => {
        // ty = iy + pt − ky·dh must be a non-negative multiple of sh with ty / sh < oh.
        const [ty, tx, ok] = [f.local(I32), f.local(I32), f.local(I32)];
        f.get(loc[i]![iy]!).get(dyOf).op(SUB).set(ty);
        f.get(loc[i]![ix]!).get(dxOf).op(SUB).set(tx);
        // Unsigned: a negative t is huge, so one compare checks both ends.
        f.get(ty)
          .i32(sh * oh)
          .op(LT_U)
          .get(tx)
          .i32(sw * ow)
          .op(LT_U)
          .op(0x71 /* and */);
        if (sh > 1) f.get(ty).i32(sh).op(REM_U).op(0x45).op(0x71);
        if (sw > 1) f.get(tx).i32(sw).op(REM_U).op(0x45).op(0x71);
        f.set(ok);
        // img + ((ty / sh)·ow + tx / sw)·o·4, or the zero segment.
        f.get(loc[i]![img]!);
        f.get(ty);
        if (sh > 1) f.i32(sh).op(DIV_U);
        f.i32(ow * o * 4).op(MUL, ADD);
        f.get(tx);
        if (sw > 1) f.i32(sw).op(DIV_U);
        f.i32(o * 4).op(MUL, ADD);
        f.i32(zeros).get(ok).select();
        if (valid !== undefined) f.get(valid).get(ok).op(OR).set(valid);
      },
      skipsEmptySegments: true,
    };
  }
  preparePhase(prepare, pack, pad, zero);
  const slices = node.op === 'conv2d_filter_grad' ? node.params.slices : undefined;
  if (slices === undefined) computePhase(compute, gemm);
  else {
    // A split filter gradient: slice s is the one-pass GEMM over its (b, oy) segments, stored
    // in slab s; slices run one after another, each shared out over the threads.
    const pairs = gemm.segments;
    for (let sl = 0; sl < slices; sl++) {
      const from = sliceStart(sl, pairs, slices);
      const to = sliceStart(sl + 1, pairs, slices);
      computePhase(compute, {
        ...gemm,
        firstSegment: from,
        segments: to - from,
        out: gemm.out + sl * gemm.m * gemm.n * 4,
      });
    }
  }
  const phases = pack || pad || zero ? [prepare, compute] : [compute];
  const name = epilogue
    ? `${node.op}_${[...new Set(epilogue.roots.map((r) => g.nodes[r]!.op))].join('_')}`
    : node.op;
  return { name, phases, scratchBytes: scratch - ctx.scratch };
}

/**
 * A conv2d kernel (at `order[at]`) and the map kernel after it (its bias and activation) as one
 * kernel anchored at the conv ({@link mapEpilogue}), when the output channels fill whole
 * 8-column panels and no other kernel of the entry (nor the entry's outputs) reads the conv's
 * output, which then is never stored: one pass over the output instead of three.
 */
export function convEpilogue(g: Graph, kernels: readonly FusedKernel[], at: number): FusedKernel | undefined {
  const conv = kernels[at];
  if (!conv || conv.roots.length !== 1 || conv.members.size !== 1) return undefined;
  const node = g.nodes[conv.roots[0]!]!;
  if (node.op !== 'conv2d' || (node.shape[node.shape.length - 1] as number) % NR !== 0) return undefined;
  const reads = (k: FusedKernel) =>
    [...k.members].some((m) => g.nodes[m]!.srcs.includes(node.id) && !k.members.has(node.id));
  if (kernels.some((k, i) => i !== at && i !== at + 1 && reads(k))) return undefined;
  if (g.outputs.some((out) => out.node === node.id)) return undefined;
  return mapEpilogue(g, kernels, at);
}
