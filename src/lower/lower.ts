/**
 * Lowers model definitions (AST) to forward IR graphs: inputs get the symbolic batch dimension,
 * layers become primitive ops, and every node remembers the span it came from. Blocks and
 * models used as layers are inlined: each instance lowers its definition's body again with its
 * own parameter prefix (`res/dense_1/kernel`), and calling one instance twice reuses the layers
 * its first call created, so the weights are shared. User errors are collected as diagnostics;
 * a statement that fails poisons its target so one mistake does not cascade into many.
 *
 * The lowering is split by concern: `lowering.ts` (its state and frames), `bodies.ts`
 * (definition bodies and statements), `callables.ts` (layers and block instances),
 * `expressions.ts` (tensor expressions).
 */
import type * as ast from '../parser/ast.js';
import { type Diagnostic, type Span, error, hasErrors } from '../util/diagnostics.js';
import type { Graph } from '../ir/graph.js';
import { instantiate } from './bodies.js';
import type { LowerMode, StateUpdate } from './layers.js';
import { type LayerCallRecord, Lowering, type TensorRef, attributeTo, newFrame } from './lowering.js';
import type { DefinitionSite } from './scope.js';

export type { DefinitionSite, Scope } from './scope.js';
export type { TensorRef } from './lowering.js';

/** A model lowered to a forward graph whose outputs are its predictions. */
export interface ModelIR {
  readonly name: string;
  readonly span: Span;
  readonly graph: Graph;
  readonly inputs: readonly TensorRef[];
  readonly outputs: readonly TensorRef[];
  readonly params: readonly TensorRef[];
  /** Values the training step writes back (running statistics, the random counter); train mode only. */
  readonly updates?: readonly StateUpdate[];
  /**
   * The same model lowered in `train` mode, when some layer behaves differently in training
   * (Dropout, BatchNormalization); absent when the one graph serves every entry.
   */
  readonly training?: ModelIR;
  /** The calls of library layers and functions, for the summary (`src/ir/layer-graph.ts`). */
  readonly layerCalls?: readonly LayerCallRecord[];
}

/**
 * Lowers a `sequential` or `model` definition to its forward graph; undefined (with
 * diagnostics) when it has errors. Warnings (unused instances and inputs) do not prevent it.
 */
export function lowerModelDefinition(
  site: DefinitionSite,
  diags: Diagnostic[],
  mode: LowerMode = 'infer',
): ModelIR | undefined {
  const def = site.def;
  if (def.kind === 'block') throw new Error('internal: a block is not a model');
  const before = diags.length;
  const l = new Lowering(diags, mode);
  if (def.kind === 'sequential' && def.inputs.length !== 1) {
    diags.push(
      error(
        'E0105',
        def.name.span,
        `a sequential model takes exactly one input, ${def.name.name} declares ${def.inputs.length}`,
      ),
    );
    attributeTo(diags, before, site.file);
    return undefined;
  }
  const inputs = def.inputs.map((d) => l.input(d));
  if (hasErrors(diags.slice(before))) {
    attributeTo(diags, before, site.file);
    return undefined;
  }
  const frame = newFrame(site, '', new Map(), new Map());
  l.active.push(site);
  const outputs = instantiate(
    l,
    frame,
    inputs.map((i) => i.node),
    def.span,
  );
  attributeTo(diags, before, site.file);
  if (outputs === undefined || hasErrors(diags.slice(before))) return undefined;
  const names = outputNames(def, outputs.length);
  const refs = outputs.map((node, i) => ({ name: names[i]!, node, shape: l.b.shapeOf(node) }));
  for (const o of refs) l.b.output(o.name, o.node, 'prediction');
  const model = {
    name: def.name.name,
    span: def.span,
    graph: l.b.build(),
    inputs,
    outputs: refs,
    params: l.params,
    layerCalls: l.layerCalls,
  };
  if (mode === 'train') return { ...model, updates: l.training.updates };
  // A second lowering gives the training step its graph, when the modes differ.
  const training = l.training.modeDependent ? lowerModelDefinition(site, [], 'train') : undefined;
  return training ? { ...model, training } : model;
}

/** Declared output names; `output` (or `output_1`, `output_2`, …) for returned values. */
function outputNames(def: ast.SequentialDef | ast.ModelDef, count: number): string[] {
  if (def.kind === 'model' && def.outputs.length > 0) return def.outputs.map((o) => o.name.name);
  if (count === 1) return ['output'];
  return Array.from({ length: count }, (_, i) => `output_${i + 1}`);
}
