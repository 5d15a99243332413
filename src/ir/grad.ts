/**
 * Symbolic reverse-mode autodiff: an IR → IR transform. Walks the graph backwards from a scalar
 * loss, applies each op's VJP rule (which emits IR), and sums cotangents where a value has
 * several uses. The result is the same graph with the gradient nodes appended.
 */
import { GraphBuilder } from './builder.js';
import type { Graph, Op } from './graph.js';
import { VJP, type VjpRule } from './ops.js';

export interface GradResult {
  readonly graph: Graph;
  /** For each requested node id, the id of its gradient (zeros when the loss does not depend on it). */
  readonly grads: ReadonlyMap<number, number>;
}

/** Nodes on some path from a `wrt` node to the loss: the only ones that need cotangents. */
function activeNodes(g: Graph, loss: number, wrt: readonly number[]): boolean[] {
  const fromWrt = g.nodes.map(() => false);
  for (const w of wrt) fromWrt[w] = true;
  for (const n of g.nodes) if (n.srcs.some((s) => fromWrt[s])) fromWrt[n.id] = true;
  const toLoss = g.nodes.map(() => false);
  toLoss[loss] = true;
  for (let i = loss; i >= 0; i--) if (toLoss[i]) for (const s of g.nodes[i]!.srcs) toLoss[s] = true;
  return g.nodes.map((_, i) => fromWrt[i]! && toLoss[i]!);
}

export function grad(g: Graph, loss: number, wrt: readonly number[]): GradResult {
  const lossShape = g.nodes[loss]!.shape;
  if (lossShape.length !== 0) throw new Error(`internal: grad needs a scalar loss, got shape [${lossShape}]`);
  const active = activeNodes(g, loss, wrt);
  const b = new GraphBuilder(g);
  const cotangent = new Map<number, number>();
  const accumulate = (id: number, ct: number) => {
    const prev = cotangent.get(id);
    cotangent.set(id, prev === undefined ? ct : b.add(prev, ct));
  };
  b.label = 'grad';
  cotangent.set(loss, b.constant(1));
  for (let i = loss; i >= 0; i--) {
    const ct = cotangent.get(i);
    if (ct === undefined || !active[i]) continue;
    const node = g.nodes[i]!;
    if (node.op === 'input') continue;
    // Gradient nodes point where their forward node came from: the same layer, line and file.
    b.span = node.span;
    b.file = node.file;
    b.label = node.label === undefined ? 'grad' : `${node.label} (gradient)`;
    const rule = VJP[node.op] as VjpRule<Op>;
    const srcCts = rule(b, node, ct);
    node.srcs.forEach((s, k) => {
      const sct = srcCts[k];
      if (sct !== null && sct !== undefined && active[s]) accumulate(s, sct);
    });
  }
  const grads = new Map<number, number>();
  for (const w of wrt) {
    grads.set(w, cotangent.get(w) ?? b.broadcast(b.constant(0), g.nodes[w]!.shape));
  }
  return { graph: b.build(), grads };
}
