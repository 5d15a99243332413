/**
 * Lowers model definitions (AST) to forward IR graphs: inputs get the symbolic batch dimension,
 * layers become primitive ops, and every node remembers the span it came from. Blocks and
 * models used as layers are inlined: each instance lowers its definition's body again with its
 * own parameter prefix (`res/dense_1/kernel`), and calling one instance twice reuses the layers
 * its first call created, so the weights are shared. User errors are collected as diagnostics;
 * a statement that fails poisons its target so one mistake does not cascade into many.
 */
import type * as ast from '../../parser/ast.js';
import {
  type Diagnostic,
  type RelatedNote,
  type Span,
  error,
  hasErrors,
  warning,
} from '../../util/diagnostics.js';
import { didYouMean } from '../../util/suggest.js';
import { GraphBuilder, ShapeError } from '../builder.js';
import { BATCH, type Dim, type Graph, type Shape, shapeToString } from '../graph.js';
import { type ArgValue, bindArgs, convertArg } from './args.js';
import {
  FUNCTIONS,
  LAYERS,
  type LayerInstance,
  type LowerMode,
  type ParamFactory,
  type ParamSpec,
  type StateUpdate,
  TrainingState,
} from './layers.js';
import {
  type Constants,
  type DefinitionSite,
  blockSchema,
  declaredDims,
  substitute,
  substituteArgs,
} from './scope.js';

export type { DefinitionSite, Scope } from './scope.js';

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
  /** Values the training step writes back (running statistics, the random counter); train mode only. */
  readonly updates?: readonly StateUpdate[];
  /**
   * The same model lowered in `train` mode, when some layer behaves differently in training
   * (Dropout, BatchNormalization); absent when the one graph serves every entry.
   */
  readonly training?: ModelIR;
}

/** Something a body can call on tensors: a library layer, or an instance of a block or model. */
interface Callable {
  /** `dense_1`, `enc`, `res/dense_2`: the prefix of its parameters' names. */
  readonly path: string;
  /** How many tensors it takes: from `min` to `max` (Infinity for Concatenate, Add). */
  readonly arity: Arity;
  /** The first call, for the note on a later call that fails. */
  firstCall?: { readonly span: Span; readonly file: string | undefined; readonly shapes: readonly Shape[] };
  apply(l: Lowering, inputs: readonly number[], span: Span): number[] | undefined;
}

interface Arity {
  readonly min: number;
  readonly max: number;
}

type Binding =
  | { kind: 'tensor'; node: number; span: Span; input: boolean; used: boolean; nameSpan?: Span }
  | { kind: 'layer'; callable: Callable; span: Span }
  | { kind: 'poisoned' };

/** One lowering of a body: a top-level model, or one call of a block instance. */
interface Frame {
  readonly site: DefinitionSite;
  /** `res/` inside instance `res`; empty at the top level. */
  readonly prefix: string;
  readonly constants: Constants;
  readonly env: Map<string, Binding>;
  /** The layers this instance created, by statement and repeat iteration; shared across calls. */
  readonly cache: Map<string, Callable>;
  readonly counters: Map<string, number>;
  /** The repeat iterations enclosing the statement being lowered, as `_1_3`; empty outside. */
  iteration: string;
}

/** Far more than any real model unrolls; beyond it nested repeats or blocks are a mistake. */
const MAX_UNROLLED = 20_000;

/** Far more than any real model nests; past it a block that uses itself is reported instead. */
const MAX_INSTANCE_DEPTH = 32;

class Lowering implements ParamFactory {
  readonly b = new GraphBuilder();
  readonly params: TensorRef[] = [];
  /** The definitions being instantiated, outermost first, to catch a block that uses itself. */
  readonly active: DefinitionSite[] = [];
  /** Repeat iterations and instance calls unrolled so far, against {@link MAX_UNROLLED}. */
  unrolled = 0;
  /** Set once the model is too large to unroll; everything after it is skipped. */
  tooLarge = false;
  /** How many `trainable: false` layers enclose the call being lowered; their parameters are frozen. */
  frozen = 0;

  /** Counts one unrolled piece; false (with one diagnostic) once the budget is spent. */
  unroll(span: Span): boolean {
    if (this.tooLarge) return false;
    if (++this.unrolled <= MAX_UNROLLED) return true;
    this.tooLarge = true;
    this.diags.push(
      error(
        'E0108',
        span,
        `the model unrolls to more than ${MAX_UNROLLED} repeat iterations and block instances`,
      ),
    );
    return false;
  }

  /** The lowering's mode and what mode-dependent layers ask of it. */
  readonly training: TrainingState;

  constructor(
    readonly diags: Diagnostic[],
    mode: LowerMode = 'infer',
  ) {
    this.training = new TrainingState(mode);
  }

  paramWith(b: GraphBuilder, name: string, shape: readonly number[], spec: ParamSpec): number {
    const node = b.input(name, 'param', shape, spec.init, spec.regularizer);
    // Statistics the step updates (not trained) are parameters the optimizer never sees.
    if (spec.trainable !== false && this.frozen === 0) this.params.push({ name, node, shape });
    return node;
  }

  param(
    b: GraphBuilder,
    name: string,
    shape: readonly number[],
    init: Parameters<ParamFactory['param']>[3],
    fanIn: number,
    fanOut: number,
  ): number {
    const node = b.input(name, 'param', shape, { kind: init, fanIn, fanOut });
    if (this.frozen === 0) this.params.push({ name, node, shape });
    return node;
  }

  input(decl: ast.TensorDecl): TensorRef {
    const shape = [BATCH, ...declaredDims(decl.shape, new Map())];
    this.b.span = decl.span;
    return { name: decl.name.name, node: this.b.input(decl.name.name, 'data', shape), shape };
  }

  /** Runs `f` with the builder stamping `span`, turning shape errors into diagnostics there. */
  guard(span: Span, f: () => number, notes?: RelatedNote[]): number | undefined {
    const saved = this.b.span;
    this.b.span = span;
    try {
      return f();
    } catch (e) {
      if (!(e instanceof ShapeError)) throw e;
      this.diags.push(error('E0201', e.span ?? span, e.message, notes));
      return undefined;
    } finally {
      this.b.span = saved;
      this.b.label = undefined;
    }
  }
}

/** Tags the diagnostics pushed since `before` with `file`, unless a deeper lowering already did. */
function attributeTo(diags: Diagnostic[], before: number, file: string | undefined): void {
  if (file === undefined) return;
  for (let i = before; i < diags.length; i++)
    if (diags[i]!.file === undefined) diags[i] = { ...diags[i]!, file };
}

function perSample(shape: Shape): string {
  return shapeToString(shape.slice(1));
}

function newFrame(
  site: DefinitionSite,
  prefix: string,
  constants: Constants,
  cache: Map<string, Callable>,
): Frame {
  return { site, prefix, constants, env: new Map(), cache, counters: new Map(), iteration: '' };
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

// ---------------------------------------------------------------------------------------------
// Instantiating a definition's body.

/** The declared inputs of a definition: name, declared shape (if any) and span. */
function declaredInputs(
  def: ast.LayerDefinition,
): { name: string; shape?: ast.ShapeExpr; span: Span; nameSpan: Span }[] {
  if (def.kind === 'block' && def.implicitInput)
    return [{ name: 'x', span: def.name.span, nameSpan: def.name.span }];
  return def.inputs.map((i) => ({
    name: i.name.name,
    ...(i.shape && { shape: i.shape }),
    span: i.span,
    nameSpan: i.name.span,
  }));
}

/** True when a body is a stack of layers (no assignments or returns anywhere in it). */
function isSequentialBody(body: readonly ast.Statement[]): boolean {
  return body.every((s) =>
    s.kind === 'repeat' ? isSequentialBody(s.body) : s.kind !== 'assign' && s.kind !== 'return',
  );
}

function bodyOf(def: ast.LayerDefinition): readonly ast.Statement[] {
  return def.kind === 'sequential' ? def.layers : def.body;
}

/**
 * Lowers the body of `frame.site.def` applied to `inputs`; returns its output tensors. Input
 * shapes are checked against the declared ones first (symbols such as `T` bind on first use).
 */
function instantiate(
  l: Lowering,
  frame: Frame,
  inputs: readonly number[],
  callSpan: Span,
): number[] | undefined {
  const def = frame.site.def;
  const symbols = new Map<string, Dim>();
  const declared = declaredInputs(def);
  for (const [i, decl] of declared.entries()) {
    const node = inputs[i]!;
    if (decl.shape && !checkInputShape(l, frame, decl.name, decl.shape, node, callSpan, symbols))
      return undefined;
    frame.env.set(decl.name, {
      kind: 'tensor',
      node,
      span: decl.span,
      input: true,
      used: false,
      nameSpan: decl.nameSpan,
    });
  }
  const start = l.diags.length;
  const body = bodyOf(def);
  const outputs =
    def.kind === 'sequential' || (def.kind === 'block' && isSequentialBody(body))
      ? sequentialOutputs(l, frame, body, inputs)
      : functionalOutputs(l, frame, body, symbols);
  // After an error, an unused name is more likely its fallout than a separate mistake.
  if (!hasErrors(l.diags.slice(start))) warnUnused(l, frame);
  return outputs;
}

/** Checks an input's shape against its declaration, binding symbols; a diagnostic when it differs. */
function checkInputShape(
  l: Lowering,
  frame: Frame,
  name: string,
  shape: ast.ShapeExpr,
  node: number,
  callSpan: Span,
  symbols: Map<string, Dim>,
): boolean {
  const actual = l.b.shapeOf(node).slice(1);
  const expected = declaredDims(shape, frame.constants);
  const problem = unify(expected, actual, symbols);
  if (problem === undefined) return true;
  l.diags.push({
    ...error(
      expected.length === actual.length ? 'E0201' : 'E0202',
      callSpan,
      `${frame.site.def.name.name} expects input \`${name}\` of shape ${shapeToString(expected)} per sample, got ${shapeToString(actual)}: ${problem}`,
      [
        {
          span: shape.span,
          ...(frame.site.file !== undefined && { file: frame.site.file }),
          message: 'declared here',
        },
      ],
    ),
  });
  return false;
}

/**
 * Matches `actual` against `expected`, binding the symbols of `expected`; returns what
 * disagrees, or undefined when they match.
 */
function unify(expected: readonly Dim[], actual: Shape, symbols: Map<string, Dim>): string | undefined {
  if (expected.length !== actual.length)
    return `it has ${actual.length} dimension${actual.length === 1 ? '' : 's'}, not ${expected.length}`;
  for (const [i, want] of expected.entries()) {
    const got = actual[i]!;
    if (typeof want === 'string') {
      const bound = symbols.get(want);
      if (bound === undefined) symbols.set(want, got);
      else if (bound !== got) return `dimension ${i} is ${got}, but \`${want}\` is already ${bound}`;
      continue;
    }
    if (want !== got) return `dimension ${i} is ${got}, not ${want}`;
  }
  return undefined;
}

/** A stack of layers applied in order to the single input; `repeat` unrolls its layers. */
function sequentialOutputs(
  l: Lowering,
  frame: Frame,
  body: readonly ast.Statement[],
  inputs: readonly number[],
): number[] | undefined {
  const binding = frame.env.values().next().value;
  if (binding?.kind === 'tensor') binding.used = true;
  if (inputs.length !== 1) {
    l.diags.push(
      error(
        'E0107',
        frame.site.def.name.span,
        `a stack of layers takes one input, ${frame.site.def.name.name} declares ${inputs.length}`,
      ),
    );
    return undefined;
  }
  const x = applyLayers(l, frame, body, inputs[0]);
  return x === undefined ? undefined : [x];
}

function applyLayers(
  l: Lowering,
  frame: Frame,
  body: readonly ast.Statement[],
  x: number | undefined,
): number | undefined {
  for (const item of body) {
    if (item.kind === 'repeat') {
      x = repeatBody(l, frame, item, () => (x = applyLayers(l, frame, item.body, x)));
      continue;
    }
    if (item.kind === 'let' || item.kind === 'assign' || item.kind === 'return') {
      l.diags.push(
        error(
          'E0105',
          item.span,
          'a sequential body holds layers only, such as `Dense(10, activation: relu)`',
        ),
      );
      continue;
    }
    const layer = layerOfItem(l, frame, item);
    if (layer && x !== undefined) x = applyCallable(l, layer, [x], item.span)?.[0];
    else x = undefined;
  }
  return x;
}

/** A layer written on its own line: `Dense(10)`, `Residual(64)`, or a function name: `relu`. */
function layerOfItem(l: Lowering, frame: Frame, item: ast.Expr): Callable | undefined {
  if (item.kind === 'call') return createLayer(l, frame, item, undefined);
  if (item.kind === 'name' && FUNCTIONS[item.name]) return functionCallable(item.name);
  l.diags.push(
    error(
      'E0105',
      item.span,
      'each line of a sequential body must be a layer, such as `Dense(10, activation: relu)`',
    ),
  );
  return undefined;
}

/** Runs `step` once per iteration of a `repeat`, with the iteration in the frame's layer keys. */
function repeatBody<T>(l: Lowering, frame: Frame, r: ast.RepeatStatement, step: () => T): T | undefined {
  const count = repeatCount(l, frame, r);
  if (count === undefined) return undefined;
  const outer = frame.iteration;
  let last: T | undefined;
  for (let i = 1; i <= count; i++) {
    if (!l.unroll(r.span)) break;
    frame.iteration = `${outer}_${i}`;
    last = step();
  }
  frame.iteration = outer;
  return last;
}

/** Repeats more than this are a typo more often than a model. */
const MAX_REPEAT = 1000;

function repeatCount(l: Lowering, frame: Frame, r: ast.RepeatStatement): number | undefined {
  const value = r.count.kind === 'number' ? r.count.value : frame.constants.get(r.count.name);
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_REPEAT) return value;
  if (r.count.kind === 'name' && value === undefined) {
    const ints = [...frame.constants].filter(([, v]) => typeof v === 'number').map(([k]) => k);
    l.diags.push(
      error(
        'E0101',
        r.count.span,
        `unknown repeat count \`${r.count.name}\`${didYouMean(r.count.name, ints)}`,
        [{ message: 'a repeat count is a whole number or an `int` parameter of the block' }],
      ),
    );
    return undefined;
  }
  l.diags.push(
    error(
      'E0103',
      r.count.span,
      `a repeat count must be a whole number from 0 to ${MAX_REPEAT}, not ${String(value)}`,
    ),
  );
  return undefined;
}

/** Statements of a model or functional block; its outputs are declared or returned. */
function functionalOutputs(
  l: Lowering,
  frame: Frame,
  body: readonly ast.Statement[],
  symbols: Map<string, Dim>,
): number[] | undefined {
  const before = l.diags.length;
  const returned = runStatements(l, frame, body);
  const def = frame.site.def;
  if (def.kind === 'model' && def.outputs.length > 0) return declaredOutputs(l, frame, def, symbols);
  if (returned !== undefined) return returned.includes(undefined) ? undefined : (returned as number[]);
  if (!hasErrors(l.diags.slice(before))) {
    const what = def.kind === 'model' ? 'declares no outputs and has' : 'has';
    l.diags.push(error('E0104', def.name.span, `${def.kind} ${def.name.name} ${what} no \`return\``));
  }
  return undefined;
}

/** Runs statements; returns the values of the last `return` lowered, if any. */
function runStatements(
  l: Lowering,
  frame: Frame,
  body: readonly ast.Statement[],
): (number | undefined)[] | undefined {
  let returned: (number | undefined)[] | undefined;
  for (const st of body) {
    switch (st.kind) {
      case 'let':
        bindLet(l, frame, st);
        break;
      case 'assign':
        bindAssign(l, frame, st);
        break;
      case 'return':
        returned = st.values.map((v) => lowerExpr(l, frame, v));
        break;
      case 'repeat':
        returned = repeatBody(l, frame, st, () => runStatements(l, frame, st.body)) ?? returned;
        break;
      default:
        l.diags.push(
          error(
            'E0105',
            st.span,
            'a layer on its own does nothing here: apply it and name the result, as in `h = Dense(10)(x)`',
          ),
        );
    }
  }
  return returned;
}

function bindLet(l: Lowering, frame: Frame, st: ast.LetStatement): void {
  const name = st.target.name;
  if (st.value.kind !== 'call') {
    l.diags.push(
      error('E0105', st.value.span, '`let` names a layer instance, such as `let enc = Dense(64)`'),
    );
    frame.env.set(name, { kind: 'poisoned' });
    return;
  }
  const callable = createLayer(l, frame, st.value, name);
  frame.env.set(name, callable ? { kind: 'layer', callable, span: st.target.span } : { kind: 'poisoned' });
}

function bindAssign(l: Lowering, frame: Frame, st: ast.AssignStatement): void {
  const values = st.targets.length === 1 ? [lowerExpr(l, frame, st.value)] : lowerValues(l, frame, st.value);
  if (values !== undefined && values.length !== st.targets.length) {
    l.diags.push(
      error(
        'E0107',
        st.span,
        `${st.targets.length} names are assigned, but the right-hand side gives ${values.length} tensor${values.length === 1 ? '' : 's'}`,
      ),
    );
  }
  st.targets.forEach((target, i) => {
    const node = values?.length === st.targets.length ? values[i] : undefined;
    frame.env.set(
      target.name,
      node === undefined
        ? { kind: 'poisoned' }
        : { kind: 'tensor', node, span: st.span, input: false, used: true },
    );
  });
}

function declaredOutputs(
  l: Lowering,
  frame: Frame,
  def: ast.ModelDef,
  symbols: Map<string, Dim>,
): number[] | undefined {
  const outputs: number[] = [];
  for (const decl of def.outputs) {
    const bound = frame.env.get(decl.name.name);
    if (bound?.kind === 'poisoned') return undefined;
    if (bound?.kind !== 'tensor') {
      l.diags.push(
        error(
          'E0104',
          decl.name.span,
          `output \`${decl.name.name}\` is never assigned in the body of ${def.name.name}`,
        ),
      );
      return undefined;
    }
    const shape = l.b.shapeOf(bound.node);
    const declared = declaredDims(decl.shape, frame.constants).map((d) =>
      typeof d === 'string' ? (symbols.get(d) ?? d) : d,
    );
    const problem = unify(declared, shape.slice(1), new Map());
    if (problem !== undefined) {
      l.diags.push(
        error(
          'E0201',
          bound.span,
          `output \`${decl.name.name}\` has shape ${perSample(shape)} per sample, but it is declared as ${shapeToString(declared)}: ${problem}`,
          [{ span: decl.shape.span, message: 'declared here' }],
        ),
      );
      return undefined;
    }
    outputs.push(bound.node);
  }
  return outputs;
}

function warnUnused(l: Lowering, frame: Frame): void {
  for (const [name, binding] of frame.env) {
    if (binding.kind === 'layer' && binding.callable.firstCall === undefined)
      l.diags.push(
        warning('W0101', binding.span, `layer instance \`${name}\` is never called, so it has no weights`),
      );
    if (binding.kind === 'tensor' && binding.input && !binding.used)
      l.diags.push(warning('W0102', binding.nameSpan ?? binding.span, `input \`${name}\` is never used`));
  }
}

// ---------------------------------------------------------------------------------------------
// Layers: library layers, block and model instances.

/** `dense_1`, `residual_2`, … for layers not bound to a name, numbered per instance. */
function freshName(frame: Frame, definition: string): string {
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
function createLayer(
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
  const args = allArgs.filter((a) => a.name?.name !== TRAINABLE);
  const site = frame.site.scope.get(callee);
  const created = site
    ? compositeLayer(l, site, args, call, path)
    : libraryLayer(l, callee, args, call, path, frame);
  const layer = created && !trainable ? frozenCallable(created) : created;
  if (layer) frame.cache.set(key, layer);
  return layer;
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

function libraryLayer(
  l: Lowering,
  callee: string,
  args: readonly ast.Argument[],
  call: ast.CallExpr,
  path: string,
  frame: Frame,
): Callable | undefined {
  const def = LAYERS[callee];
  if (!def) {
    const hint = FUNCTIONS[callee]
      ? `; \`${callee}\` is a function: apply it to a tensor, as in \`${callee}(x)\``
      : didYouMean(callee, [...Object.keys(LAYERS), ...frame.site.scope.keys()]);
    l.diags.push(error('E0101', call.callee.span, `unknown layer \`${callee}\`${hint}`));
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
  return primitiveCallable(instance, def.accepts, arity);
}

function primitiveCallable(
  instance: LayerInstance,
  accepts: ((shape: Shape) => string | undefined) | undefined,
  arity: Arity,
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
          l.b.label = instance.path;
          return instance.callMany ? instance.callMany(l.b, xs, l) : instance.call(l.b, x!, l);
        },
        firstCallNote(this),
      );
      return y === undefined ? undefined : [y];
    },
  };
}

/** `relu` on its own line of a sequential body. */
function functionCallable(name: string): Callable {
  const fn = FUNCTIONS[name]!;
  return {
    path: name,
    arity: { min: 1, max: 1 },
    apply: (l, [x], span) => {
      const y = l.guard(span, () => fn(l.b, x!));
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
  const bound = bindArgs(def.name.name, args, schema, call.span, l.diags);
  if (!bound) return undefined;
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
function applyCallable(
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

// ---------------------------------------------------------------------------------------------
// Expressions.

const BINARY_NAMES = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div' } as const;

/** Lowers an expression that denotes one tensor. */
function lowerExpr(l: Lowering, frame: Frame, e: ast.Expr): number | undefined {
  switch (e.kind) {
    case 'number':
      return l.guard(e.span, () => l.b.constant(e.value));
    case 'name':
      return lowerName(l, frame, e);
    case 'negate': {
      const x = lowerExpr(l, frame, e.operand);
      return x === undefined ? undefined : l.guard(e.span, () => l.b.neg(x));
    }
    case 'binary':
      return lowerBinary(l, frame, e);
    case 'call': {
      const values = lowerCall(l, frame, e);
      if (values === undefined || values.length === 1) return values?.[0];
      l.diags.push(
        error(
          'E0107',
          e.span,
          `this gives ${values.length} tensors where one is expected; name them, as in \`a, b = …\``,
        ),
      );
      return undefined;
    }
    default:
      l.diags.push(
        error(
          'E0105',
          e.span,
          `expected a tensor, found ${e.kind === 'string' ? 'a string' : e.kind === 'list' ? 'a list' : 'a record'}`,
        ),
      );
      return undefined;
  }
}

/** Lowers an expression that may denote several tensors (a call of a multi-output block). */
function lowerValues(l: Lowering, frame: Frame, e: ast.Expr): number[] | undefined {
  if (e.kind === 'call') return lowerCall(l, frame, e);
  const x = lowerExpr(l, frame, e);
  return x === undefined ? undefined : [x];
}

function lowerName(l: Lowering, frame: Frame, e: ast.NameRef): number | undefined {
  const bound = frame.env.get(e.name);
  if (bound?.kind === 'tensor') {
    bound.used = true;
    return bound.node;
  }
  if (bound?.kind === 'poisoned') return undefined;
  if (bound?.kind === 'layer') {
    l.diags.push(
      error('E0105', e.span, `\`${e.name}\` is a layer, not a tensor: call it, as in \`${e.name}(x)\``),
    );
    return undefined;
  }
  const constant = frame.constants.get(e.name);
  if (typeof constant === 'number') return l.guard(e.span, () => l.b.constant(constant));
  const tensors = [...frame.env].filter(([, v]) => v.kind === 'tensor').map(([k]) => k);
  l.diags.push(error('E0101', e.span, `unknown name \`${e.name}\`${didYouMean(e.name, tensors)}`));
  return undefined;
}

function lowerBinary(l: Lowering, frame: Frame, e: ast.BinaryExpr): number | undefined {
  const a = lowerExpr(l, frame, e.left);
  const b = lowerExpr(l, frame, e.right);
  if (a === undefined || b === undefined) return undefined;
  return l.guard(
    e.opSpan,
    () => {
      try {
        return l.b.binary(BINARY_NAMES[e.op], a, b);
      } catch (err) {
        if (!(err instanceof ShapeError)) throw err;
        const [sa, sb] = [l.b.shapeOf(a), l.b.shapeOf(b)];
        throw new ShapeError(
          `cannot apply \`${e.op}\` to shapes ${perSample(sa)} and ${perSample(sb)} (per sample): ${broadcastMismatch(sa, sb) ?? err.message}`,
          e.opSpan,
        );
      }
    },
    shapeOrigins(l, frame, [e.left, e.right]),
  );
}

/** The first per-sample dimension (counted from the left) at which two shapes fail to broadcast. */
function broadcastMismatch(a: Shape, b: Shape): string | undefined {
  const rank = Math.max(a.length, b.length);
  for (let i = rank - 1; i >= 1; i--) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return `dimension ${i - 1} is ${da} in one and ${db} in the other`;
  }
  return undefined;
}

/** Notes saying where named operands got their shapes: "`a` is [3] per sample, from here". */
function shapeOrigins(l: Lowering, frame: Frame, operands: readonly ast.Expr[]): RelatedNote[] {
  const notes: RelatedNote[] = [];
  for (const operand of operands) {
    if (operand.kind !== 'name') continue;
    const bound = frame.env.get(operand.name);
    if (bound?.kind !== 'tensor') continue;
    notes.push({
      span: bound.span,
      message: `\`${operand.name}\` is ${perSample(l.b.shapeOf(bound.node))} per sample, from here`,
    });
  }
  return notes;
}

function positionalTensors(l: Lowering, frame: Frame, e: ast.CallExpr): number[] | undefined {
  const named = e.args.find((a) => a.name);
  if (named) {
    l.diags.push(
      error(
        'E0103',
        named.span,
        'a layer is applied to tensors only, as in `f(x)`; its settings go where it is created, as in `Dense(10, activation: relu)(x)`',
      ),
    );
    return undefined;
  }
  const xs = e.args.map((a) => lowerExpr(l, frame, a.value));
  return xs.includes(undefined) ? undefined : (xs as number[]);
}

function lowerCall(l: Lowering, frame: Frame, e: ast.CallExpr): number[] | undefined {
  // `Dense(1, activation: sigmoid)(x)`: create the layer, then apply it.
  if (e.callee.kind === 'call') {
    const layer = createLayer(l, frame, e.callee, undefined);
    const xs = positionalTensors(l, frame, e);
    return layer && xs ? applyCallable(l, layer, xs, e.span, frame.site.file) : undefined;
  }
  if (e.callee.kind !== 'name') {
    l.diags.push(error('E0105', e.callee.span, 'only layers and functions can be called'));
    return undefined;
  }
  const name = e.callee.name;
  const bound = frame.env.get(name);
  if (bound?.kind === 'layer') {
    const xs = positionalTensors(l, frame, e);
    return xs ? applyCallable(l, bound.callable, xs, e.span, frame.site.file) : undefined;
  }
  if (bound?.kind === 'poisoned') return undefined;
  if (bound?.kind === 'tensor') {
    l.diags.push(error('E0105', e.callee.span, `\`${name}\` is a tensor, not a layer: it cannot be called`));
    return undefined;
  }
  if (name === 'concat') return lowerConcat(l, frame, e);
  const fn = FUNCTIONS[name];
  if (fn) {
    const xs = positionalTensors(l, frame, e);
    if (xs === undefined) return undefined;
    if (xs.length !== 1) {
      l.diags.push(error('E0107', e.span, `\`${name}\` takes one tensor, but ${xs.length} are given`));
      return undefined;
    }
    const y = l.guard(e.span, () => fn(l.b, xs[0]!));
    return y === undefined ? undefined : [y];
  }
  if (LAYERS[name] || frame.site.scope.has(name)) {
    l.diags.push(
      error('E0105', e.span, `\`${name}(…)\` creates a layer; apply it to a tensor, as in \`${name}(…)(x)\``),
    );
    return undefined;
  }
  const known = [
    'concat',
    ...Object.keys(FUNCTIONS),
    ...Object.keys(LAYERS),
    ...frame.site.scope.keys(),
    ...[...frame.env].filter(([, v]) => v.kind === 'layer').map(([k]) => k),
  ];
  l.diags.push(
    error('E0101', e.callee.span, `unknown function or layer \`${name}\`${didYouMean(name, known)}`),
  );
  return undefined;
}

/** `concat(a, b, axis: -1)`: joins tensors along a per-sample axis (negative counts from the end). */
function lowerConcat(l: Lowering, frame: Frame, e: ast.CallExpr): number[] | undefined {
  const axisArg = e.args.find((a) => a.name?.name === 'axis');
  const other = e.args.find((a) => a.name && a.name.name !== 'axis');
  if (other) {
    l.diags.push(
      error(
        'E0103',
        other.name!.span,
        `concat has no argument \`${other.name!.name}\`; its only named argument is \`axis\``,
      ),
    );
    return undefined;
  }
  const axisExpr = axisArg ? substitute(axisArg.value, frame.constants) : undefined;
  const axisValue =
    axisExpr === undefined
      ? -1
      : axisExpr.kind === 'number' && axisExpr.isInteger
        ? axisExpr.value
        : axisExpr.kind === 'negate' && axisExpr.operand.kind === 'number' && axisExpr.operand.isInteger
          ? -axisExpr.operand.value
          : undefined;
  if (axisValue === undefined) {
    l.diags.push(error('E0105', axisArg!.value.span, 'argument `axis` of concat must be an integer'));
    return undefined;
  }
  const xs = e.args.filter((a) => !a.name).map((a) => lowerExpr(l, frame, a.value));
  if (xs.includes(undefined)) return undefined;
  if (xs.length < 2) {
    l.diags.push(
      error(
        'E0107',
        e.span,
        `concat joins two or more tensors, but ${xs.length} ${xs.length === 1 ? 'is' : 'are'} given`,
      ),
    );
    return undefined;
  }
  const tensors = xs as number[];
  const rank = l.b.shapeOf(tensors[0]!).length - 1;
  if (axisValue < -rank || axisValue >= rank) {
    l.diags.push(
      error(
        'E0103',
        (axisArg ?? e.args[0]!).span,
        `axis ${axisValue} is out of range for tensors of ${rank} dimension${rank === 1 ? '' : 's'} per sample`,
      ),
    );
    return undefined;
  }
  const axis = axisValue < 0 ? rank + axisValue + 1 : axisValue + 1;
  const mismatch = concatMismatch(
    tensors.map((x) => l.b.shapeOf(x)),
    axis,
  );
  if (mismatch !== undefined) {
    l.diags.push(
      error(
        'E0201',
        e.span,
        mismatch,
        shapeOrigins(
          l,
          frame,
          e.args.map((a) => a.value),
        ),
      ),
    );
    return undefined;
  }
  const y = l.guard(e.span, () => l.b.emit('concat', tensors, { axis }));
  return y === undefined ? undefined : [y];
}

/** What keeps tensors from being joined along `axis` (full-shape index), naming the dimension. */
function concatMismatch(shapes: readonly Shape[], axis: number): string | undefined {
  const first = shapes[0]!;
  for (const shape of shapes.slice(1)) {
    const describe = () =>
      `concat along axis ${axis - 1} needs the other dimensions equal, but ${perSample(first)} and ${perSample(shape)}`;
    if (shape.length !== first.length) return `${describe()} have different ranks`;
    for (let d = 1; d < shape.length; d++) {
      if (d !== axis && shape[d] !== first[d])
        return `${describe()} differ in dimension ${d - 1} (${first[d]} vs ${shape[d]})`;
    }
  }
  for (const shape of shapes)
    if (typeof shape[axis] !== 'number')
      return `concat cannot join along the symbolic dimension ${shape[axis]} of ${perSample(shape)}`;
  return undefined;
}
