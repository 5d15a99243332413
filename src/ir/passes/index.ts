/**
 * The optimisation pipeline: plain `Graph → Graph` functions, run in the order listed here.
 * `nnxc compile --emit` prints the graph after them.
 */
import { type Graph, type Node, bindShape, ELEMENTWISE_OPS, sameShape } from '../graph.js';
import { REFERENCE, type Reference } from '../ops.js';
import { keep, rewrite } from './rewrite.js';

/** Binds symbolic dims (the batch) to sizes; `dimsize` nodes become constants. */
export function specialize(dims: Readonly<Record<string, number>>): (g: Graph) => Graph {
  return (g) =>
    rewrite(g, (n, r) => {
      const shape = bindShape(n.shape, dims);
      if (n.op === 'dimsize')
        return r.emit({
          ...n,
          op: 'const',
          shape,
          srcs: [],
          params: { value: bindShape([n.params.dim], dims)[0]! },
        });
      const params =
        n.op === 'input'
          ? { ...n.params, shape }
          : 'shape' in n.params
            ? { ...n.params, shape: bindShape((n.params as { shape: Node['shape'] }).shape, dims) }
            : n.params;
      return r.emit({ ...n, shape, srcs: n.srcs.map(r.map), params } as Omit<Node, 'id'>);
    });
}

/** Evaluates elementwise ops whose operands are all scalar constants. */
export function foldConstants(g: Graph): Graph {
  return rewrite(g, (n, r) => {
    const srcs = n.srcs.map((s) => r.get(r.map(s)));
    if (!ELEMENTWISE_OPS.has(n.op) || srcs.length === 0 || !srcs.every((s) => s.op === 'const'))
      return keep(n, r);
    const values = srcs.map((s) => ({ shape: [], data: Float64Array.of(s.params.value) }));
    const reference = REFERENCE[n.op] as Reference<typeof n.op>;
    const value = reference(values, { ...n, shape: [] } as never, { dtype: 'f32', dims: {} }).data[0]!;
    return r.emit({ ...n, op: 'const', shape: [], srcs: [], params: { value } });
  });
}

/** Drops `x * 1`, `x + 0`, `x - 0`, `x / 1` when that does not change the shape. */
export function simplifyIdentities(g: Graph): Graph {
  const isConst = (n: Node, v: number) => n.op === 'const' && n.params.value === v;
  return rewrite(g, (n, r) => {
    if (n.srcs.length !== 2) return keep(n, r);
    const [a, b] = n.srcs.map((s) => r.get(r.map(s))) as [Node, Node];
    const sameAs = (x: Node) => sameShape(x.shape, n.shape);
    if (
      (n.op === 'mul' && isConst(b, 1)) ||
      ((n.op === 'add' || n.op === 'sub') && isConst(b, 0)) ||
      (n.op === 'div' && isConst(b, 1))
    ) {
      if (sameAs(a)) return a.id;
    }
    if ((n.op === 'mul' && isConst(a, 1)) || (n.op === 'add' && isConst(a, 0))) {
      if (sameAs(b)) return b.id;
    }
    return keep(n, r);
  });
}

/** Common-subexpression elimination: identical op, params and sources become one node. */
export function eliminateCommonSubexpressions(g: Graph): Graph {
  const seen = new Map<string, number>();
  return rewrite(g, (n, r) => {
    if (n.op === 'input') return keep(n, r);
    const key = `${n.op}|${n.srcs.map(r.map).join(',')}|${JSON.stringify(n.params)}|${n.shape.join(',')}`;
    const hit = seen.get(key);
    if (hit !== undefined) return hit;
    const id = keep(n, r);
    seen.set(key, id);
    return id;
  });
}

/**
 * A shared operand's gradient, `Σ_b A_bᵀ·G_b` (Dense on sequences: `sum(matmul(x, g, transA),
 * batch axes)`), as one product over all rows once the batch is bound: `x` and `g` are
 * contiguous, so `[B, T, F]` is `[B·T, F]` and the batch of `[F, U]` products and their sum
 * become one `[F, U]` product with no `[B, F, U]` tensor in between.
 */
export function foldBatchIntoContraction(g: Graph): Graph {
  return rewrite(g, (n, r) => {
    if (n.op !== 'sum') return keep(n, r);
    const { axes, keepDims } = n.params;
    const product = r.get(r.map(n.srcs[0]!));
    if (product.op !== 'matmul' || keepDims) return keep(n, r);
    const { transA, transB } = product.params;
    const [a, b] = product.srcs.map((s) => r.get(s)) as [Node, Node];
    const lead = product.shape.length - 2;
    const concrete = (x: Node) => x.shape.every((d) => typeof d === 'number');
    if (
      !transA ||
      transB ||
      lead < 1 ||
      a.shape.length !== lead + 2 ||
      b.shape.length !== lead + 2 ||
      !sameShape(a.shape.slice(0, lead), b.shape.slice(0, lead)) ||
      axes.length !== lead ||
      !axes.every((axis, i) => axis === i) ||
      !concrete(a) ||
      !concrete(b)
    )
      return keep(n, r);
    const rows = (a.shape as number[]).slice(0, lead + 1).reduce((x, y) => x * y, 1);
    const flat = (x: Node) => {
      const shape = [rows, x.shape[lead + 1]!];
      return r.emit({ op: 'reshape', shape, srcs: [x.id], params: { shape }, label: x.label } as Omit<
        Node,
        'id'
      >);
    };
    return r.emit({ ...product, shape: n.shape, srcs: [flat(a), flat(b)], label: n.label } as Omit<
      Node,
      'id'
    >);
  });
}

/** Dead-code elimination: keeps inputs and whatever the outputs depend on. */
export function eliminateDeadCode(g: Graph): Graph {
  const live = g.nodes.map((n) => n.op === 'input');
  for (const o of g.outputs) live[o.node] = true;
  for (let i = g.nodes.length - 1; i >= 0; i--) if (live[i]) for (const s of g.nodes[i]!.srcs) live[s] = true;
  const kept = { nodes: g.nodes.filter((n) => live[n.id]), outputs: g.outputs };
  return rewrite(kept, keep);
}

/** The passes every entry graph goes through before code generation, in order, by name. */
export function optimizationPasses(
  dims: Readonly<Record<string, number>>,
): readonly (readonly [string, (g: Graph) => Graph])[] {
  return [
    ['specialize', specialize(dims)],
    ['foldBatchIntoContraction', foldBatchIntoContraction],
    ['foldConstants', foldConstants],
    ['simplifyIdentities', simplifyIdentities],
    ['eliminateCommonSubexpressions', eliminateCommonSubexpressions],
    ['eliminateDeadCode', eliminateDeadCode],
  ];
}

export function optimize(g: Graph, dims: Readonly<Record<string, number>>): Graph {
  return optimizationPasses(dims).reduce((graph, [, pass]) => pass(graph), g);
}
