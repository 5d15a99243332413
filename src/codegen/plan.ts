/**
 * Scheduling and the static memory plan of one entry. Kernels (from the fusion pass) run in a
 * topological order in which every in-place update runs after every other reader of the value
 * it overwrites. Every stored value gets a buffer: parameters, optimizer state and metric
 * accumulators persist by name; per-batch inputs and outputs are the entry's own; temporaries
 * share buffers when their lifetimes do not overlap; an `update` output is written in place
 * into the buffer of the input it replaces, so parameters never need a copy.
 */
import { type Graph, type InputRole, type Node, sizeOf } from '../ir/graph.js';
import {
  FUSED_ROOT_OPS,
  type FusedGraph,
  type FusedKernel,
  MAX_BINDINGS,
  bindingCount,
  kernelReads,
  updateTargets,
} from '../ir/passes/fuse.js';

export interface EntryPlan {
  /** Kernel indices in execution order. */
  readonly order: readonly number[];
  /** Buffer id of each stored value (graph inputs and kernel roots). */
  readonly bufferOf: ReadonlyMap<number, number>;
  /** Bytes of the temporaries this entry uses at its peak (persistent buffers excluded). */
  readonly peakTemporaryBytes: number;
}

/** Buffers shared by all entries of a model: persistent ones by name, temporaries by index. */
export class BufferPool {
  readonly buffers: { bytes: number; label: string }[] = [];
  private readonly persistent = new Map<string, number>();

  /** The buffer kept under `key` (created on first use); `label` names it in plans and errors. */
  persistentBuffer(key: string, bytes: number, label = key): number {
    let id = this.persistent.get(key);
    if (id === undefined) {
      id = this.buffers.length;
      this.buffers.push({ bytes, label });
      this.persistent.set(key, id);
    } else if (this.buffers[id]!.bytes !== bytes) {
      throw new Error(
        `internal: '${label}' needs ${bytes} bytes in one entry and ${this.buffers[id]!.bytes} in another`,
      );
    }
    return id;
  }

  /** The buffer of a persistent value (a parameter, optimizer state, a running sum) by name. */
  named(name: string): number {
    const id = this.persistent.get(name);
    if (id === undefined) throw new Error(`internal: no buffer for '${name}'`);
    return id;
  }

  persistentIds(): ReadonlySet<number> {
    return new Set(this.persistent.values());
  }
}

function bytesOf(n: Node): number {
  return Math.max(4, 4 * sizeOf(n.shape as number[]));
}

/**
 * The pool key of a per-entry buffer. Each role is its own namespace, apart from the persistent
 * names too (NUL cannot occur in a name): an input named `target`, `output` or `loss` must not
 * share the buffer of the target, the prediction or the loss of the same entry.
 */
function entryKey(entry: string, role: InputRole | 'output', name: string): string {
  return `\0${entry}\0${role}\0${name}`;
}

/** Params and state persist across steps and entries; data inputs belong to their entry. */
function isPersistent(role: InputRole): boolean {
  return role === 'param' || role === 'state';
}

/** In-place updates: update node → the input whose buffer it overwrites. */
function inPlaceUpdates(g: Graph): Map<number, number> {
  const m = new Map<number, number>();
  for (const o of g.outputs) if (o.role === 'update' && o.node !== o.target) m.set(o.node, o.target!);
  return m;
}

/**
 * Kahn's topological order over kernels, smallest root first among the ready ones; kernels
 * that write an update (or depend on one that does) come after all the others.
 */
export function scheduleKernels(fused: FusedGraph): number[] {
  const { graph: g, kernels } = fused;
  const producer = new Map<number, number>();
  kernels.forEach((k, i) => k.roots.forEach((r) => producer.set(r, i)));
  const deps = kernels.map((k) => [
    ...new Set(kernelReads(g, k).flatMap((v) => (producer.has(v) ? [producer.get(v)!] : []))),
  ]);
  const updates = inPlaceUpdates(g);
  const late = kernels.map((k) => k.roots.some((r) => updates.has(r)));
  // Propagate lateness to dependants until nothing changes (kernel graphs are small).
  for (let changed = true; changed;) {
    changed = false;
    kernels.forEach((_, i) => {
      if (!late[i] && deps[i]!.some((d) => late[d])) late[i] = changed = true;
    });
  }
  const key = (i: number) => Math.min(...kernels[i]!.roots);
  const order: number[] = [];
  const done = new Set<number>();
  for (const phase of [false, true]) {
    for (;;) {
      const ready = kernels
        .map((_, i) => i)
        .filter((i) => late[i] === phase && !done.has(i) && deps[i]!.every((d) => done.has(d)))
        .sort((a, b) => key(a) - key(b));
      if (ready.length === 0) break;
      order.push(ready[0]!);
      done.add(ready[0]!);
    }
  }
  if (order.length !== kernels.length) throw new Error('internal: the kernel graph has a cycle');
  return order;
}

/** Whether `fused` can be scheduled with every in-place update after the other readers. */
export function schedulable(fused: FusedGraph): boolean {
  try {
    const order = scheduleKernels(fused);
    checkInPlaceSafety(fused, inPlaceUpdates(fused.graph), new Map(order.map((k, i) => [k, i])));
    return true;
  } catch {
    return false;
  }
}

/**
 * Horizontal fusion of scalar kernels: the step counter, Adam's bias corrections, the sample
 * count and the loss and metric sums are each one value, and each a dispatch of one invocation.
 * Kernels whose roots are single values (fused kernels, at most one of them a reduction) become
 * roots of one kernel, one invocation computing them all, wherever the binding limit allows and
 * the schedule stays valid (no cycle, every in-place update after the other readers).
 */
export function mergeScalarKernels(fused: FusedGraph): FusedGraph {
  const { graph: g } = fused;
  const updates = updateTargets(g);
  const scalar = (k: FusedKernel) =>
    !k.rows &&
    k.roots.every((r) => sizeOf(g.nodes[r]!.shape as number[]) === 1) &&
    FUSED_ROOT_OPS.has(g.nodes[k.roots[0]!]!.op) &&
    (k.anchor === undefined || g.nodes[k.anchor]!.op !== 'matmul');
  let kernels = [...fused.kernels];
  for (let i = 0; i < kernels.length; i++) {
    if (!scalar(kernels[i]!)) continue;
    for (let j = i + 1; j < kernels.length; j++) {
      const [a, b] = [kernels[i]!, kernels[j]!];
      if (!scalar(b) || (a.anchor !== undefined && b.anchor !== undefined)) continue;
      // The reduction's root goes first: a kernel is rendered by its first root's op.
      const [first, second] = a.anchor === undefined && b.anchor !== undefined ? [b, a] : [a, b];
      const merged: FusedKernel = {
        roots: [...first.roots, ...second.roots],
        anchor: first.anchor,
        members: new Set([...first.members, ...second.members]),
        prologue: first.prologue,
      };
      if (bindingCount(g, merged, updates) > MAX_BINDINGS) continue;
      const trial = [...kernels.slice(0, i), merged, ...kernels.slice(i + 1, j), ...kernels.slice(j + 1)];
      if (!schedulable({ graph: g, kernels: trial })) continue;
      kernels = trial;
      j = i; // the merged kernel may take more
    }
  }
  return { graph: g, kernels };
}

export function planEntry(fused: FusedGraph, pool: BufferPool, entryName: string): EntryPlan {
  const { graph: g, kernels } = fused;
  const order = scheduleKernels(fused);
  const position = new Map(order.map((k, i) => [k, i]));
  const bufferOf = new Map<number, number>();
  const updates = inPlaceUpdates(g);
  checkInPlaceSafety(fused, updates, position);

  const pinned = new Set<number>();
  for (const n of g.nodes) {
    if (n.op !== 'input') continue;
    const p = n.params;
    const buffer = isPersistent(p.role)
      ? pool.persistentBuffer(p.name, bytesOf(n))
      : pool.persistentBuffer(entryKey(entryName, p.role, p.name), bytesOf(n), `${entryName}/${p.name}`);
    bufferOf.set(n.id, buffer);
    pinned.add(n.id);
  }
  // Entry outputs (predictions) are read after the entry: they get their own buffers.
  for (const o of g.outputs) {
    if (o.role === 'update' || bufferOf.has(o.node)) continue;
    const label = `${entryName}/${o.name}`;
    bufferOf.set(
      o.node,
      pool.persistentBuffer(entryKey(entryName, 'output', o.name), bytesOf(g.nodes[o.node]!), label),
    );
    pinned.add(o.node);
  }

  // Last kernel position reading each stored value.
  const lastUse = new Map<number, number>();
  order.forEach((k, i) => kernelReads(g, kernels[k]!).forEach((v) => lastUse.set(v, i)));

  // Greedy first fit over temporaries of exactly the same size, freed after their last reader:
  // a kernel never writes a temporary it reads.
  const persistentIds = pool.persistentIds();
  const free: number[] = pool.buffers.map((_, i) => i).filter((i) => !persistentIds.has(i));
  const releaseAt = new Map<number, number[]>();
  let live = 0;
  let peak = 0;
  order.forEach((k, i) => {
    for (const b of releaseAt.get(i) ?? []) {
      free.push(b);
      live -= pool.buffers[b]!.bytes;
    }
    for (const r of kernels[k]!.roots) {
      if (updates.has(r)) {
        bufferOf.set(r, bufferOf.get(updates.get(r)!)!);
        continue;
      }
      if (pinned.has(r)) continue;
      const bytes = bytesOf(g.nodes[r]!);
      const at = free.findIndex((b) => pool.buffers[b]!.bytes === bytes);
      let buffer: number;
      if (at >= 0) buffer = free.splice(at, 1)[0]!;
      else {
        buffer = pool.buffers.length;
        pool.buffers.push({ bytes, label: 'tmp' });
      }
      bufferOf.set(r, buffer);
      live += bytes;
      peak = Math.max(peak, live);
      const end = (lastUse.get(r) ?? i) + 1;
      releaseAt.set(end, [...(releaseAt.get(end) ?? []), buffer]);
    }
  });
  return { order, bufferOf, peakTemporaryBytes: peak };
}

/**
 * An in-place update may read the value it overwrites only at the element it writes, and no
 * later kernel may read the old value. A violation is a compiler bug, reported rather than
 * silently computing garbage.
 */
function checkInPlaceSafety(
  fused: FusedGraph,
  updates: ReadonlyMap<number, number>,
  position: ReadonlyMap<number, number>,
): void {
  const { graph: g, kernels } = fused;
  const kernelOf = new Map<number, number>();
  kernels.forEach((k, i) => k.members.forEach((m) => kernelOf.set(m, i)));
  for (const [update, target] of updates) {
    const home = kernelOf.get(update)!;
    const k: FusedKernel = kernels[home]!;
    kernels.forEach((other, i) => {
      if (i !== home && kernelReads(g, other).includes(target) && position.get(i)! > position.get(home)!) {
        throw new Error(`internal: a kernel reads %${target} after its in-place update %${update}`);
      }
    });
    for (const m of k.members) {
      const n = g.nodes[m]!;
      if (
        n.srcs.includes(target) &&
        sizeOf(n.shape as number[]) !== sizeOf(g.nodes[target]!.shape as number[])
      ) {
        throw new Error(`internal: %${m} reads %${target} through a broadcast inside its in-place update`);
      }
    }
  }
}
