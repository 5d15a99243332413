/**
 * Ops that move elements by index: gather (table rows picked by index) and its adjoint
 * scatter_add, one_hot, slice and concat. Indices are f32 values holding integers (every buffer
 * is f32); an index is rounded to the nearest integer, and one out of range reads zeros and
 * receives no gradient. Shape rule, reference and VJP of each, side by side.
 */
import type { GraphBuilder } from '../builder.js';
import { type Dim, type Node, type Shape, shapeToString } from '../graph.js';
import { type DType, type Tensor, allocate } from '../tensor.js';

type ShapeResult = Shape | { readonly error: string };
interface Ctx {
  readonly dtype: DType;
}

const sizeOfBound = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** The row an index value selects (⌊v + ½⌋), or −1 when it is out of `[0, rows)`. */
export function indexRow(v: number, rows: number): number {
  const i = Math.floor(v + 0.5);
  return i >= 0 && i < rows ? i : -1;
}

// ---------------------------------------------------------------------------------------------
// Shape rules.

export function gatherShape([table, idx]: readonly Shape[]): ShapeResult {
  if (table!.length < 1 || typeof table![0] !== 'number')
    return { error: `gather needs a table with a fixed number of rows, got ${shapeToString(table!)}` };
  return [...idx!, ...table!.slice(1)];
}

export function scatterAddShape([idx, g]: readonly Shape[], p: { rows: number }): ShapeResult {
  const lead = g!.slice(0, idx!.length);
  if (lead.length !== idx!.length || lead.some((d, i) => d !== idx![i]))
    return {
      error: `scatter_add: the values ${shapeToString(g!)} do not start with the index shape ${shapeToString(idx!)}`,
    };
  return [p.rows, ...g!.slice(idx!.length)];
}

export function oneHotShape([idx]: readonly Shape[], p: { depth: number }): ShapeResult {
  return p.depth >= 1 ? [...idx!, p.depth] : { error: `one_hot needs a depth of at least 1, got ${p.depth}` };
}

export function sliceShape(
  [x]: readonly Shape[],
  p: { axis: number; start: number; size: number },
): ShapeResult {
  if (p.axis < 0 || p.axis >= x!.length)
    return { error: `axis ${p.axis} is out of range for a tensor of shape ${shapeToString(x!)}` };
  const d = x![p.axis]!;
  if (typeof d !== 'number')
    return { error: `cannot slice the symbolic dimension ${d} of ${shapeToString(x!)}` };
  if (p.start < 0 || p.size < 1 || p.start + p.size > d)
    return {
      error: `slice [${p.start}, ${p.start + p.size}) of axis ${p.axis} is out of range for ${shapeToString(x!)}`,
    };
  return x!.map((e, i) => (i === p.axis ? p.size : e));
}

export function padShape(
  [x]: readonly Shape[],
  p: { axis: number; before: number; after: number },
): ShapeResult {
  if (p.axis < 0 || p.axis >= x!.length)
    return { error: `axis ${p.axis} is out of range for a tensor of shape ${shapeToString(x!)}` };
  const d = x![p.axis]!;
  if (typeof d !== 'number')
    return { error: `cannot pad the symbolic dimension ${d} of ${shapeToString(x!)}` };
  if (p.before < 0 || p.after < 0)
    return { error: `padding must be non-negative, got ${p.before} and ${p.after}` };
  return x!.map((e, i) => (i === p.axis ? d + p.before + p.after : e));
}

export function concatShape(srcs: readonly Shape[], p: { axis: number }): ShapeResult {
  const first = srcs[0];
  if (!first) return { error: 'concat needs at least one tensor' };
  if (p.axis < 0 || p.axis >= first.length)
    return { error: `axis ${p.axis} is out of range for a tensor of shape ${shapeToString(first)}` };
  let total = 0;
  for (const s of srcs) {
    const d = s[p.axis];
    const others = (t: Shape) => t.filter((_, i) => i !== p.axis).join(',');
    if (s.length !== first.length || others(s) !== others(first))
      return {
        error: `cannot concatenate ${shapeToString(first)} and ${shapeToString(s)} along axis ${p.axis}: the other dimensions differ`,
      };
    if (typeof d !== 'number')
      return { error: `cannot concatenate along the symbolic dimension ${d} of ${shapeToString(s)}` };
    total += d;
  }
  return first.map((e: Dim, i) => (i === p.axis ? total : e));
}

// ---------------------------------------------------------------------------------------------
// Reference implementations.

export function gatherReference(table: Tensor, idx: Tensor, ctx: Ctx): Tensor {
  const rows = table.shape[0]!;
  const row = sizeOfBound(table.shape.slice(1));
  const out = allocate(ctx.dtype, idx.data.length * row);
  for (let i = 0; i < idx.data.length; i++) {
    const r = indexRow(idx.data[i]!, rows);
    if (r >= 0) out.set(table.data.subarray(r * row, (r + 1) * row), i * row);
  }
  return { shape: [...idx.shape, ...table.shape.slice(1)], data: out };
}

export function scatterAddReference(idx: Tensor, g: Tensor, rows: number, ctx: Ctx): Tensor {
  const rowShape = g.shape.slice(idx.shape.length);
  const row = sizeOfBound(rowShape);
  const out = allocate(ctx.dtype, rows * row);
  for (let i = 0; i < idx.data.length; i++) {
    const r = indexRow(idx.data[i]!, rows);
    if (r < 0) continue;
    for (let k = 0; k < row; k++) out[r * row + k]! += g.data[i * row + k]!;
  }
  return { shape: [rows, ...rowShape], data: out };
}

export function oneHotReference(idx: Tensor, depth: number, ctx: Ctx): Tensor {
  const out = allocate(ctx.dtype, idx.data.length * depth);
  for (let i = 0; i < idx.data.length; i++) {
    const r = indexRow(idx.data[i]!, depth);
    if (r >= 0) out[i * depth + r] = 1;
  }
  return { shape: [...idx.shape, depth], data: out };
}

/** Splits a shape around `axis` into (outer count, axis length, inner count). */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOfBound(shape.slice(0, axis)), shape[axis]!, sizeOfBound(shape.slice(axis + 1))];
}

export function sliceReference(
  x: Tensor,
  p: { axis: number; start: number; size: number },
  ctx: Ctx,
): Tensor {
  const [outer, len, inner] = around(x.shape, p.axis);
  const out = allocate(ctx.dtype, outer * p.size * inner);
  for (let o = 0; o < outer; o++)
    out.set(
      x.data.subarray((o * len + p.start) * inner, (o * len + p.start + p.size) * inner),
      o * p.size * inner,
    );
  return { shape: x.shape.map((d, i) => (i === p.axis ? p.size : d)), data: out };
}

export function padReference(
  x: Tensor,
  p: { axis: number; before: number; after: number },
  ctx: Ctx,
): Tensor {
  const [outer, len, inner] = around(x.shape, p.axis);
  const total = len + p.before + p.after;
  const out = allocate(ctx.dtype, outer * total * inner);
  for (let o = 0; o < outer; o++)
    out.set(x.data.subarray(o * len * inner, (o + 1) * len * inner), (o * total + p.before) * inner);
  return { shape: x.shape.map((d, i) => (i === p.axis ? total : d)), data: out };
}

export function concatReference(srcs: readonly Tensor[], axis: number, ctx: Ctx): Tensor {
  const total = srcs.reduce((a, s) => a + s.shape[axis]!, 0);
  const shape = srcs[0]!.shape.map((d, i) => (i === axis ? total : d));
  const [outer, , inner] = around(shape, axis);
  const out = allocate(ctx.dtype, sizeOfBound(shape));
  let offset = 0;
  for (const s of srcs) {
    const len = s.shape[axis]!;
    for (let o = 0; o < outer; o++)
      out.set(s.data.subarray(o * len * inner, (o + 1) * len * inner), (o * total + offset) * inner);
    offset += len;
  }
  return { shape, data: out };
}

// ---------------------------------------------------------------------------------------------
// VJPs.

export function gatherVjp(b: GraphBuilder, node: Node<'gather'>, g: number): (number | null)[] {
  const [table, idx] = node.srcs as [number, number];
  return [b.emit('scatter_add', [idx, g], { rows: b.shapeOf(table)[0] as number }), null];
}

export function scatterAddVjp(b: GraphBuilder, node: Node<'scatter_add'>, ct: number): (number | null)[] {
  return [null, b.emit('gather', [ct, node.srcs[0]!], {})];
}

/** The adjoint of a slice puts the cotangent back between zeros. */
export function sliceVjp(b: GraphBuilder, node: Node<'slice'>, g: number): (number | null)[] {
  const x = b.shapeOf(node.srcs[0]!);
  const { axis, start, size } = node.params;
  const after = (x[axis] as number) - start - size;
  return [start === 0 && after === 0 ? g : b.emit('pad', [g], { axis, before: start, after })];
}

/** The adjoint of padding is the slice that drops the zeros. */
export function padVjp(b: GraphBuilder, node: Node<'pad'>, g: number): (number | null)[] {
  const { axis, before } = node.params;
  return [b.emit('slice', [g], { axis, start: before, size: b.shapeOf(node.srcs[0]!)[axis] as number })];
}

export function concatVjp(b: GraphBuilder, node: Node<'concat'>, g: number): (number | null)[] {
  const { axis } = node.params;
  let start = 0;
  return node.srcs.map((s) => {
    const size = b.shapeOf(s)[axis] as number;
    const part = b.emit('slice', [g], { axis, start, size });
    start += size;
    return part;
  });
}
