/**
 * Lowers model definitions (AST) to forward IR graphs: inputs get the symbolic batch dimension,
 * layers become primitive ops, and every node remembers the span it came from. User errors
 * are collected as diagnostics; a statement that fails poisons its target so one mistake does
 * not cascade into many.
 */
import type { CallExpr, Expr, ModelDef, SequentialDef, ShapeExpr, TensorDecl } from '../../parser/ast.js';
import { type Diagnostic, type Span, error } from '../../util/diagnostics.js';
import { didYouMean } from '../../util/suggest.js';
import { GraphBuilder, ShapeError } from '../builder.js';
import { BATCH, type Graph, type Shape, sameShape, shapeToString } from '../graph.js';
import { bindArgs } from './args.js';
import { FUNCTIONS, LAYERS, type LayerInstance, type ParamFactory } from './layers.js';

export interface TensorRef {
  readonly name: string;
  readonly node: number;
  /** Full shape, batch first. */
  readonly shape: Shape;
}

/** A model lowered to a forward graph whose outputs are its predictions. */
export interface ModelIR {
  readonly name: string;
  readonly span: Span;
  readonly graph: Graph;
  readonly inputs: readonly TensorRef[];
  readonly outputs: readonly TensorRef[];
  readonly params: readonly TensorRef[];
}

type Binding =
  | { kind: 'tensor'; node: number; span: Span }
  | { kind: 'layer'; instance: LayerInstance; span: Span }
  | { kind: 'poisoned' };

class Lowering implements ParamFactory {
  readonly b = new GraphBuilder();
  readonly params: TensorRef[] = [];
  private readonly counters = new Map<string, number>();

  constructor(readonly diags: Diagnostic[]) {}

  param(
    b: GraphBuilder,
    name: string,
    shape: readonly number[],
    init: Parameters<ParamFactory['param']>[3],
    fanIn: number,
    fanOut: number,
  ): number {
    const node = b.input(name, 'param', shape, { kind: init, fanIn, fanOut });
    this.params.push({ name, node, shape });
    return node;
  }

  /** `dense_1`, `dense_2`, … for layers that are not bound to a name. */
  freshPath(layer: string): string {
    const base = layer.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
    const k = (this.counters.get(base) ?? 0) + 1;
    this.counters.set(base, k);
    return `${base}_${k}`;
  }

  input(decl: TensorDecl): TensorRef {
    const shape = [BATCH, ...shapeDims(decl.shape)];
    this.b.span = decl.span;
    return { name: decl.name.name, node: this.b.input(decl.name.name, 'data', shape), shape };
  }

  /** Creates a layer from `Name(args)`; undefined (with a diagnostic) when that fails. */
  createLayer(call: CallExpr, path: string | undefined): LayerInstance | undefined {
    if (call.callee.kind !== 'name') {
      this.diags.push(error('E0105', call.callee.span, 'expected a layer such as `Dense(10)`'));
      return undefined;
    }
    const name = call.callee.name;
    const def = LAYERS[name];
    if (!def) {
      const hint = FUNCTIONS[name]
        ? `; \`${name}\` is a function: apply it to a tensor, as in \`${name}(x)\``
        : didYouMean(name, Object.keys(LAYERS));
      this.diags.push(error('E0101', call.callee.span, `unknown layer \`${name}\`${hint}`));
      return undefined;
    }
    const args = bindArgs(name, call.args, def.schema, call.span, this.diags);
    if (!args) return undefined;
    const instance = def.create(args, path ?? this.freshPath(name));
    const accepts = def.accepts;
    // Check the input shape first so the message is the layer's own, not a primitive's.
    return {
      path: instance.path,
      call: (b, x, params) => {
        const problem = accepts?.(b.shapeOf(x));
        if (problem) throw new ShapeError(problem, b.span);
        return instance.call(b, x, params);
      },
    };
  }

  /** Applies a layer to a tensor at `span`, turning shape errors into diagnostics there. */
  applyLayer(layer: LayerInstance, x: number, span: Span): number | undefined {
    return this.guard(span, () => {
      this.b.label = layer.path;
      return layer.call(this.b, x, this);
    });
  }

  guard(span: Span, f: () => number): number | undefined {
    const saved = this.b.span;
    this.b.span = span;
    try {
      return f();
    } catch (e) {
      if (!(e instanceof ShapeError)) throw e;
      this.diags.push(error('E0201', e.span ?? span, e.message));
      return undefined;
    } finally {
      this.b.span = saved;
      this.b.label = undefined;
    }
  }
}

function shapeDims(s: ShapeExpr): (number | string)[] {
  return s.dims.map((d) => (d.kind === 'dim-int' ? d.value : d.name));
}

function perSample(shape: Shape): string {
  return shapeToString(shape.slice(1));
}

export function lowerSequential(def: SequentialDef, diags: Diagnostic[]): ModelIR | undefined {
  const before = diags.length;
  const l = new Lowering(diags);
  if (def.inputs.length !== 1) {
    diags.push(
      error(
        'E0105',
        def.name.span,
        `a sequential model takes exactly one input, ${def.name.name} declares ${def.inputs.length}`,
      ),
    );
    return undefined;
  }
  const input = l.input(def.inputs[0]!);
  let x: number | undefined = input.node;
  for (const layerExpr of def.layers) {
    if (layerExpr.kind !== 'call') {
      diags.push(
        error(
          'E0105',
          layerExpr.span,
          'each line of a sequential body must be a layer, such as `Dense(10, activation: relu)`',
        ),
      );
      continue;
    }
    const layer = l.createLayer(layerExpr, undefined);
    if (layer && x !== undefined) x = l.applyLayer(layer, x, layerExpr.span);
  }
  if (x === undefined || diags.length > before) return undefined;
  l.b.output('output', x, 'prediction');
  const output: TensorRef = { name: 'output', node: x, shape: l.b.shapeOf(x) };
  return {
    name: def.name.name,
    span: def.span,
    graph: l.b.build(),
    inputs: [input],
    outputs: [output],
    params: l.params,
  };
}

export function lowerModel(def: ModelDef, diags: Diagnostic[]): ModelIR | undefined {
  const before = diags.length;
  const l = new Lowering(diags);
  const env = new Map<string, Binding>();
  const inputs = def.inputs.map((decl) => {
    const ref = l.input(decl);
    env.set(ref.name, { kind: 'tensor', node: ref.node, span: decl.span });
    return ref;
  });
  const evaluate = (e: Expr): number | undefined => lowerExpr(l, env, e);
  let returned: number | undefined;
  for (const st of def.body) {
    if (st.kind === 'return') {
      returned = evaluate(st.value);
      continue;
    }
    const target = st.target.name;
    if (st.kind === 'let') {
      const layer = st.value.kind === 'call' ? l.createLayer(st.value, target) : undefined;
      if (st.value.kind !== 'call')
        diags.push(
          error('E0105', st.value.span, '`let` names a layer instance, such as `let enc = Dense(64)`'),
        );
      env.set(target, layer ? { kind: 'layer', instance: layer, span: st.span } : { kind: 'poisoned' });
      continue;
    }
    const node = evaluate(st.value);
    env.set(target, node === undefined ? { kind: 'poisoned' } : { kind: 'tensor', node, span: st.span });
  }
  const outputs: TensorRef[] = [];
  if (def.outputs.length === 0) {
    if (returned !== undefined)
      outputs.push({ name: 'output', node: returned, shape: l.b.shapeOf(returned) });
    else if (diags.length === before)
      diags.push(
        error('E0104', def.name.span, `model ${def.name.name} declares no outputs and has no \`return\``),
      );
  }
  for (const decl of def.outputs) {
    const bound = env.get(decl.name.name);
    if (bound?.kind === 'poisoned') continue;
    if (bound?.kind !== 'tensor') {
      diags.push(
        error(
          'E0104',
          decl.name.span,
          `output \`${decl.name.name}\` is never assigned in the body of ${def.name.name}`,
        ),
      );
      continue;
    }
    const shape = l.b.shapeOf(bound.node);
    const declared = [BATCH, ...shapeDims(decl.shape)];
    if (!sameShape(shape, declared)) {
      diags.push(
        error(
          'E0201',
          bound.span,
          `output \`${decl.name.name}\` has shape ${perSample(shape)} per sample, but it is declared as ${perSample(declared)}`,
          [{ span: decl.shape.span, message: 'declared here' }],
        ),
      );
      continue;
    }
    outputs.push({ name: decl.name.name, node: bound.node, shape });
  }
  if (diags.length > before) return undefined;
  for (const o of outputs) l.b.output(o.name, o.node, 'prediction');
  return { name: def.name.name, span: def.span, graph: l.b.build(), inputs, outputs, params: l.params };
}

const BINARY_NAMES = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div' } as const;

/** Lowers an expression that denotes a tensor. */
function lowerExpr(l: Lowering, env: Map<string, Binding>, e: Expr): number | undefined {
  const recur = (x: Expr) => lowerExpr(l, env, x);
  switch (e.kind) {
    case 'number':
      return l.guard(e.span, () => l.b.constant(e.value));
    case 'name': {
      const bound = env.get(e.name);
      if (bound?.kind === 'tensor') return bound.node;
      if (bound?.kind === 'poisoned') return undefined;
      if (bound?.kind === 'layer') {
        l.diags.push(
          error('E0105', e.span, `\`${e.name}\` is a layer, not a tensor: call it, as in \`${e.name}(x)\``),
        );
        return undefined;
      }
      const tensors = [...env].filter(([, v]) => v.kind === 'tensor').map(([k]) => k);
      l.diags.push(error('E0101', e.span, `unknown name \`${e.name}\`${didYouMean(e.name, tensors)}`));
      return undefined;
    }
    case 'negate': {
      const x = recur(e.operand);
      return x === undefined ? undefined : l.guard(e.span, () => l.b.neg(x));
    }
    case 'binary': {
      const a = recur(e.left);
      const b = recur(e.right);
      if (a === undefined || b === undefined) return undefined;
      return l.guard(e.opSpan, () => {
        try {
          return l.b.binary(BINARY_NAMES[e.op], a, b);
        } catch (err) {
          if (!(err instanceof ShapeError)) throw err;
          throw new ShapeError(
            `cannot apply \`${e.op}\` to shapes ${perSample(l.b.shapeOf(a))} and ${perSample(l.b.shapeOf(b))} (per sample): ${err.message}`,
            e.opSpan,
          );
        }
      });
    }
    case 'call':
      return lowerCall(l, env, e);
    case 'string':
    case 'list':
      l.diags.push(
        error('E0105', e.span, `expected a tensor, found ${e.kind === 'string' ? 'a string' : 'a list'}`),
      );
      return undefined;
  }
}

function lowerCall(l: Lowering, env: Map<string, Binding>, e: CallExpr): number | undefined {
  const single = (): number | undefined => {
    if (e.args.length !== 1 || e.args[0]!.name) {
      l.diags.push(
        error('E0103', e.span, 'a layer or function is applied to exactly one tensor here, as in `f(x)`'),
      );
      return undefined;
    }
    return lowerExpr(l, env, e.args[0]!.value);
  };
  // `Dense(1, activation: sigmoid)(x)`: create the layer, then apply it.
  if (e.callee.kind === 'call') {
    const layer = l.createLayer(e.callee, undefined);
    const x = single();
    return layer && x !== undefined ? l.applyLayer(layer, x, e.span) : undefined;
  }
  if (e.callee.kind !== 'name') {
    l.diags.push(error('E0105', e.callee.span, 'only layers and functions can be called'));
    return undefined;
  }
  const name = e.callee.name;
  const bound = env.get(name);
  if (bound?.kind === 'layer') {
    const x = single();
    return x === undefined ? undefined : l.applyLayer(bound.instance, x, e.span);
  }
  const fn = FUNCTIONS[name];
  if (fn) {
    const x = single();
    return x === undefined ? undefined : l.guard(e.span, () => fn(l.b, x));
  }
  if (LAYERS[name]) {
    l.diags.push(
      error('E0105', e.span, `\`${name}(…)\` creates a layer; apply it to a tensor, as in \`${name}(…)(x)\``),
    );
    return undefined;
  }
  const known = [
    ...Object.keys(FUNCTIONS),
    ...Object.keys(LAYERS),
    ...[...env].filter(([, v]) => v.kind === 'layer').map(([k]) => k),
  ];
  l.diags.push(
    error('E0101', e.callee.span, `unknown function or layer \`${name}\`${didYouMean(name, known)}`),
  );
  return undefined;
}
