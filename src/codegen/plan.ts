/**
 * Scheduling and the static memory plan of one entry graph. Every value that a kernel writes
 * gets a buffer; temporaries share buffers when their lifetimes do not overlap; an `update`
 * output is written in place into the buffer of the input it replaces, so parameters and
 * optimizer state never need a copy.
 */
import { type Graph, type Node, type InputRole, sizeOf } from '../ir/graph.js';

/** Persistent buffers live across steps and entries, keyed by input name. */
export interface PersistentBuffer {
  readonly name: string;
  readonly role: InputRole;
  readonly bytes: number;
}

export interface EntryPlan {
  /** Node ids in execution order (inputs and constants excluded: they run no kernel). */
  readonly order: readonly number[];
  /** Buffer id of each node that has one (inputs and computed values; constants have none). */
  readonly bufferOf: ReadonlyMap<number, number>;
}

/** Buffers shared by all entries of a model: persistent ones by name, temporaries by index. */
export class BufferPool {
  readonly buffers: { bytes: number; label: string }[] = [];
  private readonly persistent = new Map<string, number>();

  persistentBuffer(name: string, bytes: number): number {
    let id = this.persistent.get(name);
    if (id === undefined) {
      id = this.buffers.length;
      this.buffers.push({ bytes, label: name });
      this.persistent.set(name, id);
    } else if (this.buffers[id]!.bytes !== bytes) {
      throw new Error(
        `internal: '${name}' needs ${bytes} bytes in one entry and ${this.buffers[id]!.bytes} in another`,
      );
    }
    return id;
  }

  persistentIds(): ReadonlySet<number> {
    return new Set(this.persistent.values());
  }
}

/**
 * Orders nodes so that every in-place update runs after every other reader of the value it
 * overwrites: nodes that depend on an update output go last.
 */
export function schedule(g: Graph): number[] {
  const updateNodes = new Set(
    g.outputs.filter((o) => o.role === 'update' && o.node !== o.target).map((o) => o.node),
  );
  const late = g.nodes.map(() => false);
  for (const n of g.nodes) late[n.id] = updateNodes.has(n.id) || n.srcs.some((s) => late[s]);
  const runs = (n: Node) => n.op !== 'input' && n.op !== 'const';
  const early = g.nodes.filter((n) => runs(n) && !late[n.id]).map((n) => n.id);
  const rest = g.nodes.filter((n) => runs(n) && late[n.id]).map((n) => n.id);
  return [...early, ...rest];
}

/** Data inputs (per batch) are entry-local; params and state persist. */
function isPersistent(role: InputRole): boolean {
  return role === 'param' || role === 'state';
}

export function planEntry(g: Graph, pool: BufferPool, entryName: string): EntryPlan {
  const order = schedule(g);
  const position = new Map(order.map((id, i) => [id, i]));
  const bufferOf = new Map<number, number>();
  const bytesOf = (n: Node) => Math.max(4, 4 * sizeOf(n.shape as number[]));

  // In-place updates: the update node writes into its target's buffer.
  const inPlace = new Map<number, number>();
  for (const o of g.outputs) if (o.role === 'update' && o.node !== o.target) inPlace.set(o.node, o.target!);
  checkInPlaceSafety(g, inPlace, position);

  const pinned = new Set<number>();
  for (const n of g.nodes) {
    if (n.op !== 'input') continue;
    const p = (n as Node<'input'>).params;
    const name = isPersistent(p.role) ? p.name : `${entryName}/${p.name}`;
    bufferOf.set(n.id, pool.persistentBuffer(name, bytesOf(n)));
    pinned.add(n.id);
  }
  // Entry outputs (predictions, the loss) are read after the entry: give them their own buffers.
  for (const o of g.outputs) {
    if (o.role === 'update' || bufferOf.has(o.node)) continue;
    bufferOf.set(o.node, pool.persistentBuffer(`${entryName}/${o.name}`, bytesOf(g.nodes[o.node]!)));
    pinned.add(o.node);
  }

  // Last use of each value, by schedule position.
  const lastUse = new Map<number, number>();
  for (const id of order) for (const s of g.nodes[id]!.srcs) lastUse.set(s, position.get(id)!);

  // Greedy first fit over temporaries of exactly the same size.
  const persistentIds = pool.persistentIds();
  const free: number[] = pool.buffers.map((_, i) => i).filter((i) => !persistentIds.has(i));
  const releaseAt = new Map<number, number[]>();
  order.forEach((id, i) => {
    for (const b of releaseAt.get(i) ?? []) free.push(b);
    const n = g.nodes[id]!;
    if (inPlace.has(id)) {
      bufferOf.set(id, bufferOf.get(inPlace.get(id)!)!);
      return;
    }
    if (pinned.has(id)) return;
    const bytes = bytesOf(n);
    const k = free.findIndex((b) => pool.buffers[b]!.bytes === bytes);
    let buffer: number;
    if (k >= 0) buffer = free.splice(k, 1)[0]!;
    else {
      buffer = pool.buffers.length;
      pool.buffers.push({ bytes, label: 'tmp' });
    }
    bufferOf.set(id, buffer);
    // Freed after its last reader has run (a kernel never reads and writes the same temporary).
    const end = (lastUse.get(id) ?? i) + 1;
    releaseAt.set(end, [...(releaseAt.get(end) ?? []), buffer]);
  });
  return { order, bufferOf };
}

/**
 * An in-place update may only read the value it overwrites at the element it writes, and no
 * later kernel may read the old value. Optimizers as written satisfy this; a violation is a
 * compiler bug, reported rather than silently computing garbage.
 */
function checkInPlaceSafety(
  g: Graph,
  inPlace: ReadonlyMap<number, number>,
  position: ReadonlyMap<number, number>,
): void {
  for (const [update, target] of inPlace) {
    const u = g.nodes[update]!;
    const at = position.get(update)!;
    for (const n of g.nodes) {
      if (n.id === update || !n.srcs.includes(target)) continue;
      const p = position.get(n.id);
      if (p !== undefined && p > at)
        throw new Error(`internal: %${n.id} reads %${target} after its in-place update %${update}`);
    }
    if (u.srcs.includes(target) && !u.shape.every((d, i) => d === g.nodes[target]!.shape[i])) {
      throw new Error(`internal: in-place update %${update} broadcasts its target`);
    }
  }
}
