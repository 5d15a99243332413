/**
 * `nnxc graph FILE -o model.svg|model.dot`: a picture of the layer graph. We write Graphviz DOT —
 * inputs and outputs as ovals, each layer call as a box with its ops, output shape and
 * parameters, block instances as labelled clusters, shared layers in one colour joined by dashed
 * "shares weights" links — and Graphviz itself (compiled to WebAssembly) lays it out as SVG.
 */
import { check } from '../compile.js';
import { type LayerCall, type LayerGraph, layerGraph } from '../ir/layer-graph.js';
import { type Io, UsageError, UserError, readSource, report, writeAtomically } from './io.js';
import { parseCommandArgs } from './args.js';

/** The usage line of `nnxc graph`. */
export const GRAPH_USAGE = `  nnxc graph FILE [-o OUT.svg|OUT.dot] [--model NAME]
                                       draw the layer graph (Graphviz layout; FILE.svg by default)`;

const SHARED_COLOURS = ['#fde2c2', '#d9ccf2', '#cdeccd', '#f7cfe0', '#cfe3f7'];

/** Escapes text for a Graphviz HTML-like label. */
function html(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const formatShape = (shape: readonly (number | string)[]) => `[${shape.join(', ')}]`;

function nodeStatement(call: LayerCall, fill: string | undefined): string {
  const id = `n${call.index}`;
  switch (call.kind) {
    case 'input':
      return `${id} [shape=oval, style=filled, fillcolor="#cfe3f7", label=<<b>${html(call.name)}</b><br/>${formatShape(call.shape)}>];`;
    case 'output':
      return `${id} [shape=oval, style=filled, fillcolor="#cdeccd", label=<<b>${html(call.name)}</b><br/>${formatShape(call.shape)}>];`;
    case 'op':
      return `${id} [shape=ellipse, style=filled, fillcolor="#eeeeee", label=<${html(call.ops.join(' · '))}>];`;
    case 'layer': {
      const leaf = call.name.split('/').pop()!;
      const params =
        call.params > 0
          ? `<br/><font point-size="9">${call.params.toLocaleString('en-US')} params</font>`
          : '';
      const shared =
        call.sharedWith.length > 0
          ? `<br/><font point-size="9">shared ×${call.sharedWith.length + 1}</font>`
          : '';
      return (
        `${id} [shape=box, style="rounded,filled", fillcolor="${fill ?? '#ffffff'}", ` +
        `label=<<b>${html(leaf)}</b><br/><font point-size="9">${html(call.ops.join(' · '))}</font>` +
        `<br/>${formatShape(call.shape)}${params}${shared}>];`
      );
    }
  }
}

interface Cluster {
  readonly calls: LayerCall[];
  readonly children: Map<string, Cluster>;
}

/** Groups layer calls by the block instances in their path (`encoder/dense_1` → `encoder`). */
function clusterTree(graph: LayerGraph): Cluster {
  const root: Cluster = { calls: [], children: new Map() };
  for (const call of graph.calls) {
    const scopes = call.scope === '' ? [] : call.scope.split('/');
    let cluster = root;
    for (const scope of scopes) {
      let child = cluster.children.get(scope);
      if (!child) cluster.children.set(scope, (child = { calls: [], children: new Map() }));
      cluster = child;
    }
    cluster.calls.push(call);
  }
  return root;
}

/** The DOT text of a layer graph. */
export function layerGraphDot(graph: LayerGraph): string {
  const fills = new Map<number, string>();
  let colour = 0;
  for (const call of graph.calls) {
    if (call.sharedWith.length === 0 || fills.has(call.index)) continue;
    const fill = SHARED_COLOURS[colour++ % SHARED_COLOURS.length]!;
    for (const index of [call.index, ...call.sharedWith]) fills.set(index, fill);
  }
  const lines = [
    `digraph "${graph.name}" {`,
    '  graph [rankdir=TB, fontname="Helvetica", fontsize=11, nodesep=0.35, ranksep=0.45, ' +
      `label=<<b>${html(graph.name)}</b>  ·  ${graph.totalParams.toLocaleString('en-US')} params>, labelloc=t];`,
    '  node [fontname="Helvetica", fontsize=11, color="#555555"];',
    '  edge [fontname="Helvetica", fontsize=9, color="#555555", fontcolor="#555555", arrowsize=0.7];',
  ];
  let clusterId = 0;
  const emit = (cluster: Cluster, indent: string, path: string) => {
    for (const call of cluster.calls) lines.push(indent + nodeStatement(call, fills.get(call.index)));
    for (const [scope, child] of cluster.children) {
      const scopePath = path ? `${path}/${scope}` : scope;
      lines.push(`${indent}subgraph cluster_${clusterId++} {`);
      lines.push(
        `${indent}  label=<<b>${html(scope)}</b>>; style="rounded,dashed"; color="#888888"; fontsize=10; tooltip="${html(scopePath)}";`,
      );
      emit(child, indent + '  ', scopePath);
      lines.push(`${indent}}`);
    }
  };
  emit(clusterTree(graph), '  ', '');
  for (const edge of graph.edges)
    lines.push(`  n${edge.from} -> n${edge.to} [label=" ${formatShape(edge.shape)}"];`);
  for (const call of graph.calls) {
    for (const other of call.sharedWith) {
      if (other <= call.index) continue;
      lines.push(
        `  n${call.index} -> n${other} [dir=none, style=dashed, color="#d08a2e", fontcolor="#d08a2e", ` +
          `constraint=false, label=" shares weights"];`,
      );
    }
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** Lays out DOT text as SVG with Graphviz compiled to WebAssembly. */
export async function dotToSvg(dot: string): Promise<string> {
  const { Graphviz } = await import('@hpcc-js/wasm-graphviz');
  const graphviz = await Graphviz.load();
  return graphviz.layout(dot, 'svg', 'dot');
}

/** Runs `nnxc graph`. */
export async function graphCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    command: 'graph',
    usage: GRAPH_USAGE,
    options: { output: { type: 'string', short: 'o' }, model: { type: 'string' } },
  });
  const file = await readSource(positionals[0]);
  const out = values.output ?? file.path.replace(/\.nnx$/, '') + '.svg';
  if (!/\.(svg|dot)$/.test(out)) throw new UsageError(`-o must name a .svg or .dot file, got '${out}'`);
  const checked = check(file.text, { path: file.path });
  if (report(file, checked, io)) return 1;
  const name = values.model ?? checked.trains[0]?.model ?? [...checked.models.keys()][0];
  const model = name === undefined ? undefined : checked.models.get(name);
  if (!model) throw new UserError(`${file.path} has no model${name ? ` named '${name}'` : ''} to draw`);
  const graph = layerGraph(model);
  const dot = layerGraphDot(graph);
  let text = dot;
  if (out.endsWith('.svg')) {
    try {
      text = await dotToSvg(dot);
    } catch (e) {
      throw new UserError(`Graphviz could not lay out the graph: ${(e as Error).message}`);
    }
  }
  await writeAtomically(out, text);
  const layers = graph.calls.filter((c) => c.kind === 'layer').length;
  io.out(`wrote ${out}: ${layers} layer calls, ${graph.edges.length} edges\n`);
  return 0;
}
