/**
 * The one way passes change a graph: walk the nodes in order and, for each, either keep it
 * (with sources renumbered), replace it by an already-emitted node, or emit new nodes. Ids are
 * renumbered densely so the result stays topologically ordered.
 */
import type { Graph, Node } from '../graph.js';

export interface Rewriter {
  /** The new id of an old node (already visited). */
  readonly map: (oldId: number) => number;
  /** Appends a node (id assigned here) and returns its new id. */
  readonly emit: (node: Omit<Node, 'id'>) => number;
  /** The new node for a new id. */
  readonly get: (newId: number) => Node;
}

/** `visit` returns the new id of the node (from `emit`, or an existing id to replace it). */
export function rewrite(g: Graph, visit: (n: Node, r: Rewriter) => number): Graph {
  const nodes: Node[] = [];
  const ids: number[] = [];
  const r: Rewriter = {
    map: (old) => ids[old]!,
    emit: (n) => {
      const id = nodes.length;
      nodes.push({ ...n, id } as Node);
      return id;
    },
    get: (id) => nodes[id]!,
  };
  for (const n of g.nodes) ids[n.id] = visit(n, r);
  const outputs = g.outputs.map((o) => ({
    ...o,
    node: ids[o.node]!,
    ...(o.target !== undefined ? { target: ids[o.target]! } : {}),
  }));
  return { nodes, outputs };
}

/** Keeps a node as it is, with its sources renumbered. */
export function keep(n: Node, r: Rewriter): number {
  return r.emit({ ...n, srcs: n.srcs.map(r.map) });
}
