/**
 * The graph verifier: the invariants every pass must keep, checked on a finished graph. A pass
 * that breaks one is a compiler bug, so the tests run this after the lowering, after autodiff and
 * after every optimisation pass, and `verifyFusion` on the kernels fusion makes of the result;
 * the compiler itself does not pay for them.
 */
import { type Graph, type Node, type Op, type OpParams, sameShape, shapeToString, sizeOf } from './graph.js';
import { SHAPE_RULES, type ShapeRule } from './ops.js';
import type { FusedGraph } from './passes/fuse.js';

/** How many sources an op takes; `concat` takes one or more. */
const ARITY: { readonly [P in Op]: number | 'one or more' } = {
  neg: 1,
  exp: 1,
  log: 1,
  sqrt: 1,
  abs: 1,
  sign: 1,
  relu: 1,
  sigmoid: 1,
  tanh: 1,
  softplus: 1,
  elu: 1,
  gelu: 1,
  erf: 1,
  swish: 1,
  sin: 1,
  cos: 1,
  floor: 1,
  add: 2,
  sub: 2,
  mul: 2,
  div: 2,
  max: 2,
  min: 2,
  gt: 2,
  eq: 2,
  input: 0,
  const: 0,
  dimsize: 0,
  matmul: 2,
  sum: 1,
  reduce_max: 1,
  reshape: 1,
  broadcast: 1,
  transpose: 1,
  conv2d: 2,
  conv2d_input_grad: 2,
  conv2d_filter_grad: 2,
  max_pool2d: 1,
  max_pool2d_grad: 2,
  avg_pool2d: 1,
  avg_pool2d_grad: 1,
  gather: 2,
  scatter_add: 2,
  one_hot: 1,
  slice: 1,
  concat: 'one or more',
  pad: 1,
  random_uniform: 2,
  image_shift: 2,
  iota: 0,
};

/** Whether a key of an op's params may be left out; derived from {@link OpParams}, so it cannot drift. */
type Presence<T> = { readonly [K in keyof T]-?: object extends Pick<T, K> ? 'optional' : 'required' };

const NO_PARAMS = {} as const;
const CONV = { strides: 'required', dilation: 'required', pad: 'required' } as const;
const POOL = { window: 'required', strides: 'required', pad: 'required' } as const;
const REDUCE = { axes: 'required', keepDims: 'required', slices: 'optional' } as const;

/** Every op's param keys; the type makes each entry list exactly the keys its op declares. */
const PARAM_KEYS: { readonly [P in Op]: Presence<OpParams[P]> } = {
  neg: NO_PARAMS,
  exp: NO_PARAMS,
  log: NO_PARAMS,
  sqrt: NO_PARAMS,
  abs: NO_PARAMS,
  sign: NO_PARAMS,
  relu: NO_PARAMS,
  sigmoid: NO_PARAMS,
  tanh: NO_PARAMS,
  softplus: NO_PARAMS,
  elu: NO_PARAMS,
  gelu: NO_PARAMS,
  erf: NO_PARAMS,
  swish: NO_PARAMS,
  sin: NO_PARAMS,
  cos: NO_PARAMS,
  floor: NO_PARAMS,
  add: NO_PARAMS,
  sub: NO_PARAMS,
  mul: NO_PARAMS,
  div: NO_PARAMS,
  max: NO_PARAMS,
  min: NO_PARAMS,
  gt: NO_PARAMS,
  eq: NO_PARAMS,
  input: {
    name: 'required',
    role: 'required',
    shape: 'required',
    init: 'optional',
    regularizer: 'optional',
    derive: 'optional',
  },
  const: { value: 'required' },
  dimsize: { dim: 'required' },
  matmul: { transA: 'required', transB: 'required' },
  sum: REDUCE,
  reduce_max: REDUCE,
  reshape: { shape: 'required' },
  broadcast: { shape: 'required' },
  transpose: { perm: 'required' },
  conv2d: CONV,
  conv2d_input_grad: { ...CONV, inputHW: 'required' },
  conv2d_filter_grad: { ...CONV, kernelHW: 'required', slices: 'optional' },
  max_pool2d: POOL,
  max_pool2d_grad: POOL,
  avg_pool2d: POOL,
  avg_pool2d_grad: { ...POOL, inputHW: 'required' },
  gather: NO_PARAMS,
  scatter_add: { rows: 'required' },
  one_hot: { depth: 'required' },
  slice: { axis: 'required', start: 'required', size: 'required' },
  concat: { axis: 'required' },
  pad: { axis: 'required', before: 'required', after: 'required' },
  random_uniform: { shape: 'required', salt: 'required' },
  image_shift: { adjoint: 'required' },
  iota: { shape: 'required', axis: 'required' },
};

/** One broken invariant, naming the node (`%12 = matmul`) so a failing test points at it. */
export interface GraphProblem {
  readonly node?: number;
  readonly message: string;
}

/** Every broken invariant of `g`; empty for a well-formed graph. */
export function verifyGraph(g: Graph): GraphProblem[] {
  const problems: GraphProblem[] = [];
  g.nodes.forEach((n, index) => {
    const at = (message: string) =>
      problems.push({ node: index, message: `%${index} = ${n.op}: ${message}` });
    if (n.id !== index) at(`its id is ${n.id}; a node's id is its position`);
    if (!(n.op in ARITY)) return at('not an op');
    const arity = ARITY[n.op];
    if (arity === 'one or more' ? n.srcs.length === 0 : n.srcs.length !== arity)
      at(`takes ${arity} sources, has ${n.srcs.length}`);
    const badSrc = n.srcs.find((s) => !Number.isInteger(s) || s < 0 || s >= index);
    if (badSrc !== undefined) return at(`source %${badSrc} does not come before it (topological order)`);
    paramProblems(n).forEach(at);
    const expected = shapeByRule(n, g.nodes);
    if (typeof expected === 'string') at(`its shape rule rejects it: ${expected}`);
    else if (!sameShape(expected, n.shape))
      at(`has shape ${shapeToString(n.shape)}, its shape rule gives ${shapeToString(expected)}`);
  });
  const inputs = new Set(g.nodes.filter((n) => n.op === 'input').map((n) => n.id));
  const names = new Set<string>();
  for (const o of g.outputs) {
    const bad = (message: string) => problems.push({ message: `output ${o.name}: ${message}` });
    if (names.has(o.name)) bad('named twice');
    names.add(o.name);
    if (!g.nodes[o.node]) bad(`node %${o.node} does not exist`);
    if ((o.role === 'update') !== (o.target !== undefined))
      bad('an update, and only an update, has a target');
    if (o.target !== undefined && !inputs.has(o.target)) bad(`its target %${o.target} is not an input`);
  }
  return problems;
}

/** Throws with every problem listed: for tests, after a pass. */
export function assertWellFormed(g: Graph, after: string): void {
  const problems = verifyGraph(g);
  if (problems.length > 0)
    throw new Error(
      `graph after ${after} is malformed:\n${problems.map((p) => `  ${p.message}`).join('\n')}`,
    );
}

/** Storage buffers one kernel may bind: the number WebGPU guarantees per shader stage. */
const MAX_BINDINGS = 8;
const ANCHORS: ReadonlySet<Op> = new Set<Op>(['matmul', 'sum', 'reduce_max']);

/**
 * Every broken invariant of a fusion, checked independently of how `fuse` decided: its graph is
 * well formed; each computed node (not an input or a constant) is in exactly one kernel; a
 * kernel's roots and anchor are its members, its roots of one element count, its anchor a matmul
 * or reduction, its prologue inside it; whatever a kernel reads from outside is stored (an
 * input or another kernel's root), as is every graph output; no kernel binds more than 8
 * buffers; and the kernels can be ordered (no two read each other's roots, directly or not).
 */
export function verifyFusion(f: FusedGraph): GraphProblem[] {
  const g = f.graph;
  const problems = verifyGraph(g);
  const kernelOf = new Map<number, number>();
  f.kernels.forEach((k, i) => {
    for (const m of k.members) {
      const other = kernelOf.get(m);
      if (other !== undefined) problems.push({ node: m, message: `%${m} is in kernels ${other} and ${i}` });
      kernelOf.set(m, i);
    }
  });
  for (const n of g.nodes)
    if (n.op !== 'input' && n.op !== 'const' && !kernelOf.has(n.id))
      problems.push({ node: n.id, message: `%${n.id} = ${n.op} is in no kernel` });
  const stored = new Set<number>(g.nodes.filter((n) => n.op === 'input').map((n) => n.id));
  for (const k of f.kernels) for (const r of k.roots) stored.add(r);
  const inPlace = new Map<number, number>();
  for (const o of g.outputs) {
    if (!stored.has(o.node)) problems.push({ message: `output ${o.name}: %${o.node} is not stored` });
    if (o.role === 'update' && o.target !== undefined && o.target !== o.node) inPlace.set(o.node, o.target);
  }
  const after = f.kernels.map(() => new Set<number>());
  f.kernels.forEach((k, i) => {
    const at = (message: string) =>
      problems.push({ message: `kernel ${i} (root %${k.roots[0]}): ${message}` });
    if (k.roots.length === 0) return at('has no root');
    for (const r of k.roots) if (!k.members.has(r)) at(`its root %${r} is not a member`);
    const size = sizeOf(g.nodes[k.roots[0]!]!.shape as number[]);
    // A row-block kernel stores per-element, per-row and scalar values.
    for (const r of k.roots)
      if (!k.rows && sizeOf(g.nodes[r]!.shape as number[]) !== size)
        at(`its root %${r} has another element count`);
    if (k.anchor !== undefined) {
      if (!k.members.has(k.anchor)) at(`its anchor %${k.anchor} is not a member`);
      if (!ANCHORS.has(g.nodes[k.anchor]!.op)) at(`its anchor %${k.anchor} is a ${g.nodes[k.anchor]!.op}`);
    }
    for (const p of k.prologue) if (!k.members.has(p)) at(`its prologue %${p} is not a member`);
    const reads = new Set<number>();
    for (const m of k.members)
      for (const s of g.nodes[m]!.srcs) if (!k.members.has(s) && g.nodes[s]!.op !== 'const') reads.add(s);
    for (const s of reads) {
      if (!stored.has(s)) at(`reads %${s}, which no kernel stores`);
      const from = kernelOf.get(s);
      if (from !== undefined && from !== i) after[i]!.add(from);
    }
    // The old value of an in-place update is read through its root's own binding.
    const overwritten = new Set(k.roots.flatMap((r) => (inPlace.has(r) ? [inPlace.get(r)!] : [])));
    const bindings = k.roots.length + [...reads].filter((s) => !overwritten.has(s)).length;
    if (bindings > MAX_BINDINGS) at(`binds ${bindings} storage buffers, more than ${MAX_BINDINGS}`);
  });
  // Kernel order: a depth-first walk finds a cycle of kernels reading each other.
  const state = f.kernels.map(() => 0); // 0 unvisited, 1 on the path, 2 done
  const visit = (i: number): boolean => {
    if (state[i] === 1) return false;
    if (state[i] === 2) return true;
    state[i] = 1;
    for (const j of after[i]!) if (!visit(j)) return false;
    state[i] = 2;
    return true;
  };
  for (let i = 0; i < f.kernels.length; i++)
    if (!visit(i)) {
      problems.push({ message: `kernel ${i} depends on itself through other kernels (a cycle)` });
      break;
    }
  return problems;
}

/** Throws with every problem of a fusion listed: for tests. */
export function assertFusedWellFormed(f: FusedGraph, after: string): void {
  const problems = verifyFusion(f);
  if (problems.length > 0)
    throw new Error(`fusion of ${after} is malformed:\n${problems.map((p) => `  ${p.message}`).join('\n')}`);
}

function paramProblems(n: Node): string[] {
  const keys = PARAM_KEYS[n.op] as Readonly<Record<string, 'required' | 'optional'>>;
  const params = n.params as Readonly<Record<string, unknown>>;
  const missing = Object.keys(keys).filter((k) => keys[k] === 'required' && params[k] === undefined);
  const unknown = Object.keys(params).filter((k) => !(k in keys));
  return [
    ...missing.map((k) => `param ${k} is missing`),
    ...unknown.map((k) => `param ${k} is not one of its op's`),
  ];
}

function shapeByRule(n: Node, nodes: readonly Node[]): Node['shape'] | string {
  const rule = SHAPE_RULES[n.op] as ShapeRule<Op>;
  try {
    const shape = rule(
      n.srcs.map((s) => nodes[s]!.shape),
      n.params,
    );
    return 'error' in shape ? shape.error : shape;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
