/**
 * The train block's `freeze: [trunk_1, dense_2]`: layers whose parameters stay as they are while
 * this block trains, named by their paths as `nnxc summary` prints them (`trunk_1/conv2d_1` may be
 * written unquoted). It is `trainable: false` decided by the training rather than by the model,
 * so one model can be trained whole in one run and with a frozen trunk in another
 * (`--set freeze=[]`). A name that matches no layer with parameters is an error at its span.
 */
import type { Expr, TrainDef } from '../parser/ast.js';
import { type Diagnostic, type Span, error } from '../util/diagnostics.js';
import { didYouMean } from '../util/suggest.js';
import { inputsOf } from '../ir/graph.js';
import type { ModelIR, TensorRef } from '../lower/lower.js';

/** One layer path the train block freezes. */
export interface FrozenLayer {
  readonly path: string;
  readonly span: Span;
}

/** `trunk_1`, `"trunk_1/conv2d_1"` or `trunk_1/conv2d_1` as a path; undefined if it is none. */
function layerPath(e: Expr): string | undefined {
  if (e.kind === 'name' || e.kind === 'string') return e.kind === 'name' ? e.name : e.value;
  if (e.kind === 'binary' && e.op === '/') {
    const left = layerPath(e.left);
    const right = layerPath(e.right);
    return left !== undefined && right !== undefined ? `${left}/${right}` : undefined;
  }
  return undefined;
}

/** Reads the `freeze` field (absent: nothing frozen); an item that is no path is reported. */
export function bindFreeze(def: TrainDef, diags: Diagnostic[]): FrozenLayer[] {
  const field = def.fields.find((f) => f.name.name === 'freeze');
  if (field === undefined) return [];
  const items = field.value.kind === 'list' ? field.value.items : [field.value];
  const out: FrozenLayer[] = [];
  for (const item of items) {
    const path = layerPath(item);
    if (path === undefined)
      diags.push(error('E0105', item.span, '`freeze` lists layer paths, as in `freeze: [trunk_1, dense_1]`'));
    else out.push({ path, span: item.span });
  }
  return out;
}

/** True when parameter `name` lies under layer `path` (`trunk_1` holds `trunk_1/conv2d_1/kernel`). */
function isUnder(name: string, path: string): boolean {
  return name.startsWith(`${path}/`);
}

/** The paths of every layer (and enclosing block) that owns parameters, outermost first. */
function layerPaths(model: ModelIR): string[] {
  const paths = new Set<string>();
  for (const p of inputsOf(model.graph, 'param')) {
    const parts = p.params.name.split('/');
    for (let i = 1; i < parts.length; i++) paths.add(parts.slice(0, i).join('/'));
  }
  return [...paths];
}

/** Checks that each frozen path names a layer of `model` that has parameters. */
export function checkFreeze(model: ModelIR, frozen: readonly FrozenLayer[], diags: Diagnostic[]): void {
  const paths = layerPaths(model);
  for (const f of frozen) {
    if (paths.includes(f.path)) continue;
    const top = paths.filter((p) => !p.includes('/'));
    diags.push(
      error(
        'E0101',
        f.span,
        `${model.name} has no layer \`${f.path}\` with parameters to freeze${didYouMean(f.path, paths)}`,
        [{ message: `its layers with parameters are: ${top.join(', ')}` }],
      ),
    );
  }
}

/** `model` with the parameters under the frozen paths taken out of the trained set. */
export function freezeLayers(model: ModelIR, paths: readonly string[]): ModelIR {
  if (paths.length === 0) return model;
  const trained = (p: TensorRef) => !paths.some((path) => isUnder(p.name, path));
  return {
    ...model,
    params: model.params.filter(trained),
    ...(model.training && { training: freezeLayers(model.training, paths) }),
  };
}
