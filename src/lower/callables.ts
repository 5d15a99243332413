/**
 * What a body can call on tensors: library layers (bound against their schemas), functions on
 * a line of their own, and instances of blocks and models, whose bodies are lowered again on
 * each call and share the layers their first call created.
 */
import { ownEntry } from '../util/own.js';
import type * as ast from '../parser/ast.js';
import { type Diagnostic, type RelatedNote, type Span, error, warning } from '../util/diagnostics.js';
import { didYouMean } from '../util/suggest.js';
import { ShapeError } from '../ir/builder.js';
import type { Shape } from '../ir/graph.js';
import { type ArgValue, bindArgs, convertArg } from './args.js';
import { declaredInputs, instantiate } from './bodies.js';
import { FUNCTIONS, LAYERS, type LayerInstance } from './layers.js';
import {
  type Arity,
  type Callable,
  type Frame,
  type Lowering,
  attributeTo,
  newFrame,
  perSample,
} from './lowering.js';
import { foldConstant } from './constants.js';
import { type DefinitionSite, blockSchema, substituteArgs } from './scope.js';

/** Far more than any real model nests; past it a block that uses itself is reported instead. */
const MAX_INSTANCE_DEPTH = 32;

/** `dense_1`, `residual_2`, … for layers not bound to a name, numbered per instance. */
export function freshName(frame: Frame, definition: string): string {
  // Keras' names: Conv2D → conv2d, SimpleRNN → simple_rnn (no break after a digit).
  const base = definition.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  const k = (frame.counters.get(base) ?? 0) + 1;
  frame.counters.set(base, k);
  return `${base}_${k}`;
}

/**
 * Creates the layer a call such as `Dense(10)` or `Residual(64)` denotes; undefined (with a
 * diagnostic) when that fails. An instance re-lowered for a second call finds its layers cached.
 */
export function createLayer(
  l: Lowering,
  frame: Frame,
  call: ast.CallExpr,
  name: string | undefined,
): Callable | undefined {
  const key = `${call.span.start}${frame.iteration}`;
  const cached = frame.cache.get(key);
  if (cached) return cached;
  if (call.callee.kind !== 'name') {
    l.diags.push(error('E0105', call.callee.span, 'expected a layer such as `Dense(10)`'));
    return undefined;
  }
  const callee = call.callee.name;
  const path = frame.prefix + (name === undefined ? freshName(frame, callee) : `${name}${frame.iteration}`);
  const allArgs = substituteArgs(call.args, frame.constants);
  const trainable = trainableArg(l, callee, allArgs);
  if (trainable === undefined) return undefined;
  reportInputShapes(l, frame, callee, allArgs);
  const args = allArgs.filter((a) => a.name?.name !== TRAINABLE && !INPUT_SHAPE_ARGS.has(a.name?.name ?? ''));
  const site = frame.site.scope.get(callee);
  const created = site
    ? compositeLayer(l, site, args, call, path)
    : libraryLayer(l, callee, args, call, path, frame);
  const layer = created && !trainable ? frozenCallable(created) : created;
  if (layer) frame.cache.set(key, layer);
  return layer;
}

/** Keras' ways of giving a first layer its input shape; in nnx the model's header declares it. */
const INPUT_SHAPE_ARGS: ReadonlySet<string> = new Set(['input_shape', 'input_dim', 'batch_input_shape']);

/**
 * `Dense(64, input_shape: (784,))`: an error that writes out the header the shape belongs in,
 * `sequential Net(x: [784]) { ... }`, with the enclosing definition's own keyword and names.
 */
function reportInputShapes(l: Lowering, frame: Frame, callee: string, args: readonly ast.Argument[]): void {
  const def = frame.site.def;
  for (const arg of args) {
    const name = arg.name?.name;
    if (name === undefined || !INPUT_SHAPE_ARGS.has(name)) continue;
    const items = arg.value.kind === 'list' ? arg.value.items : [arg.value];
    const dims = (name === 'batch_input_shape' ? items.slice(1) : items).map((d) => {
      const folded = foldConstant(d);
      return folded.ok ? String(folded.value) : d.kind === 'name' ? d.name : '…';
    });
    const input = declaredInputs(def)[0]?.name ?? 'x';
    const header = `${def.kind} ${def.name.name}(${input}: [${dims.join(', ')}]) { ... }`;
    l.diags.push(
      error(
        'E0103',
        arg.span,
        `\`${name}\` of ${callee}: in nnx the input shape goes in the model header, not on a layer: write \`${header}\``,
        [
          {
            span: def.name.span,
            ...(frame.site.file !== undefined && { file: frame.site.file }),
            message: `${def.name.name}'s inputs are declared here`,
          },
        ],
      ),
    );
  }
}

/** The argument every layer, block and model instance takes: `trainable: false` freezes it. */
const TRAINABLE = 'trainable';

/** The value of a call's `trainable` argument (true when absent); undefined after a diagnostic. */
function trainableArg(l: Lowering, callee: string, args: readonly ast.Argument[]): boolean | undefined {
  const arg = args.find((a) => a.name?.name === TRAINABLE);
  if (arg === undefined) return true;
  const value = convertArg(callee, { name: TRAINABLE, type: 'bool' }, arg.value, l.diags);
  return typeof value === 'boolean' ? value : undefined;
}

/**
 * The layer with its parameters frozen: those created while it is applied (its own, and in a
 * block or model every inner layer's) are not trained, so the step takes no gradient of them.
 */
function frozenCallable(callable: Callable): Callable {
  const apply = callable.apply;
  return {
    ...callable,
    apply(l, inputs, span) {
      l.frozen++;
      try {
        return apply.call(this, l, inputs, span);
      } finally {
        l.frozen--;
      }
    },
  };
}

/** Where the layers are listed, for an unknown layer with no near name. */
function layerListNote(): RelatedNote {
  const layers = Object.keys(LAYERS).join(', ');
  return { message: `the layers are: ${layers}, and the blocks and models of this file and its imports` };
}

function libraryLayer(
  l: Lowering,
  callee: string,
  args: readonly ast.Argument[],
  call: ast.CallExpr,
  path: string,
  frame: Frame,
): Callable | undefined {
  const def = ownEntry(LAYERS, callee);
  if (!def) {
    const hint = ownEntry(FUNCTIONS, callee)
      ? `; \`${callee}\` is a function: apply it to a tensor, as in \`${callee}(x)\``
      : didYouMean(callee, [...Object.keys(LAYERS), ...frame.site.scope.keys()]);
    l.diags.push(
      error(
        'E0101',
        call.callee.span,
        `unknown layer \`${callee}\`${hint}`,
        hint === '' ? [layerListNote()] : undefined,
      ),
    );
    return undefined;
  }
  const bound = bindArgs(callee, args, def.schema, call.span, l.diags);
  if (!bound) return undefined;
  const instance = def.create(bound, path);
  const arity =
    def.arity === 'many'
      ? { min: 2, max: Infinity }
      : def.arity === undefined
        ? { min: 1, max: 1 }
        : def.arity;
  return primitiveCallable(instance, def.accepts, arity, def.advise, callee);
}

function primitiveCallable(
  instance: LayerInstance,
  accepts: ((shape: Shape) => string | undefined) | undefined,
  arity: Arity,
  advise: ((shape: Shape) => string | undefined) | undefined,
  type: string,
): Callable {
  return {
    path: instance.path,
    arity,
    apply(l, xs, span) {
      const x = xs[0];
      const y = l.guard(
        span,
        () => {
          // The layer's own check first, so the message is the layer's, not a primitive's.
          const problem = accepts?.(l.b.shapeOf(x!));
          if (problem) throw new ShapeError(problem, span);
          const advice = advise?.(l.b.shapeOf(x!));
          if (advice) l.diags.push(warning('W0104', span, advice));
          l.b.label = instance.path;
          const firstNode = l.b.size;
          const out = instance.callMany ? instance.callMany(l.b, xs, l) : instance.call(l.b, x!, l);
          l.layerCalls.push({ path: instance.path, type, firstNode, endNode: l.b.size, output: out });
          return out;
        },
        firstCallNote(this),
      );
      return y === undefined ? undefined : [y];
    },
  };
}

/** `relu` on its own line of a sequential body; the summary shows it as the layer `row` (`relu_1`). */
export function functionCallable(name: string, row: string): Callable {
  const fn = ownEntry(FUNCTIONS, name)!;
  return {
    path: name,
    arity: { min: 1, max: 1 },
    apply: (l, [x], span) => {
      const y = l.guard(span, () => {
        const firstNode = l.b.size;
        const out = fn(l.b, x!);
        l.layerCalls.push({ path: row, type: name, firstNode, endNode: l.b.size, output: out });
        return out;
      });
      return y === undefined ? undefined : [y];
    },
  };
}

function firstCallNote(callable: Callable): RelatedNote[] | undefined {
  const first = callable.firstCall;
  if (first === undefined) return undefined;
  const shapes = first.shapes.map(perSample).join(', ');
  return [
    {
      span: first.span,
      ...(first.file !== undefined && { file: first.file }),
      message: `\`${callable.path}\` is shared: its first call, here, took ${shapes} per sample`,
    },
  ];
}

/** An instance of a block or model: its arguments bound now, its body lowered on each call. */
function compositeLayer(
  l: Lowering,
  site: DefinitionSite,
  args: readonly ast.Argument[],
  call: ast.CallExpr,
  path: string,
): Callable | undefined {
  const def = site.def;
  const before = l.diags.length;
  const schema = def.kind === 'block' ? blockSchema(def.params, def.name.name, l.diags) : [];
  attributeTo(l.diags, before, site.file);
  if (l.diags.length > before) return undefined;
  const bindStart = l.diags.length;
  const bound = bindArgs(def.name.name, args, schema, call.span, l.diags);
  if (!bound) {
    addSignatureNote(l.diags, bindStart, site);
    return undefined;
  }
  const constants = bound.values as ReadonlyMap<string, ArgValue>;
  const cache = new Map<string, Callable>();
  return {
    path,
    arity: { min: declaredInputs(def).length, max: declaredInputs(def).length },
    apply(l, inputs, span) {
      if (l.active.includes(site) || l.active.length > MAX_INSTANCE_DEPTH) {
        l.diags.push(
          error('E0106', span, `${def.name.name} uses itself, so it would never end`, [
            {
              span: def.name.span,
              ...(site.file !== undefined && { file: site.file }),
              message: `${def.name.name} is defined here`,
            },
          ]),
        );
        return undefined;
      }
      if (!l.unroll(span)) return undefined;
      const start = l.diags.length;
      l.active.push(site);
      const outputs = instantiate(l, newFrame(site, `${path}/`, constants, cache), inputs, span);
      l.active.pop();
      attributeTo(l.diags, start, site.file);
      addInstanceNote(l.diags, start, def, span);
      return outputs;
    },
  };
}

/** Wrong arguments to a block also show how it is declared: `block Residual(c: int)(x)`. */
function addSignatureNote(diags: Diagnostic[], start: number, site: DefinitionSite): void {
  const def = site.def;
  const note: RelatedNote = {
    span: def.name.span,
    ...(site.file !== undefined && { file: site.file }),
    message: `${def.name.name} is declared as \`${signature(def)}\``,
  };
  for (let i = start; i < diags.length; i++)
    diags[i] = { ...diags[i]!, notes: [...(diags[i]!.notes ?? []), note] };
}

/** `block Residual(c: int, act: enum(relu, tanh) = relu)(x)`, or `model Enc(x: [784])`. */
function signature(def: ast.LayerDefinition): string {
  const dims = (s: ast.ShapeExpr) =>
    `[${s.dims.map((d) => (d.kind === 'dim-int' ? d.value : d.name)).join(', ')}]`;
  const input = (i: { name: ast.Identifier; shape?: ast.ShapeExpr }) =>
    i.shape ? `${i.name.name}: ${dims(i.shape)}` : i.name.name;
  if (def.kind !== 'block') return `${def.kind} ${def.name.name}(${def.inputs.map(input).join(', ')})`;
  const params = def.params.map((p) => {
    const type = p.type === undefined ? '' : `: ${p.type.name.name}`;
    const choices = p.type?.choices.length ? `(${p.type.choices.map((c) => c.name).join(', ')})` : '';
    const value =
      p.default?.kind === 'number'
        ? String(p.default.value)
        : p.default?.kind === 'name'
          ? p.default.name
          : undefined;
    return `${p.name.name}${type}${choices}${value === undefined ? '' : ` = ${value}`}`;
  });
  const inputs = def.implicitInput ? '' : `(${def.inputs.map(input).join(', ')})`;
  return `block ${def.name.name}(${params.join(', ')})${inputs}`;
}

/** Errors inside an instance's body also point at the call that instantiated it. */
function addInstanceNote(diags: Diagnostic[], start: number, def: ast.LayerDefinition, span: Span): void {
  for (let i = start; i < diags.length; i++) {
    const d = diags[i]!;
    if (d.severity !== 'error' || d.span === span) continue;
    const note: RelatedNote = { span, message: `in this instance of ${def.name.name}` };
    diags[i] = { ...d, notes: [...(d.notes ?? []), note] };
  }
}

/** Applies a layer, checking how many tensors it takes; records the first call. */
export function applyCallable(
  l: Lowering,
  callable: Callable,
  inputs: readonly number[],
  span: Span,
  file?: string,
): number[] | undefined {
  const { min, max } = callable.arity;
  if (inputs.length < min || inputs.length > max) {
    const takes =
      max === Infinity
        ? `${min === 2 ? 'two' : min} or more tensors`
        : min === max
          ? `${min} tensor${min === 1 ? '' : 's'}`
          : `${min} to ${max} tensors`;
    l.diags.push(
      error(
        'E0107',
        span,
        `\`${callable.path}\` takes ${takes}, but ${inputs.length} ${inputs.length === 1 ? 'is' : 'are'} given`,
      ),
    );
    return undefined;
  }
  const shapes = inputs.map((x) => l.b.shapeOf(x));
  const outputs = callable.apply(l, inputs, span);
  callable.firstCall ??= { span, file, shapes };
  return outputs;
}
