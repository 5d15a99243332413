/**
 * Lowers a definition's body: checks the inputs against their declared shapes, then runs a
 * stack of layers (sequential bodies, `repeat` unrolled) or a functional body's statements, and
 * collects its outputs, declared or returned.
 */
import { ownEntry } from '../util/own.js';
import type * as ast from '../parser/ast.js';
import { type Span, error, hasErrors, warning } from '../util/diagnostics.js';
import { didYouMean } from '../util/suggest.js';
import { type Dim, type Shape, shapeToString } from '../ir/graph.js';
import { applyCallable, createLayer, freshName, functionCallable } from './callables.js';
import { lowerExpr, lowerValues } from './expressions.js';
import { FUNCTIONS } from './layers.js';
import { type Callable, type Frame, type Lowering, perSample } from './lowering.js';
import { CONSTANT_NOTE } from './args.js';
import { foldConstant } from './constants.js';
import { declaredDims, substitute } from './scope.js';

/** The declared inputs of a definition: name, declared shape (if any) and span. */
export function declaredInputs(
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
 * Its nodes record the file the definition is in, so their spans can be found in that file.
 */
export function instantiate(
  l: Lowering,
  frame: Frame,
  inputs: readonly number[],
  callSpan: Span,
): number[] | undefined {
  const outer = l.b.file;
  l.b.file = frame.site.file;
  try {
    return instantiateBody(l, frame, inputs, callSpan);
  } finally {
    l.b.file = outer;
  }
}

function instantiateBody(
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
    if (frame.env.has(decl.name)) {
      l.diags.push(
        error(
          'E0102',
          decl.nameSpan ?? decl.span,
          `input \`${decl.name}\` is declared twice in ${def.name.name}`,
        ),
      );
      return undefined;
    }
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
      // Zero iterations leave `x` as it was; an invalid count (reported) poisons it.
      if (repeatCount(l, frame, item) === undefined) x = undefined;
      else repeatBody(l, frame, item, () => (x = applyLayers(l, frame, item.body, x)));
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
  if (item.kind === 'name' && ownEntry(FUNCTIONS, item.name))
    return functionCallable(item.name, frame.prefix + freshName(frame, item.name));
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

/** The count of a `repeat`, a constant expression with the block's parameters substituted. */
function repeatCount(l: Lowering, frame: Frame, r: ast.RepeatStatement): number | undefined {
  const folded = foldConstant(substitute(r.count, frame.constants));
  if (folded.ok && folded.isInteger && folded.value >= 0 && folded.value <= MAX_REPEAT) return folded.value;
  if (!folded.ok) {
    const part = folded.culprit;
    if (part.kind === 'name' && frame.constants.get(part.name) === undefined) {
      const ints = [...frame.constants].filter(([, v]) => typeof v === 'number').map(([k]) => k);
      l.diags.push(
        error('E0101', part.span, `unknown repeat count \`${part.name}\`${didYouMean(part.name, ints)}`, [
          { message: 'a repeat count is a whole number or an `int` parameter of the block' },
        ]),
      );
      return undefined;
    }
    const what = part.kind === 'name' ? `\`${part.name}\`` : 'this';
    l.diags.push(
      error('E0105', part.span, `a repeat count must be a whole number, and ${what} is not a constant`, [
        { message: CONSTANT_NOTE },
      ]),
    );
    return undefined;
  }
  l.diags.push(
    error(
      'E0103',
      r.count.span,
      `a repeat count must be a whole number from 0 to ${MAX_REPEAT}, not ${String(folded.value)}`,
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
  const earlier = frame.env.get(name);
  if (earlier !== undefined) {
    // A second `let` would silently replace the first instance and its weights.
    const first =
      earlier.kind === 'poisoned'
        ? undefined
        : earlier.kind === 'tensor'
          ? (earlier.nameSpan ?? earlier.span)
          : earlier.span;
    l.diags.push(
      error(
        'E0102',
        st.target.span,
        `\`${name}\` is already defined in ${frame.site.def.name.name}`,
        first ? [{ span: first, message: 'first defined here' }] : undefined,
      ),
    );
    return;
  }
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
