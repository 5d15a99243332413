/**
 * Wasm for a fused kernel (see src/ir/passes/fuse.ts), the same three shapes as the WGSL
 * writer: a map over the roots' index, a reduction with its prologue inside the loop and its
 * epilogue after, or a matmul (matmul.ts) whose store applies the epilogue. Each thread takes
 * a contiguous share of the output elements.
 */
import { type Graph, type Node, sizeOf } from '../../ir/graph.js';
import type { FusedKernel } from '../../ir/passes/fuse.js';
import { contiguousStrides } from '../wgsl/builder.js';
import { F32, I32 } from './encoder.js';
import { matmulKernel } from './matmul.js';
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
  forThreadShare(f, n, i, () => w.storeRoots({ local: i, key: 'i' }));
}

/** A sliced reduction (the WGSL writer's slicedReduceKernel): one loop over the slice's run elements. */
function slicedReduceKernel(w: FusedWriter, anchor: Node<'sum' | 'reduce_max'>, n: number): void {
  const f = w.f;
  const x = w.g.nodes[anchor.srcs[0]!]!;
  const inShape = x.shape as number[];
  const { axes } = anchor.params;
  const slices = anchor.params.slices!;
  const from = Math.min(...axes);
  const run = axes.reduce((a, d) => a * inShape[d]!, 1);
  const post = sizeOf(inShape.slice(from + axes.length));
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
  const [i, acc] = [f.local(I32), f.local(F32)];
  forThreadShare(f, n, i, () => {
    const outer = new Scope();
    const out: Index = { local: i, key: 'i' };
    const base = w.offset(
      kept.map((d) => inShape[d]!),
      kept.map((d) => inStrides[d]!),
      out,
      outer,
    );
    if (anchor.op === 'sum') f.f32(0).set(acc);
    else f.get(w.valueAt(x.id, base, new Scope(outer))).set(acc);
    // Nested loops over the reduced axes, the offset kept in one local per depth.
    const loop = (depth: number, offset: Index) => {
      if (depth === reduced.length) {
        const value = w.valueAt(x.id, offset, new Scope(outer));
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
    w.anchorValue = acc;
    w.storeRoots(out, outer);
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
  if (anchor?.op === 'matmul')
    return { name, ...matmulKernel(g, k, anchor as Node<'matmul'>, bufferOf, ctx) };
  const f = kernelFunction();
  const w = new FusedWriter(f, g, k, bufferOf, ctx);
  const size = sizeOf(g.nodes[k.roots[0]!]!.shape as number[]);
  if (anchor) reduceKernel(w, anchor as Node<'sum' | 'reduce_max'>, size);
  else mapKernel(w, size);
  return { name, phases: [f], scratchBytes: 0 };
}
