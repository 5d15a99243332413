/**
 * Wasm for the kernels that read by index, one element of the output per iteration, each
 * thread taking a contiguous share: gather (table rows), scatter_add (its adjoint, looping over
 * the indices per output element, so no atomics), one_hot, and slice, pad and concat along one
 * axis. Indices are f32 values rounded as ⌊v + ½⌋; one out of range selects nothing, as the
 * reference (src/ir/ops/indexing.ts) and the WGSL kernels.
 */
import { type Node, sizeOf } from '../../ir/graph.js';
import type { PlannedKernel } from '../target.js';
import { F32, I32 } from './encoder.js';
import {
  type WasmContext,
  type WasmKernel,
  kernelFunction,
  forThreadShare,
  pushByteOffset,
} from './writer.js';

type IndexingOp = 'gather' | 'scatter_add' | 'one_hot' | 'slice' | 'pad' | 'concat';

function around(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];
}

export function indexingKernel(
  { g, bufferOf }: PlannedKernel,
  node: Node<IndexingOp>,
  ctx: WasmContext,
): WasmKernel {
  const f = kernelFunction();
  const out = node.shape as number[];
  const shape = (k: number) => g.nodes[node.srcs[k]!]!.shape as number[];
  const at = f.local(I32);
  /** Pushes source `k` at the element index `index()` pushes (an i32). */
  const load = (k: number, index: () => void) => {
    const src = g.nodes[node.srcs[k]!]!;
    if (src.op === 'const') return void f.f32(src.params.value);
    index();
    f.set(at);
    pushByteOffset(f, at).loadF32(ctx.address(bufferOf.get(src.id)!));
  };
  const row = f.local(I32);
  const value = f.local(F32);
  /** Sets `row` to the row index value `v` (an f32 local) selects among `rows`, or −1. */
  const rowOf = (rows: number) => {
    f.get(value).f32(0.5).op(0x92, 0x8e /* add, floor */).op(0xfc, 0x00 /* i32.trunc_sat_f32_s */);
    f.i32(-1);
    f.get(value)
      .f32(-0.5)
      .op(0x60 /* ge */)
      .get(value)
      .f32(rows - 0.5)
      .op(0x5d /* lt */)
      .op(0x71 /* and */);
    f.select().set(row);
  };
  const [i, o, j, k] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const n = sizeOf(out);
  const split = (len: number, inner: number) => {
    f.get(i)
      .i32(len * inner)
      .op(0x6e)
      .set(o);
    f.get(i).i32(inner).op(0x6e).i32(len).op(0x70).set(j);
    f.get(i).i32(inner).op(0x70).set(k);
  };
  forThreadShare(f, n, i, () => {
    pushByteOffset(f, i); // the store's address, under the value
    switch (node.op) {
      case 'one_hot': {
        const depth = out[out.length - 1]!;
        load(0, () => f.get(i).i32(depth).op(0x6e));
        f.set(value);
        rowOf(depth);
        f.get(row).get(i).i32(depth).op(0x70).op(0x46).op(0xb3 /* f32.convert_i32_u */);
        break;
      }
      case 'gather': {
        const table = shape(0);
        const width = sizeOf(table.slice(1));
        load(1, () => f.get(i).i32(width).op(0x6e));
        f.set(value);
        rowOf(table[0]!);
        f.get(row).i32(0).op(0x4e /* ge_s */).if(F32);
        load(0, () => f.get(row).i32(width).op(0x6c).get(i).i32(width).op(0x70).op(0x6a));
        f.else().f32(0).end();
        break;
      }
      case 'scatter_add': {
        const count = sizeOf(shape(0));
        const width = sizeOf(out.slice(1));
        const [acc, r, c, q] = [f.local(F32), f.local(I32), f.local(I32), f.local(I32)];
        f.get(i).i32(width).op(0x6e).set(r);
        f.get(i).i32(width).op(0x70).set(c);
        f.f32(0).set(acc);
        f.forRange(
          q,
          () => f.i32(0),
          () => f.i32(count),
          () => {
            load(0, () => f.get(q));
            f.set(value);
            rowOf(out[0]!);
            f.get(row).get(r).op(0x46).if();
            f.get(acc);
            load(1, () => f.get(q).i32(width).op(0x6c).get(c).op(0x6a));
            f.op(0x92).set(acc);
            f.end();
          },
        );
        f.get(acc);
        break;
      }
      case 'slice': {
        const { axis, start } = node.params;
        const [, len, inner] = around(out, axis);
        const srcLen = shape(0)[axis]!;
        split(len, inner);
        load(0, () =>
          f
            .get(o)
            .i32(srcLen)
            .op(0x6c)
            .get(j)
            .op(0x6a)
            .i32(start)
            .op(0x6a)
            .i32(inner)
            .op(0x6c)
            .get(k)
            .op(0x6a),
        );
        break;
      }
      case 'pad': {
        const { axis, before } = node.params;
        const [, len, inner] = around(out, axis);
        const srcLen = shape(0)[axis]!;
        split(len, inner);
        // j − before < srcLen as unsigned: also false for j < before.
        f.get(j).i32(before).op(0x6b).i32(srcLen).op(0x49 /* lt_u */).if(F32);
        load(0, () =>
          f
            .get(o)
            .i32(srcLen)
            .op(0x6c)
            .get(j)
            .op(0x6a)
            .i32(before)
            .op(0x6b)
            .i32(inner)
            .op(0x6c)
            .get(k)
            .op(0x6a),
        );
        f.else().f32(0).end();
        break;
      }
      case 'concat': {
        const { axis } = node.params;
        const [, len, inner] = around(out, axis);
        split(len, inner);
        // The first source whose range along the axis holds j: nested if / else.
        const emit = (s: number, offset: number) => {
          const size = shape(s)[axis]!;
          const read = () =>
            load(s, () =>
              f
                .get(o)
                .i32(size)
                .op(0x6c)
                .get(j)
                .op(0x6a)
                .i32(offset)
                .op(0x6b)
                .i32(inner)
                .op(0x6c)
                .get(k)
                .op(0x6a),
            );
          if (s === node.srcs.length - 1) return read();
          f.get(j)
            .i32(offset + size)
            .op(0x49)
            .if(F32);
          read();
          f.else();
          emit(s + 1, offset + size);
          f.end();
        };
        emit(0, 0);
        break;
      }
    }
    f.storeF32(ctx.address(bufferOf.get(node.id)!));
  });
  return { name: node.op, phases: [f], scratchBytes: 0 };
}
