/**
 * Fusion: groups the nodes of a specialised graph into kernels. Walking backwards from the
 * outputs, a node joins the kernel of its consumers when all of them are in one kernel and it
 * can be computed there without a buffer:
 *  - elementwise ops read at the kernel's own index (chains become one kernel);
 *  - index remaps (broadcast, reshape, transpose), which cost nothing to recompute;
 *  - scalars, which are cheap to recompute wherever they are read;
 *  - one matmul or reduction per kernel, as its anchor, when its result is read only by the
 *    kernel's elementwise epilogue (bias, activation, residual add, optimizer arithmetic);
 *  - elementwise prologues of a reduction (`sum(f(x))`).
 * A value that must be stored (a graph output, or one read by several kernels) is a root; a
 * kernel may have several roots of one size, such as Adam's new m, v and parameter.
 */
import { type Graph, type Node, type Op, ELEMENTWISE_OPS, sizeOf } from '../graph.js';

export interface FusedKernel {
  /** Nodes whose values the kernel stores; all have the element count of the first. */
  readonly roots: readonly number[];
  /** The matmul or reduction the kernel is built around, if any (may be a root). */
  readonly anchor?: number;
  /** Every node computed in the kernel, roots and anchor included. */
  readonly members: ReadonlySet<number>;
  /** Members evaluated inside the anchor reduction's loop. */
  readonly prologue: ReadonlySet<number>;
  /**
   * Set on a row-block kernel (src/codegen/rows.ts): its members compute on the rows of one
   * `[rows, cols]` matrix, per element, per row and across rows; its roots may differ in size.
   */
  readonly rows?: RowBlock;
  /**
   * Set on a whole-step kernel (src/codegen/whole-step.ts): one workgroup runs these kernels in
   * order, a barrier between them; `members` and `roots` are theirs together.
   */
  readonly steps?: readonly FusedKernel[];
  /** In a whole-step kernel, the values it keeps in workgroup memory (written and read only there). */
  readonly local?: ReadonlySet<number>;
}

/** The matrix a row-block kernel computes on. */
export interface RowBlock {
  readonly rows: number;
  readonly cols: number;
}

export interface FusedGraph {
  readonly graph: Graph;
  /** Kernels, in no particular order (the memory planner schedules them). */
  readonly kernels: readonly FusedKernel[];
}

/** Index remaps, and iota (a function of the index alone): free to recompute in any kernel. */
const REMAP_OPS: ReadonlySet<Op> = new Set<Op>(['broadcast', 'reshape', 'transpose', 'iota']);
const ANCHOR_OPS: ReadonlySet<Op> = new Set<Op>(['matmul', 'sum', 'reduce_max']);
const REDUCE_OPS: ReadonlySet<Op> = new Set<Op>(['sum', 'reduce_max']);
/** Storage buffers one kernel may bind: the number WebGPU guarantees per shader stage. */
export const MAX_BINDINGS = 8;
/**
 * Ops the fused-kernel writer computes. A kernel rooted at any other op (conv2d, pooling,
 * gather, slice …) runs alone through its own generator, which reads every source from a buffer.
 */
export const FUSED_ROOT_OPS: ReadonlySet<Op> = new Set<Op>([...ANCHOR_OPS, ...REMAP_OPS, ...ELEMENTWISE_OPS]);

/**
 * Whether a node is a function of the element's index alone (iota, constants and elementwise
 * ops of those, such as a causal mask): free to recompute at any index, in any kernel.
 */
function indexOnly(g: Graph, id: number): boolean {
  const n = g.nodes[id]!;
  if (n.op === 'iota' || n.op === 'const') return true;
  return ELEMENTWISE_OPS.has(n.op) && n.srcs.every((s) => indexOnly(g, s));
}

/**
 * Whether `n` is `transpose(reshape(x, [R, S, K/S]), [1, 0, 2])`: the S column slices of a
 * stored [R, K] matrix, which a matmul reads in place (the split-K operands of src/ir/passes/split.ts).
 */
export function isSliceView(g: Graph, n: Node): boolean {
  if (n.op !== 'transpose' || n.shape.length !== 3) return false;
  const perm = n.params.perm;
  return perm[0] === 1 && perm[1] === 0 && perm[2] === 2 && g.nodes[n.srcs[0]!]!.op === 'reshape';
}

/**
 * Where kernel `k`'s matmul reads operand `x`: the stored value (a reshape in the kernel is a
 * view of its source) and, for a slice view, the elements between its batches (K/S) and between
 * its rows (K); a contiguous operand leaves both to the matmul's shape.
 */
export function matmulOperand(
  g: Graph,
  k: FusedKernel,
  x: Node,
): { stored: number; batchStride?: number; lead?: number } {
  const stored = (v: Node): number =>
    k.members.has(v.id) && v.op === 'reshape' ? stored(g.nodes[v.srcs[0]!]!) : v.id;
  if (!k.members.has(x.id) || !isSliceView(g, x)) return { stored: stored(x) };
  const grouped = g.nodes[x.srcs[0]!]!;
  const [, slices, width] = grouped.shape as [number, number, number];
  return { stored: stored(grouped), batchStride: width, lead: slices * width };
}

/** Whether `consumer` reads `producer` at its own flat index (no broadcasting or permutation). */
function readsAtSameIndex(consumer: Node, producer: Node): boolean {
  if (consumer.op === 'reshape') return true;
  return (
    ELEMENTWISE_OPS.has(consumer.op) &&
    sizeOf(consumer.shape as number[]) === sizeOf(producer.shape as number[])
  );
}

interface MutableKernel {
  roots: number[];
  anchor?: number;
  members: Set<number>;
  prologue: Set<number>;
  /** Members evaluated at the kernel's own index (where roots and the anchor live). */
  atRoot: Set<number>;
  /** Prologue members evaluated at the reduction's input index. */
  atInput: Set<number>;
}

/**
 * Gives every consumer of a shared index remap (broadcast, reshape, transpose) its own copy:
 * remaps cost nothing inside a kernel, so a copy per consumer lets each fuse instead of
 * storing the remapped tensor. Outputs keep their node.
 */
export function duplicateSharedRemaps(g: Graph): Graph {
  const uses = g.nodes.map(() => 0);
  for (const n of g.nodes) for (const s of n.srcs) uses[s]!++;
  const outputs = new Set(g.outputs.map((o) => o.node));
  const shared = (id: number) => REMAP_OPS.has(g.nodes[id]!.op) && uses[id]! > 1 && !outputs.has(id);
  const nodes: Node[] = [];
  const newId = new Map<number, number>();
  const emit = (n: Node, srcs: number[]): number => {
    nodes.push({ ...n, id: nodes.length, srcs });
    return nodes.length - 1;
  };
  // A fresh copy of a shared remap (and of shared remaps under it) for one consumer.
  const copy = (id: number): number =>
    shared(id) ? emit(g.nodes[id]!, g.nodes[id]!.srcs.map(copy)) : newId.get(id)!;
  for (const n of g.nodes) {
    if (shared(n.id)) continue;
    newId.set(n.id, emit(n, n.srcs.map(copy)));
  }
  const outputsRenumbered = g.outputs.map((o) => ({
    ...o,
    node: newId.get(o.node)!,
    ...(o.target !== undefined ? { target: newId.get(o.target)! } : {}),
  }));
  return { nodes, outputs: outputsRenumbered };
}

/** Groups nodes into kernels. With `enabled` false every node is its own kernel. */
export function fuse(graph: Graph, enabled = true): FusedGraph {
  const g = enabled ? duplicateSharedRemaps(graph) : graph;
  const consumers: number[][] = g.nodes.map(() => []);
  for (const n of g.nodes) for (const s of n.srcs) consumers[s]!.push(n.id);
  const stored = new Set(g.outputs.map((o) => o.node));
  const updateTarget = updateTargets(g);
  const kernels: MutableKernel[] = [];
  const kernelOf = new Map<number, MutableKernel>();

  const startKernel = (n: Node) => {
    const k: MutableKernel = {
      roots: [n.id],
      members: new Set([n.id]),
      prologue: new Set(),
      atRoot: new Set([n.id]),
      atInput: new Set(),
    };
    if (ANCHOR_OPS.has(n.op)) k.anchor = n.id;
    kernels.push(k);
    kernelOf.set(n.id, k);
  };

  // Reshapes a matmul reads as views of their source, which therefore stays stored.
  const views = new Set<number>();
  const join = (n: Node): boolean => {
    const cs = consumers[n.id]!;
    if (cs.length === 0) return false;
    const k = kernelOf.get(cs[0]!);
    if (!k || !cs.every((c) => kernelOf.get(c) === k)) return false;
    if (cs.some((c) => views.has(c))) {
      const ofSliceView =
        n.op === 'reshape' && !stored.has(n.id) && cs.length === 1 && isSliceView(g, g.nodes[cs[0]!]!);
      if (!ofSliceView) return false;
      views.add(n.id);
      k.members.add(n.id);
      kernelOf.set(n.id, k);
      return true;
    }
    if (!FUSED_ROOT_OPS.has(g.nodes[k.roots[0]!]!.op)) return false;
    const consumerNodes = cs.map((c) => g.nodes[c]!);
    const isOutput = stored.has(n.id);
    // Inputs of the anchor reduction, and anything feeding only them, are its prologue.
    const inPrologue = cs.every(
      (c) => k.prologue.has(c) || (c === k.anchor && REDUCE_OPS.has(g.nodes[c]!.op)),
    );
    const inEpilogue = cs.every((c) => !k.prologue.has(c) && c !== k.anchor);
    // A random draw is a function of its own index and the step counter: it joins a kernel that
    // reads it at that index like an elementwise op, instead of storing a tensor of draws.
    const elementwise = ELEMENTWISE_OPS.has(n.op) || n.op === 'random_uniform';
    const identity = consumerNodes.every((c) => k.atRoot.has(c.id) && readsAtSameIndex(c, n));
    const add = (prologue: boolean, atIndex: boolean, asRoot = false) => {
      const roots = asRoot ? [...k.roots, n.id] : k.roots;
      const members = new Set([...k.members, n.id]);
      if (bindingCount(g, { roots, members, prologue: k.prologue }, updateTarget) > MAX_BINDINGS)
        return false;
      if (asRoot) k.roots.push(n.id);
      k.members.add(n.id);
      if (prologue) k.prologue.add(n.id);
      if (atIndex) (prologue ? k.atInput : k.atRoot).add(n.id);
      kernelOf.set(n.id, k);
      return true;
    };
    // A reshape read only by the kernel's matmul is a view: a stored tensor is contiguous, so the
    // matmul reads the reshape's source at the same flat offsets and no copy kernel runs.
    if (n.op === 'reshape' && !isOutput && cs.every((c) => c === k.anchor && g.nodes[c]!.op === 'matmul')) {
      if (!add(false, false)) return false;
      views.add(n.id);
      return true;
    }
    // The K-slices of a split-K operand (src/ir/passes/split.ts), `transpose(reshape(x, [R, S,
    // K/S]), [1, 0, 2])`, are a view too: the matmul reads x with a row stride of K and a batch
    // stride of K/S. Its reshape joins below, as part of the view.
    if (!isOutput && isSliceView(g, n) && cs.every((c) => c === k.anchor && g.nodes[c]!.op === 'matmul')) {
      if (!add(false, false)) return false;
      views.add(n.id);
      return true;
    }
    if (inPrologue && !isOutput) {
      // The reduction reads its input at the loop's index; so do same-index elementwise ops.
      const atInput = consumerNodes.every(
        (c) => c.id === k.anchor || (k.atInput.has(c.id) && readsAtSameIndex(c, n)),
      );
      if (REMAP_OPS.has(n.op)) return add(true, atInput);
      if (elementwise && (atInput || sizeOf(n.shape as number[]) === 1 || indexOnly(g, n.id)))
        return add(true, atInput);
      return false;
    }
    if (!inEpilogue) return false;
    const sameSize = sizeOf(n.shape as number[]) === sizeOf(g.nodes[k.roots[0]!]!.shape as number[]);
    if (isOutput) {
      // A stored value joins as another root when it is computed at the kernel's index.
      if (elementwise && identity && sameSize) return add(false, true, true);
      return false;
    }
    if (REMAP_OPS.has(n.op)) return add(false, identity);
    if (elementwise && (identity || sizeOf(n.shape as number[]) === 1 || indexOnly(g, n.id)))
      return add(false, identity);
    if (ANCHOR_OPS.has(n.op) && k.anchor === undefined && identity && sameSize) {
      k.anchor = n.id;
      if (add(false, true)) return true;
      k.anchor = undefined; // over the binding limit: it stays a kernel of its own
      return false;
    }
    return false;
  };

  for (let id = g.nodes.length - 1; id >= 0; id--) {
    const n = g.nodes[id]!;
    if (n.op === 'input' || n.op === 'const') continue;
    if (!(enabled && join(n))) startKernel(n);
  }
  const merged = enabled ? mergeSiblings(g, kernels, kernelOf, updateTarget) : new Set<MutableKernel>();
  return {
    graph: g,
    kernels: kernels
      .filter((k) => !merged.has(k))
      .map((k) => ({
        roots: k.roots,
        anchor: k.anchor,
        members: k.members,
        prologue: k.prologue,
      })),
  };
}

/**
 * Sibling fusion: a kernel that is a single elementwise op of values another kernel computes at
 * its own index (`relu(z)` beside the `matmul + bias` producing `z`) becomes an extra root of
 * that kernel, saving a dispatch and a read. Returns the kernels merged away.
 */
function mergeSiblings(
  g: Graph,
  kernels: MutableKernel[],
  kernelOf: Map<number, MutableKernel>,
  updateTarget: ReadonlyMap<number, number>,
): Set<MutableKernel> {
  const merged = new Set<MutableKernel>();
  for (const k of kernels) {
    if (k.members.size !== 1 || !ELEMENTWISE_OPS.has(g.nodes[k.roots[0]!]!.op)) continue;
    const n = g.nodes[k.roots[0]!]!;
    const srcs = n.srcs.filter((s) => g.nodes[s]!.op !== 'const');
    const host = srcs.length ? kernelOf.get(srcs[0]!) : undefined;
    if (!host || host === k || merged.has(host) || !FUSED_ROOT_OPS.has(g.nodes[host.roots[0]!]!.op)) continue;
    const size = sizeOf(n.shape as number[]);
    const fits =
      srcs.every((s) => kernelOf.get(s) === host && host.atRoot.has(s) && readsAtSameIndex(n, g.nodes[s]!)) &&
      size === sizeOf(g.nodes[host.roots[0]!]!.shape as number[]) &&
      !host.prologue.has(srcs[0]!) &&
      bindingCount(
        g,
        { roots: [...host.roots, n.id], members: new Set([...host.members, n.id]), prologue: host.prologue },
        updateTarget,
      ) <= MAX_BINDINGS;
    if (!fits) continue;
    host.roots.push(n.id);
    host.members.add(n.id);
    host.atRoot.add(n.id);
    kernelOf.set(n.id, host);
    merged.add(k);
  }
  return merged;
}

/** In-place updates: the node of each `update` output → the input whose buffer it overwrites. */
export function updateTargets(g: Graph): Map<number, number> {
  const m = new Map<number, number>();
  for (const o of g.outputs)
    if (o.role === 'update' && o.target !== undefined && o.node !== o.target) m.set(o.node, o.target);
  return m;
}

/**
 * Storage bindings a kernel needs: one per stored root, plus one per value read, except the
 * old value of an in-place update, which is read through its root's binding.
 */
export function bindingCount(g: Graph, k: FusedKernel, updateTarget: ReadonlyMap<number, number>): number {
  const overwritten = new Set(k.roots.flatMap((r) => (updateTarget.has(r) ? [updateTarget.get(r)!] : [])));
  return k.roots.length + kernelReads(g, k).filter((v) => !overwritten.has(v)).length;
}

/** The values a kernel reads from buffers: sources of its members computed elsewhere. */
export function kernelReads(g: Graph, k: FusedKernel): number[] {
  const reads = new Set<number>();
  for (const m of k.members) {
    for (const s of g.nodes[m]!.srcs) {
      if (!k.members.has(s) && g.nodes[s]!.op !== 'const') reads.add(s);
    }
  }
  return [...reads].sort((a, b) => a - b);
}
