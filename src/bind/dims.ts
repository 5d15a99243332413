/**
 * Symbolic dimensions beyond the batch (`x: [T, 16]`) are checked symbolically; before code is
 * generated each must have a size, given by the train block (`dims: { T: 8 }`). This binds them
 * in a lowered model, and checks that a train block names exactly the symbols its model has.
 */
import type { TrainDef } from '../parser/ast.js';
import { type Diagnostic, error } from '../util/diagnostics.js';
import { didYouMean } from '../util/suggest.js';
import { BATCH, type Dim, type Graph, type Node, type Shape } from '../ir/graph.js';
import type { ModelIR, TensorRef } from '../lower/lower.js';
import type { TrainConfig } from './train.js';

/** The symbolic dimensions of a model's inputs, other than the batch, in order of appearance. */
export function symbolicDims(model: ModelIR): string[] {
  const out = new Set<string>();
  for (const input of model.inputs)
    for (const d of input.shape) if (typeof d === 'string' && d !== BATCH) out.add(d);
  return [...out];
}

/**
 * Checks a train block against its model: every loss names an output, and every symbolic
 * dimension has a size (and only those).
 */
export function checkTrainAgainstModel(
  model: ModelIR,
  config: TrainConfig,
  def: TrainDef,
  diags: Diagnostic[],
): void {
  const outputs = model.outputs.map((o) => o.name);
  for (const o of config.outputLosses) {
    if (o.output !== undefined && !outputs.includes(o.output))
      diags.push(
        error(
          'E0101',
          o.span,
          `${model.name} has no output \`${o.output}\`${didYouMean(o.output, outputs)}`,
          [{ message: `its outputs are: ${outputs.join(', ')}` }],
        ),
      );
  }
  const named = config.outputLosses.filter((o) => o.output !== undefined).map((o) => o.output!);
  if (named.length > 0 && named.length < outputs.length) {
    const missing = outputs.filter((o) => !named.includes(o));
    diags.push(
      error(
        'E0104',
        def.model.span,
        `train ${model.name} gives no loss for output${missing.length === 1 ? '' : 's'} ${missing.map((m) => `\`${m}\``).join(', ')}`,
      ),
    );
  }
  const symbols = symbolicDims(model);
  for (const symbol of symbols) {
    if (!config.dims.has(symbol))
      diags.push(
        error(
          'E0303',
          def.model.span,
          `${model.name} has the symbolic dimension \`${symbol}\`; give its size in the train block, as in \`dims: { ${symbol}: 8 }\``,
        ),
      );
  }
  for (const name of config.dims.keys()) {
    if (!symbols.includes(name))
      diags.push(
        error(
          'E0101',
          def.span,
          `\`dims\` sizes \`${name}\`, which is not a dimension of ${model.name}${didYouMean(name, symbols)}`,
        ),
      );
  }
}

function bindDim(d: Dim, sizes: ReadonlyMap<string, number>): Dim {
  return typeof d === 'string' ? (sizes.get(d) ?? d) : d;
}

function bindShapeDims(shape: Shape, sizes: ReadonlyMap<string, number>): Shape {
  return shape.map((d) => bindDim(d, sizes));
}

/** Replaces the symbols in a node's shape and in the shape-like parameters of its op. */
function bindNode(n: Node, sizes: ReadonlyMap<string, number>): Node {
  const params = { ...(n.params as Record<string, unknown>) };
  if (Array.isArray(params['shape'])) params['shape'] = bindShapeDims(params['shape'] as Shape, sizes);
  if (typeof params['dim'] === 'string') params['dim'] = bindDim(params['dim'], sizes);
  // One rewrite for every op's shape-like params: the result keeps the op's params type.
  return { ...n, shape: bindShapeDims(n.shape, sizes), params } as Node;
}

/** The model with its symbolic dimensions (not the batch) replaced by the given sizes. */
export function bindModelDims(model: ModelIR, sizes: ReadonlyMap<string, number>): ModelIR {
  if (sizes.size === 0) return model;
  const graph: Graph = { ...model.graph, nodes: model.graph.nodes.map((n) => bindNode(n, sizes)) };
  const ref = (r: TensorRef): TensorRef => ({ ...r, shape: bindShapeDims(r.shape, sizes) });
  return {
    ...model,
    graph,
    inputs: model.inputs.map(ref),
    outputs: model.outputs.map(ref),
    params: model.params.map(ref),
    // The train-mode lowering (Dropout, batch statistics) has the same symbols to bind.
    ...(model.training && { training: bindModelDims(model.training, sizes) }),
  };
}
