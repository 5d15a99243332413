/**
 * Row-block kernels: everything a step computes on one `[rows, cols]` tensor and its per-row and
 * scalar reductions, as ONE kernel. Softmax + cross-entropy is the case this exists for: the
 * probabilities, the per-row loss, its gradient with respect to the logits, the loss sum, the
 * accuracy count and the sample count were a dozen dispatches on a [100, 10] tensor.
 *
 * Every member of such a kernel is a function of the row `r`, the column `c`, both, or neither
 * (a scalar). The kernel runs in stages: in each, every row computes its per-row and per-element
 * values (a per-row reduction is a loop over the columns) and its share of the cross-row sums;
 * between stages the cross-row sums are combined in a fixed order, so the result is
 * deterministic. Scalars are stored once, after the last stage. This module decides which
 * kernels form one (`formRowKernels`) and writes the target-independent program of one
 * (`rowProgram`); wgsl/rows.ts and wasm/rows.ts render it.
 */
import { type Graph, type Node, ELEMENTWISE_OPS, sizeOf } from '../ir/graph.js';
import {
  FUSED_ROOT_OPS,
  type FusedGraph,
  type FusedKernel,
  MAX_BINDINGS,
  type RowBlock,
  bindingCount,
  kernelReads,
  updateTargets,
} from '../ir/passes/fuse.js';
import { schedulable } from './plan.js';

export type { RowBlock } from '../ir/passes/fuse.js';

/**
 * The largest row block (elements) a kernel of one workgroup takes on: beyond it the block
 * should be split over workgroups, which this kernel shape does not do yet.
 */
export const MAX_ROW_BLOCK_ELEMENTS = 1 << 16;

/** What a flat index of a value depends on, per axis: the row, the column, or nothing. */
type Coord = 'r' | 'c' | '0';

/** Where a value is computed: once, once per row, or once per element of a row. */
export type RowLevel = 'scalar' | 'row' | 'element';

/** The index of a value as `r·row + c·col`. */
export interface RowIndex {
  readonly row: number;
  readonly col: number;
}

/** The axes of a shape as coordinates of the block, or undefined if it is not of the block. */
function coordsOf(shape: readonly number[], b: RowBlock): Coord[] | undefined {
  if (shape.length === 0) return [];
  if (shape.length === 1) {
    const n = shape[0]!;
    if (n === 1) return ['0'];
    if (n === b.rows) return ['r'];
    if (n === b.cols) return ['c'];
    return undefined;
  }
  if (shape.length !== 2) return undefined;
  const [a, c] = shape as [number, number];
  const d0: Coord | undefined = a === 1 ? '0' : a === b.rows ? 'r' : undefined;
  const d1: Coord | undefined = c === 1 ? '0' : c === b.cols ? 'c' : undefined;
  return d0 && d1 ? [d0, d1] : undefined;
}

/**
 * Where a value of these coordinates is computed. A value of the columns alone is one only in a
 * block of one row (stored from each row, every row would write it).
 */
function levelOf(coords: readonly Coord[], b: RowBlock): RowLevel | undefined {
  const r = coords.includes('r');
  const c = coords.includes('c');
  if (c && !r) return b.rows === 1 ? 'element' : undefined;
  return c ? 'element' : r ? 'row' : 'scalar';
}

/** The flat index of a value of `shape` whose axes are `coords`. */
function indexOf(shape: readonly number[], coords: readonly Coord[]): RowIndex {
  let row = 0;
  let col = 0;
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (coords[d] === 'r') row += stride;
    if (coords[d] === 'c') col += stride;
    stride *= shape[d]!;
  }
  return { row, col };
}

/** NumPy broadcasting: the coordinates a consumer with `outCoords` reads a source of `shape` at. */
function alignedCoords(shape: readonly number[], outCoords: readonly Coord[]): Coord[] {
  const lead = outCoords.length - shape.length;
  return shape.map((n, d) => (n === 1 ? '0' : outCoords[lead + d]!));
}

const sameCoords = (a: readonly Coord[], b: readonly Coord[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** What the analysis of a candidate member set finds, or why it is not a row kernel. */
interface RowAnalysis {
  readonly level: ReadonlyMap<number, RowLevel>;
  readonly stage: ReadonlyMap<number, number>;
  /** Where each member reads each of its sources (by source position). */
  readonly reads: ReadonlyMap<number, readonly RowIndex[]>;
  /** Sums over the rows: their partials are combined between stages. */
  readonly crossRow: ReadonlySet<number>;
  /** Reductions over the columns: a loop per row. */
  readonly overColumns: ReadonlySet<number>;
}

/**
 * Checks that `members` can be computed as a row kernel of `b` and finds each member's level and
 * stage. Members are elementwise ops, broadcasts and reshapes that keep each value's layout,
 * one_hot, reductions over the columns and sums over the rows.
 */
function analyze(g: Graph, members: ReadonlySet<number>, b: RowBlock): RowAnalysis | undefined {
  const level = new Map<number, RowLevel>();
  const stage = new Map<number, number>();
  const reads = new Map<number, RowIndex[]>();
  const crossRow = new Set<number>();
  const overColumns = new Set<number>();
  for (const id of [...members].sort((x, y) => x - y)) {
    const n = g.nodes[id]!;
    const own = coordsOf(n.shape as number[], b);
    if (!own) return undefined;
    const lv = levelOf(own, b);
    if (!lv) return undefined;
    level.set(id, lv);
    // Where the member reads each source, as coordinates of the source's axes.
    let srcCoords: (Coord[] | undefined)[];
    if (ELEMENTWISE_OPS.has(n.op) || n.op === 'broadcast') {
      srcCoords = n.srcs.map((s) => alignedCoords(g.nodes[s]!.shape as number[], own));
    } else if (n.op === 'reshape' || n.op === 'one_hot' || n.op === 'sum' || n.op === 'reduce_max') {
      // The partial pass of a split reduction is a kernel of its own.
      if ((n.op === 'sum' || n.op === 'reduce_max') && n.params.slices !== undefined) return undefined;
      srcCoords = [coordsOf(g.nodes[n.srcs[0]!]!.shape as number[], b)];
    } else return undefined;
    if (srcCoords.some((c) => !c)) return undefined;
    const srcLevels = srcCoords.map((c) => levelOf(c!, b));
    // A stored vector of the columns (a bias) may be read per element; computed here, it may not.
    const elementwise = ELEMENTWISE_OPS.has(n.op) || n.op === 'broadcast';
    if (srcLevels.some((l, k) => !l && (members.has(n.srcs[k]!) || !elementwise))) return undefined;
    if (n.op === 'reshape' && srcLevels[0] !== lv) return undefined;
    if (n.op === 'one_hot' && !(lv === 'element' && srcLevels[0] === 'row')) return undefined;
    let crosses = false;
    if (n.op === 'sum' || n.op === 'reduce_max') {
      const src = srcCoords[0]!;
      const { axes, keepDims } = n.params;
      const reduced = new Set(axes.map((a) => src[a]!).filter((c) => c !== '0'));
      const kept = src.flatMap((c, d) => (axes.includes(d) ? (keepDims ? ['0' as Coord] : []) : [c]));
      if (!sameCoords(kept.length ? kept : [], own.length ? own : [])) {
        // A reduction to a scalar written as [1] rather than []: the same single value.
        if (!(kept.every((c) => c === '0') && own.every((c) => c === '0'))) return undefined;
      }
      if (reduced.has('r')) {
        // Across the rows: only sums of per-row values, combined between stages.
        if (n.op !== 'sum' || reduced.has('c') || srcLevels[0] !== 'row') return undefined;
        crosses = true;
        crossRow.add(id);
      } else if (reduced.has('c')) overColumns.add(id);
    }
    // A member's sources computed here must be read at their own layout.
    let st = 0;
    for (const [k, s] of n.srcs.entries()) {
      if (!members.has(s)) continue;
      const sCoords = coordsOf(g.nodes[s]!.shape as number[], b)!;
      if (!sameCoords(sCoords, srcCoords[k]!)) return undefined;
      st = Math.max(st, stage.get(s)!);
    }
    stage.set(id, st + (crosses ? 1 : 0));
    reads.set(
      id,
      n.srcs.map((s, k) => indexOf(g.nodes[s]!.shape as number[], srcCoords[k]!)),
    );
  }
  return { level, stage, reads, crossRow, overColumns };
}

/** One step of a row kernel's program; every target renders these. */
export type RowStep =
  /**
   * Computes an elementwise op, remap, one_hot, or a reduction over axes of size one (the value
   * itself) from values computed before, at the current row/column.
   */
  | { readonly op: 'value'; readonly node: number }
  /** Loops over the columns: `body` is per element; the node (a reduction over the columns) accumulates its source. */
  | { readonly op: 'reduceColumns'; readonly node: number; readonly body: readonly RowStep[] }
  /** Loops over the columns (stores of per-element roots). */
  | { readonly op: 'columns'; readonly body: readonly RowStep[] }
  /** Loops over this invocation's rows. */
  | { readonly op: 'rows'; readonly body: readonly RowStep[] }
  /** Adds the row's value of the node's source to the node's partial sum (a sum over rows). */
  | { readonly op: 'partial'; readonly node: number }
  /** Combines the partials of sums over rows into their values, for every invocation (one tree for all). */
  | { readonly op: 'combine'; readonly nodes: readonly number[] }
  /** Stores a root at the current row/column (or its single element). */
  | { readonly op: 'store'; readonly node: number }
  /** Run by one invocation once every row is done: the scalar roots. */
  | { readonly op: 'leader'; readonly body: readonly RowStep[] };

export interface RowProgram {
  readonly block: RowBlock;
  readonly steps: readonly RowStep[];
  /** Sums over the rows, whose partials every invocation keeps. */
  readonly crossRow: readonly number[];
  /** Where each member reads each of its sources. */
  readonly reads: ReadonlyMap<number, readonly RowIndex[]>;
  /** Where each root is stored. */
  readonly storeIndex: ReadonlyMap<number, RowIndex>;
}

const DEPTH: Record<RowLevel, number> = { scalar: 0, row: 1, element: 2 };

/**
 * The program of a row kernel: per stage, the rows' loop, then the combination of that stage's
 * sums over rows; then the scalar roots. A value is computed in the outermost loop where its
 * coordinates exist: a per-row value is hoisted out of the column loops that read it.
 */
export function rowProgram(g: Graph, k: FusedKernel): RowProgram {
  const b = k.rows!;
  const a = analyze(g, k.members, b);
  if (!a) throw new Error('internal: a row kernel that is not one');
  const { level, stage, crossRow, overColumns } = a;
  const levelOfNode = (id: number) => level.get(id)!;
  // The computed values of each open scope, innermost last.
  const scopes: Set<number>[] = [new Set()];
  const known = (id: number) => scopes.some((s) => s.has(id));

  /** Members `ids` need that live in a scope outside one of `depth` (their frontier). */
  const outer = (ids: readonly number[], depth: number): number[] => {
    const found = new Set<number>();
    const seen = new Set<number>();
    const walk = (id: number) => {
      if (seen.has(id) || !k.members.has(id) || known(id)) return;
      seen.add(id);
      if (DEPTH[levelOfNode(id)] < depth || crossRow.has(id)) {
        found.add(id);
        return;
      }
      // A reduction over the columns is computed in the row scope: a frontier of the column loop.
      const n = g.nodes[id]!;
      if (overColumns.has(id) && depth === 2) {
        found.add(id);
        return;
      }
      for (const s of n.srcs) walk(s);
    };
    ids.forEach(walk);
    return [...found].sort((x, y) => x - y);
  };

  /** Emits what computes `id` into `out`, in the current (innermost) scope. */
  const compute = (id: number, out: RowStep[]): void => {
    if (!k.members.has(id) || known(id)) return;
    const n = g.nodes[id]!;
    if (crossRow.has(id)) throw new Error(`internal: %${id} is read before its rows are summed`);
    if (overColumns.has(id)) {
      // A loop over the columns, with what it reads per row computed before it.
      const src = n.srcs[0]!;
      for (const o of outer([src], 2)) compute(o, out);
      const body: RowStep[] = [];
      scopes.push(new Set());
      compute(src, body);
      scopes.pop();
      out.push({ op: 'reduceColumns', node: id, body });
      scopes[scopes.length - 1]!.add(id);
      return;
    }
    for (const s of n.srcs) compute(s, out);
    out.push({ op: 'value', node: id });
    scopes[scopes.length - 1]!.add(id);
  };

  const roots = [...k.roots].sort((x, y) => x - y);
  const stageCount = Math.max(0, ...[...stage.values()]);
  const steps: RowStep[] = [];
  for (let s = 0; s <= stageCount; s++) {
    const sums = [...crossRow].filter((x) => stage.get(x) === s + 1);
    const rowRoots = roots.filter((r) => stage.get(r) === s && levelOfNode(r) === 'row');
    const elementRoots = roots.filter((r) => stage.get(r) === s && levelOfNode(r) === 'element');
    if (sums.length + rowRoots.length + elementRoots.length === 0) continue;
    const rowSources = [...sums.map((x) => g.nodes[x]!.srcs[0]!), ...rowRoots, ...elementRoots];
    for (const o of outer(rowSources, 1)) compute(o, steps);
    const body: RowStep[] = [];
    scopes.push(new Set());
    for (const x of sums) {
      compute(g.nodes[x]!.srcs[0]!, body);
      body.push({ op: 'partial', node: x });
    }
    for (const r of rowRoots) {
      compute(r, body);
      body.push({ op: 'store', node: r });
    }
    if (elementRoots.length) {
      for (const o of outer(elementRoots, 2)) compute(o, body);
      const columns: RowStep[] = [];
      scopes.push(new Set());
      for (const r of elementRoots) {
        compute(r, columns);
        columns.push({ op: 'store', node: r });
      }
      scopes.pop();
      body.push({ op: 'columns', body: columns });
    }
    scopes.pop();
    steps.push({ op: 'rows', body });
    if (sums.length) steps.push({ op: 'combine', nodes: sums });
    for (const x of sums) scopes[0]!.add(x);
  }
  const scalarRoots = roots.filter((r) => levelOfNode(r) === 'scalar');
  if (scalarRoots.length) {
    const body: RowStep[] = [];
    scopes.push(new Set());
    for (const r of scalarRoots) {
      compute(r, body);
      body.push({ op: 'store', node: r });
    }
    scopes.pop();
    steps.push({ op: 'leader', body });
  }
  const storeIndex = new Map<number, RowIndex>();
  for (const r of roots) {
    const shape = g.nodes[r]!.shape as number[];
    storeIndex.set(r, indexOf(shape, coordsOf(shape, b)!));
  }
  return { block: b, steps, crossRow: [...crossRow].sort((x, y) => x - y), reads: a.reads, storeIndex };
}

/** The row block a kernel anchored by a reduction over the last axis of a matrix seeds. */
function seedBlock(g: Graph, k: FusedKernel): RowBlock | undefined {
  if (k.anchor === undefined || k.rows) return undefined;
  const anchor = g.nodes[k.anchor]!;
  if (anchor.op !== 'sum' && anchor.op !== 'reduce_max') return undefined;
  if (anchor.params.slices !== undefined) return undefined;
  const shape = g.nodes[anchor.srcs[0]!]!.shape as number[];
  if (shape.length !== 2 || anchor.params.axes.length !== 1 || anchor.params.axes[0] !== 1) return undefined;
  const [rows, cols] = shape as [number, number];
  if (rows * cols > MAX_ROW_BLOCK_ELEMENTS) return undefined;
  return { rows, cols };
}

/** The values of `members` that must be stored: outputs, and values read outside. */
function storedOf(g: Graph, members: ReadonlySet<number>, readers: readonly Node[][]): number[] {
  const outputs = new Set(g.outputs.map((o) => o.node));
  return [...members]
    .filter((m) => outputs.has(m) || readers[m]!.some((c) => !members.has(c.id)))
    .sort((x, y) => x - y);
}

/** A kernel of `members` computed as a row block, if it is one and fits the binding limit. */
function rowKernel(
  g: Graph,
  members: ReadonlySet<number>,
  b: RowBlock,
  readers: readonly Node[][],
  updates: ReadonlyMap<number, number>,
  maxBindings = MAX_BINDINGS,
): FusedKernel | undefined {
  const roots = storedOf(g, members, readers);
  if (roots.length === 0) return undefined;
  // An in-place update of a tensor would race with the rows reading it; scalars are written last.
  if (roots.some((r) => updates.has(r) && sizeOf(g.nodes[r]!.shape as number[]) !== 1)) return undefined;
  if (!analyze(g, members, b)) return undefined;
  const k: FusedKernel = { roots, members, prologue: new Set(), rows: b };
  return bindingCount(g, k, updates) <= maxBindings ? k : undefined;
}

/**
 * Merges each reduction over the rows of a matrix (a softmax's max, its sum) with the kernels
 * around it that compute on the same rows (the rest of the softmax, the loss, its gradient, the
 * metric and count sums, their accumulators) into one row kernel, wherever the binding limit
 * allows and the schedule stays valid.
 */
export function formRowKernels(fused: FusedGraph): FusedGraph {
  const { graph: g } = fused;
  const updates = updateTargets(g);
  const readers: Node[][] = g.nodes.map(() => []);
  for (const n of g.nodes) for (const s of n.srcs) readers[s]!.push(n);
  let kernels = [...fused.kernels];
  // Another row kernel of the same block merges too: growing from two seeds can meet halfway.
  const candidate = (k: FusedKernel, b: RowBlock) =>
    (!k.rows || (k.rows.rows === b.rows && k.rows.cols === b.cols)) &&
    (k.anchor === undefined || g.nodes[k.anchor]!.op !== 'matmul') &&
    (FUSED_ROOT_OPS.has(g.nodes[k.roots[0]!]!.op) ||
      (k.members.size === 1 && g.nodes[k.roots[0]!]!.op === 'one_hot'));
  // Kernels that read one another's values; or, weaker, the same stored values (the mask).
  const feeds = (a: FusedKernel, b: FusedKernel) =>
    b.roots.some((r) => readers[r]!.some((c) => a.members.has(c.id))) ||
    a.roots.some((r) => readers[r]!.some((c) => b.members.has(c.id)));
  const sharesReads = (a: FusedKernel, b: FusedKernel) => {
    const reads = new Set(kernelReads(g, a));
    return kernelReads(g, b).some((v) => reads.has(v));
  };
  const touches = (a: FusedKernel, b: FusedKernel) => feeds(a, b) || sharesReads(a, b);
  /** `kernels` with those at `merged` replaced by `k` (at the first), if that schedules. */
  const replaced = (merged: ReadonlySet<number>, k: FusedKernel): FusedKernel[] | undefined => {
    const first = Math.min(...merged);
    const trial = kernels.flatMap((x, i) => (i === first ? [k] : merged.has(i) ? [] : [x]));
    return schedulable({ graph: g, kernels: trial }) ? trial : undefined;
  };
  for (let seed = 0; seed < kernels.length; seed++) {
    const b = seedBlock(g, kernels[seed]!);
    if (!b) continue;
    // First the neighbourhood at once: the pieces of a softmax and its loss pass values between
    // them that, merged two at a time, would all be stored (over the binding limit). Nearest
    // first (data, then shared reads); the largest prefix that forms a kernel wins.
    const near: number[] = [seed];
    for (let grew = true; grew;) {
      grew = false;
      for (const edge of [feeds, sharesReads]) {
        const found = kernels.flatMap((k, j) =>
          !near.includes(j) &&
          candidate(k, b) &&
          analyze(g, k.members, b) &&
          near.some((i) => edge(kernels[i]!, k))
            ? [j]
            : [],
        );
        if (found.length === 0) continue;
        near.push(...found);
        grew = true;
        break;
      }
    }
    let done = false;
    for (let n = near.length; n > 1 && !done; n--) {
      const component = new Set(near.slice(0, n));
      const members = new Set([...component].flatMap((i) => [...kernels[i]!.members]));
      const whole = rowKernel(g, members, b, readers, updates);
      const trial = whole && replaced(component, whole);
      if (trial) {
        kernels = trial;
        seed = Math.min(...component);
        done = true;
      }
    }
    if (done) continue;
    // Else grow from the seed one kernel at a time.
    let current = rowKernel(g, kernels[seed]!.members, b, readers, updates);
    if (!current) continue;
    let at = seed;
    kernels = kernels.map((k, i) => (i === at ? current! : k));
    for (let grew = true; grew;) {
      grew = false;
      for (let j = 0; j < kernels.length; j++) {
        const other = kernels[j]!;
        if (j === at || !candidate(other, b) || !touches(current, other)) continue;
        const merged = rowKernel(g, new Set([...current.members, ...other.members]), b, readers, updates);
        const next = merged && replaced(new Set([at, j]), merged);
        if (!next) continue;
        kernels = next;
        current = merged;
        at = kernels.indexOf(merged);
        grew = true;
        j = -1;
      }
    }
    if (at < seed) seed = at;
  }
  return { graph: g, kernels };
}

/**
 * Folds kernels of single values computed from stored values alone (the optimizer's step
 * counter and Adam's bias-correction running products: a dispatch of one invocation each step)
 * into a row kernel, whose leader invocation computes and stores them after its rows. The row
 * kernel then binds more buffers than the 8 WebGPU guarantees, so this takes the adapter's
 * `maxBindings`; a fold that would break the schedule is not made.
 */
export function foldScalarKernels(fused: FusedGraph, maxBindings: number): FusedGraph {
  const { graph: g } = fused;
  const updates = updateTargets(g);
  const readers: Node[][] = g.nodes.map(() => []);
  for (const n of g.nodes) for (const s of n.srcs) readers[s]!.push(n);
  const scalar = (k: FusedKernel) =>
    !k.rows &&
    k.anchor === undefined &&
    FUSED_ROOT_OPS.has(g.nodes[k.roots[0]!]!.op) &&
    [...k.members].every((m) => sizeOf(g.nodes[m]!.shape as number[]) === 1);
  let kernels = [...fused.kernels];
  for (let i = 0; i < kernels.length; i++) {
    const s = kernels[i]!;
    if (!scalar(s)) continue;
    for (let j = 0; j < kernels.length; j++) {
      const host = kernels[j]!;
      if (!host.rows) continue;
      const merged = rowKernel(
        g,
        new Set([...host.members, ...s.members]),
        host.rows,
        readers,
        updates,
        maxBindings,
      );
      if (!merged) continue;
      const trial = kernels.flatMap((k, x) => (x === j ? [merged] : x === i ? [] : [k]));
      if (!schedulable({ graph: g, kernels: trial })) continue;
      kernels = trial;
      i = -1; // indices moved: look again from the start
      break;
    }
  }
  return { graph: g, kernels };
}
