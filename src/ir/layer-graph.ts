/**
 * The layer graph of a model, recovered from its forward IR for people to read (`nnxc summary`,
 * `nnxc graph`): every call of a layer is one node, every tensor passed between calls one edge.
 * A layer called twice (a shared instance) has two call nodes over one parameter set.
 *
 * Lowering labels each node with the path of the layer that produced it (`encoder/dense_1`); the
 * nodes of one call are the connected nodes with that label, so two calls of one layer stay apart.
 */
import type { ModelIR } from '../lower/lower.js';
import type { Graph, Node, Shape } from './graph.js';

/** One call of a layer, one model input or output, or a bare operation (`a - b`, `abs(d)`). */
export interface LayerCall {
  /** Index in {@link LayerGraph.calls}, in topological order. */
  readonly index: number;
  readonly kind: 'input' | 'layer' | 'op' | 'output';
  /** The layer's type as written (`Dense`, `log_softmax`), when lowering recorded it. */
  readonly type?: string;
  /** The layer's path (`encoder/dense_1`), the input's or output's name, or the op (`sub`). */
  readonly name: string;
  /** What the call computes, in order: `matmul, add, relu`. */
  readonly ops: readonly string[];
  /** Per-sample output shape (batch dim dropped). */
  readonly shape: Shape;
  /** Parameters of the layer, counted on its first call only (0 on later, shared calls). */
  readonly params: number;
  /** The other calls of the same layer instance, which share its weights. */
  readonly sharedWith: readonly number[];
  /** Source offset of the call, when known. */
  readonly spanStart?: number;
  /**
   * The block instance the call belongs to (`encoder`, `tower_1/residual_2`), `''` at the top
   * level. Bare ops written inside a block take the instance of their latest, deepest input.
   */
  readonly scope: string;
}

/** A tensor passed from one call to another. */
export interface LayerEdge {
  readonly from: number;
  readonly to: number;
  readonly shape: Shape;
}

export interface LayerGraph {
  readonly name: string;
  readonly calls: readonly LayerCall[];
  readonly edges: readonly LayerEdge[];
  /** Parameter values in total (each shared parameter once). */
  readonly totalParams: number;
  /**
   * Layers that add no node to the inference graph (Dropout), each after the call whose output
   * it passes on: the summary lists them as Keras does, the drawing has nothing to draw.
   */
  readonly passThrough: readonly PassThroughLayer[];
}

export interface PassThroughLayer {
  readonly name: string;
  readonly type: string;
  readonly shape: Shape;
  /** The call whose output it passes on; -1 when that is no call of the graph. */
  readonly after: number;
}

/** What each node belongs to: its label, or the function call (`log_softmax_1`) that added it. */
type LabelOf = (node: Node) => string | undefined;

function labeller(model: ModelIR): LabelOf {
  const byNode = new Map<number, string>();
  for (const r of model.layerCalls ?? []) {
    for (let id = r.firstNode; id < r.endNode; id++)
      if (model.graph.nodes[id]?.label === undefined) byNode.set(id, r.path);
  }
  return (node) => node.label ?? byNode.get(node.id);
}

/** Nodes that carry no data flow of their own: parameters, state, constants. */
function isAuxiliary(node: Node): boolean {
  if (node.op === 'const' || node.op === 'dimsize') return true;
  if (node.op !== 'input') return false;
  const role = node.params.role;
  return role !== 'data';
}

const perSample = (shape: Shape): Shape => (shape[0] === 'B' ? shape.slice(1) : shape);

function elementCount(shape: Shape): number {
  return shape.reduce<number>((n, d) => n * (typeof d === 'number' ? d : 1), 1);
}

/** Union-find over node ids: the calls are its classes. */
class Components {
  private readonly parent: number[];
  constructor(size: number) {
    this.parent = Array.from({ length: size }, (_, i) => i);
  }
  find(i: number): number {
    while (this.parent[i] !== i) i = this.parent[i] = this.parent[this.parent[i]!]!;
    return i;
  }
  union(a: number, b: number): void {
    this.parent[this.find(a)] = this.find(b);
  }
}

function callComponents(g: Graph, labelOf: LabelOf): Components {
  const components = new Components(g.nodes.length);
  for (const node of g.nodes) {
    const label = labelOf(node);
    if (label === undefined || isAuxiliary(node) || node.op === 'input') continue;
    for (const src of node.srcs) {
      const from = g.nodes[src]!;
      if (labelOf(from) === label && !isAuxiliary(from) && from.op !== 'input')
        components.union(src, node.id);
    }
  }
  return components;
}

/** Parameter values per layer path (the label of the parameter inputs). */
function paramsByLayer(g: Graph): Map<string, number> {
  const counts = new Map<string, number>();
  for (const node of g.nodes) {
    if (node.op !== 'input' || node.params.role !== 'param') continue;
    const layer = node.label ?? node.params.name.replace(/\/[^/]*$/, '');
    counts.set(layer, (counts.get(layer) ?? 0) + elementCount(node.shape));
  }
  return counts;
}

/** The op sequence that lowering builds for softmax (see softmaxLogits in train/losses.ts). */
const SOFTMAX_OPS = ['reduce_max', 'sub', 'exp', 'sum', 'div'];
/** Ops that only move or repeat values: left out of what a call is said to compute. */
const LAYOUT_OPS = new Set(['broadcast', 'reshape']);

/** A call's ops as a person reads them: layout ops dropped, softmax's five ops named `softmax`. */
export function describeOps(ops: readonly string[]): string[] {
  const shown = ops.filter((op) => !LAYOUT_OPS.has(op));
  for (let i = 0; i + SOFTMAX_OPS.length <= shown.length; i++) {
    if (SOFTMAX_OPS.every((op, k) => shown[i + k] === op)) shown.splice(i, SOFTMAX_OPS.length, 'softmax');
  }
  return shown;
}

/** The deepest scope among the calls that feed `node`; the latest call wins a tie. */
function innermostInputScope(
  node: Node,
  nodeCall: ReadonlyMap<number, number>,
  calls: readonly LayerCall[],
): string {
  let best = '';
  let bestCall = -1;
  for (const src of node.srcs) {
    const from = nodeCall.get(src);
    if (from === undefined) continue;
    const scope = calls[from]!.scope;
    const depth = scope === '' ? 0 : scope.split('/').length;
    const bestDepth = best === '' ? 0 : best.split('/').length;
    if (depth > bestDepth || (depth === bestDepth && from > bestCall)) [best, bestCall] = [scope, from];
  }
  return best;
}

/** The layer graph of `model`'s forward (inference) graph. */
export function layerGraph(model: ModelIR): LayerGraph {
  const g = model.graph;
  const labelOf = labeller(model);
  const types = new Map((model.layerCalls ?? []).map((r) => [r.path, r.type]));
  const components = callComponents(g, labelOf);
  const params = paramsByLayer(g);
  const callOf = new Map<number, number>(); // component root → call index
  const nodeCall = new Map<number, number>(); // node id → call index
  const calls: (LayerCall & { sharedWith: number[]; ops: string[]; scope: string })[] = [];
  const edges: LayerEdge[] = [];
  const seenLayers = new Map<string, number[]>();
  const edgeKeys = new Set<string>();

  for (const node of g.nodes) {
    if (isAuxiliary(node)) continue;
    const root = components.find(node.id);
    let index = callOf.get(root);
    if (index === undefined) {
      index = calls.length;
      callOf.set(root, index);
      const isInput = node.op === 'input';
      const label = labelOf(node);
      const name = isInput ? node.params.name : (label ?? node.op);
      const layerCalls = seenLayers.get(name) ?? [];
      const labelled = !isInput && label !== undefined;
      const type = labelled ? types.get(name) : undefined;
      calls.push({
        index,
        kind: isInput ? 'input' : labelled ? 'layer' : 'op',
        ...(type !== undefined && { type }),
        name,
        ops: [],
        shape: perSample(node.shape),
        params: labelled && layerCalls.length === 0 ? (params.get(name) ?? 0) : 0,
        sharedWith: [],
        spanStart: node.span?.start,
        scope: labelled ? name.split('/').slice(0, -1).join('/') : '',
      });
      if (labelled) {
        for (const other of layerCalls) {
          calls[other]!.sharedWith.push(index);
          calls[index]!.sharedWith.push(other);
        }
        seenLayers.set(name, [...layerCalls, index]);
      }
    }
    nodeCall.set(node.id, index);
    const call = calls[index]!;
    if (node.op !== 'input') call.ops.push(node.op);
    // The call's output is its last node in topological order.
    (call as { shape: Shape }).shape = perSample(node.shape);
    const writtenInModel =
      node.span !== undefined && node.span.start >= model.span.start && node.span.end <= model.span.end;
    if (call.kind === 'op' && !writtenInModel) call.scope = innermostInputScope(node, nodeCall, calls);
    for (const src of node.srcs) {
      const from = nodeCall.get(src);
      if (from === undefined || from === index) continue;
      const key = `${from}>${index}>${src}`;
      if (edgeKeys.has(key)) continue;
      edgeKeys.add(key);
      edges.push({ from, to: index, shape: perSample(g.nodes[src]!.shape) });
    }
  }
  for (const output of model.outputs) {
    const from = nodeCall.get(output.node);
    const index = calls.length;
    calls.push({
      index,
      kind: 'output',
      name: output.name,
      ops: [],
      shape: perSample(output.shape),
      params: 0,
      sharedWith: [],
      scope: '',
    });
    if (from !== undefined) edges.push({ from, to: index, shape: perSample(output.shape) });
  }
  const totalParams = [...params.values()].reduce((a, b) => a + b, 0);
  for (const call of calls) call.ops = describeOps(call.ops);
  const named = new Set(calls.map((c) => c.name));
  const passThrough = (model.layerCalls ?? [])
    .filter((r) => r.firstNode === r.endNode && !named.has(r.path))
    .map((r) => ({
      name: r.path,
      type: r.type,
      shape: perSample(g.nodes[r.output]!.shape),
      after: nodeCall.get(r.output) ?? -1,
    }));
  return { name: model.name, calls, edges, totalParams, passThrough };
}
