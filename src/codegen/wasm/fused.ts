/**
 * Wasm for a fused kernel (see src/ir/passes/fuse.ts), the same three shapes as the WGSL
 * writer: a map over the roots' index (four elements at a time where its ops allow), a reduction with its prologue inside the loop and its
 * epilogue after, or a matmul (matmul.ts) whose store applies the epilogue. Each thread takes
 * a contiguous share of the output elements.
 */
import { type Graph, type Node, sizeOf, slicedRun } from '../../ir/graph.js';
import type { FusedKernel } from '../../ir/passes/fuse.js';
import { contiguousStrides } from '../wgsl/builder.js';
import { F32, I32, V128 } from './encoder.js';
import { F32X4_ADD, F32X4_MAX, V128_ZERO } from './opcodes.js';
import { matmulKernel } from './matmul.js';
import { VectorEpilogue, fourLanesFit, vectorEpilogueFits } from './vector.js';
import { I32_ADD as ADD, I32_DIV_U as DIV_U, I32_MUL as MUL, I32_REM_U as REM_U } from './opcodes.js';
import {
  FusedWriter,
  type Index,
  Scope,
  type WasmContext,
  type WasmKernel,
  kernelFunction,
  forThreadShare,
} from './writer.js';

function kernelName(g: Graph, k: FusedKernel): string {
  const ops = [...k.members].sort((a, b) => a - b).map((m) => g.nodes[m]!.op);
  const anchor = k.anchor !== undefined ? g.nodes[k.anchor]!.op : undefined;
  const rest = [...new Set(ops.filter((o) => o !== anchor))];
  const name = [anchor, ...rest.slice(0, 3)].filter(Boolean).join('_');
  return rest.length > 3 ? `${name}_etc` : name;
}

function mapKernel(w: FusedWriter, n: number): void {
  const f = w.f;
  const i = f.local(I32);
  // Four elements at a time where every four consecutive ones lie in one row of the output and
  // every member has a four-lane form (vector.ts): the same IEEE operations, lane by lane.
  const shape = w.g.nodes[w.k.roots[0]!]!.shape as number[];
  const last = shape[shape.length - 1] ?? 1;
  if (last % 4 === 0 && vectorEpilogueFits(w.g, w.k, last)) {
    const vector = new VectorEpilogue(w);
    const q = f.local(I32);
    forThreadShare(f, n / 4, q, () => {
      f.get(q).i32(2).op(0x74 /* shl */).set(i);
      vector.storeRoots(undefined, { local: i, key: 'i' });
    });
    return;
  }
  forThreadShare(f, n, i, () => w.storeRoots({ local: i, key: 'i' }));
}

/** A sliced reduction (the WGSL writer's slicedReduceBody): one loop over the slice's run elements. */
function slicedReduceKernel(w: FusedWriter, anchor: Node<'sum' | 'reduce_max'>, n: number): void {
  const f = w.f;
  const x = w.g.nodes[anchor.srcs[0]!]!;
  const slices = anchor.params.slices!;
  const { run, post } = slicedRun(x.shape as number[], anchor.params.axes);
  const [i, s, base, r, hi, at] = Array.from({ length: 6 }, () => f.local(I32));
  const acc = f.local(F32);
  forThreadShare(f, n, i, () => {
    const outer = new Scope();
    const out: Index = { local: i, key: 'i' };
    // s = (i / post) % S; base = (i / (post·S))·R·post + i % post; r from ⌊s·R/S⌋ to ⌊(s+1)·R/S⌋.
    f.get(i).i32(post).op(DIV_U).i32(slices).op(REM_U).set(s);
    f.get(i)
      .i32(post * slices)
      .op(DIV_U)
      .i32(run * post)
      .op(MUL)
      .get(i)
      .i32(post)
      .op(REM_U)
      .op(ADD)
      .set(base);
    f.get(s).i32(run).op(MUL).i32(slices).op(DIV_U).set(r);
    f.get(s).i32(1).op(ADD).i32(run).op(MUL).i32(slices).op(DIV_U).set(hi);
    const element = () => {
      f.get(r).i32(post).op(MUL).get(base).op(ADD).set(at);
      return w.valueAt(x.id, { local: at, key: 'at' }, new Scope(outer));
    };
    if (anchor.op === 'sum') f.f32(0).set(acc);
    else f.get(element()).set(acc);
    f.forRange(
      r,
      () => f.get(r),
      () => f.get(hi),
      () => {
        f.get(acc)
          .get(element())
          .op(anchor.op === 'sum' ? 0x92 : 0x97)
          .set(acc);
      },
    );
    w.anchorValue = acc;
    w.storeRoots(out, outer);
  });
}

function reduceKernel(w: FusedWriter, anchor: Node<'sum' | 'reduce_max'>, n: number): void {
  if (anchor.params.slices !== undefined) return slicedReduceKernel(w, anchor, n);
  const f = w.f;
  const x = w.g.nodes[anchor.srcs[0]!]!;
  const inShape = x.shape as number[];
  const inStrides = contiguousStrides(inShape);
  const { axes } = anchor.params;
  const kept = inShape.map((_, d) => d).filter((d) => !axes.includes(d));
  const reduced = axes.filter((d) => inShape[d]! > 1);
  const last = inShape.length - 1;
  // Four outputs at a time when the last axis is kept (four consecutive outputs read four
  // consecutive inputs at every step) and the prologue has four-lane forms: each lane sums its
  // own output in the same order, so the same bits as one at a time.
  const lanes =
    last >= 0 &&
    !axes.includes(last) &&
    inShape[last]! % 4 === 0 &&
    fourLanesFit(w.g, w.k, x.id, inShape[last]!)
      ? 4
      : 1;
  const vector = new VectorEpilogue(w);
  const [q, i, acc] = [f.local(I32), f.local(I32), f.local(F32)];
  const vacc = f.local(V128);
  forThreadShare(f, n / lanes, q, () => {
    if (lanes === 4) f.get(q).i32(2).op(0x74 /* shl */).set(i);
    else f.get(q).set(i);
    const outer = new Scope();
    const out: Index = { local: i, key: 'i' };
    const base = w.offset(
      kept.map((d) => inShape[d]!),
      kept.map((d) => inStrides[d]!),
      out,
      outer,
    );
    const valueAt = (offset: Index) =>
      lanes === 4 ? vector.value(x.id, offset, new Scope(outer)) : w.valueAt(x.id, offset, new Scope(outer));
    if (anchor.op === 'sum') (lanes === 4 ? f.op(...V128_ZERO) : f.f32(0)).set(lanes === 4 ? vacc : acc);
    else f.get(valueAt(base)).set(lanes === 4 ? vacc : acc);
    // Nested loops over the reduced axes, the offset kept in one local per depth.
    const loop = (depth: number, offset: Index) => {
      if (depth === reduced.length) {
        const value = valueAt(offset);
        if (lanes === 4)
          f.get(vacc)
            .get(value)
            .op(...(anchor.op === 'sum' ? F32X4_ADD : F32X4_MAX))
            .set(vacc);
        else
          f.get(acc)
            .get(value)
            .op(anchor.op === 'sum' ? 0x92 : 0x97)
            .set(acc);
        return;
      }
      const d = reduced[depth]!;
      const r = f.local(I32);
      const at = f.local(I32);
      f.forRange(
        r,
        () => f.i32(0),
        () => f.i32(inShape[d]!),
        () => {
          f.get(offset.local).get(r).i32(inStrides[d]!).op(0x6c, 0x6a).set(at);
          loop(depth + 1, { local: at, key: `${offset.key}+r${d}` });
        },
      );
    };
    loop(0, base);
    if (lanes === 1) {
      w.anchorValue = acc;
      w.storeRoots(out, outer);
    } else if (vectorEpilogueFits(w.g, w.k, inShape[last]!)) {
      vector.storeRoots(vacc, out);
    } else {
      // The epilogue one output at a time, from each lane.
      const at = f.local(I32);
      for (let j = 0; j < 4; j++) {
        f.get(vacc).op(0xfd, 0x1f, j /* f32x4.extract_lane */).set(acc);
        f.get(i).i32(j).op(0x6a).set(at);
        w.anchorValue = acc;
        w.storeRoots({ local: at, key: `i+${j}` });
      }
    }
  });
}

/** The wasm of one fused kernel, given where every stored value lives. */
export function fusedKernel(
  g: Graph,
  k: FusedKernel,
  bufferOf: ReadonlyMap<number, number>,
  ctx: WasmContext,
): WasmKernel {
  const name = kernelName(g, k);
  const anchor = k.anchor === undefined ? undefined : g.nodes[k.anchor]!;
  if (anchor?.op === 'matmul') return { name, ...matmulKernel(g, k, anchor, bufferOf, ctx) };
  const f = kernelFunction();
  const w = new FusedWriter(f, g, k, bufferOf, ctx);
  const size = sizeOf(g.nodes[k.roots[0]!]!.shape as number[]);
  if (anchor) {
    if (anchor.op !== 'sum' && anchor.op !== 'reduce_max')
      throw new Error(`internal: ${anchor.op} anchors a kernel`);
    reduceKernel(w, anchor, size);
  } else mapKernel(w, size);
  return { name, phases: [f], scratchBytes: 0 };
}
