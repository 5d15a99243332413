/**
 * Wasm for `image_shift` (either direction): each output pixel copies the pixel its image's
 * (dy, dx, flip) row points at, or zeros when that lies outside the image. The moves round as
 * the reference does (src/ir/ops/image.ts: ⌊v + ½⌋, flip when ≥ ½), so the random augmentation
 * drawn before it moves the same pixels on every backend. Threads share out the output rows.
 */
import type { Node } from '../../ir/graph.js';
import { MOVE_COLUMNS } from '../../ir/ops/image.js';
import type { PlannedKernel } from '../target.js';
import { type FunctionBody, I32 } from './encoder.js';
import { type WasmContext, type WasmKernel, kernelFunction, forThreadShare } from './writer.js';
import {
  I32_ADD as ADD,
  I32_SUB as SUB,
  I32_MUL as MUL,
  I32_DIV_U as DIV_U,
  I32_REM_U as REM_U,
  I32_LT_U as LT_U,
} from './opcodes.js';

/** Channels up to this many are copied with scalar loads; wider pixels with memory.copy. */
const SCALAR_CHANNELS = 4;

/** Pushes move column `k` of image `s` rounded to the whole pixels it stands for, as i32. */
function pushMove(f: FunctionBody, moves: number, s: number, k: number): FunctionBody {
  f.get(s)
    .i32(MOVE_COLUMNS * 4)
    .op(MUL)
    .loadF32(moves + k * 4);
  return f.f32(0.5).op(0x92, 0x8e /* f32.add, f32.floor */).op(0xfc, 0x00 /* i32.trunc_sat_f32_s */);
}

export function imageShiftKernel(
  { bufferOf }: PlannedKernel,
  node: Node<'image_shift'>,
  ctx: WasmContext,
): WasmKernel {
  const f = kernelFunction();
  const I = () => f.local(I32);
  const [n, h, w, c] = node.shape as [number, number, number, number];
  const x = ctx.address(bufferOf.get(node.srcs[0]!)!);
  const moves = ctx.address(bufferOf.get(node.srcs[1]!)!);
  const out = ctx.address(bufferOf.get(node.id)!);
  const { adjoint } = node.params;
  const pixel = c * 4;
  const [q, s, r, j, dy, dx, flip, sr, sj, dst, src] = Array.from({ length: 11 }, I);
  /** Pushes the mirrored column (w − 1 − v when flip) of the i32 on the stack. */
  const mirror = () => {
    const v = I();
    f.set(v);
    f.i32(w - 1)
      .get(v)
      .op(SUB)
      .get(v)
      .get(flip)
      .select();
  };
  forThreadShare(f, n * h, q, () => {
    // Output row q = (s, r); its source row sr = r ∓ dy.
    f.get(q).i32(h).op(DIV_U).set(s);
    f.get(q).i32(h).op(REM_U).set(r);
    pushMove(f, moves, s, 0).set(dy);
    pushMove(f, moves, s, 1).set(dx);
    f.get(s)
      .i32(MOVE_COLUMNS * 4)
      .op(MUL)
      .loadF32(moves + 8)
      .f32(0.5)
      .op(0x60 /* f32.ge */)
      .set(flip);
    f.get(r)
      .get(dy)
      .op(adjoint ? ADD : SUB)
      .set(sr);
    f.get(q)
      .i32(w * pixel)
      .op(MUL)
      .i32(out)
      .op(ADD)
      .set(dst);
    // A negative source row is huge unsigned: one compare checks both ends.
    f.get(sr).i32(h).op(LT_U).if();
    f.forRange(
      j,
      () => f.i32(0),
      () => f.i32(w),
      () => {
        if (adjoint) {
          f.get(j).get(dx).op(ADD);
          mirror();
        } else {
          f.get(j);
          mirror();
          f.get(dx).op(SUB);
        }
        f.set(sj);
        f.get(sj).i32(w).op(LT_U).if();
        f.get(s)
          .i32(h)
          .op(MUL)
          .get(sr)
          .op(ADD)
          .i32(w)
          .op(MUL)
          .get(sj)
          .op(ADD)
          .i32(pixel)
          .op(MUL)
          .i32(x)
          .op(ADD)
          .set(src);
        if (c <= SCALAR_CHANNELS)
          for (let k = 0; k < c; k++)
            f.get(dst)
              .get(src)
              .loadF32(k * 4)
              .storeF32(k * 4);
        else f.get(dst).get(src).i32(pixel).op(0xfc, 0x0a, 0x00, 0x00 /* memory.copy */);
        f.else();
        f.get(dst).i32(0).i32(pixel).op(0xfc, 0x0b, 0x00 /* memory.fill */);
        f.end();
        f.get(dst).i32(pixel).op(ADD).set(dst);
      },
    );
    f.else();
    f.get(dst)
      .i32(0)
      .i32(w * pixel)
      .op(0xfc, 0x0b, 0x00);
    f.end();
  });
  return { name: node.op, phases: [f], scratchBytes: 0 };
}
