/**
 * Lowers tensor expressions: names, numbers, arithmetic with broadcasting, function calls,
 * `concat`, and layer applications such as `Dense(1)(x)` or `enc(x)`.
 */
import { ownEntry } from '../util/own.js';
import type * as ast from '../parser/ast.js';
import { type RelatedNote, error } from '../util/diagnostics.js';
import { didYouMean } from '../util/suggest.js';
import { ShapeError } from '../ir/builder.js';
import type { Shape } from '../ir/graph.js';
import { applyCallable, createLayer } from './callables.js';
import { FUNCTIONS, LAYERS } from './layers.js';
import { type Frame, type Lowering, perSample } from './lowering.js';
import { foldConstant } from './constants.js';
import { substitute } from './scope.js';

const BINARY_NAMES = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div' } as const;

/** Lowers an expression that denotes one tensor. */
export function lowerExpr(l: Lowering, frame: Frame, e: ast.Expr): number | undefined {
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
export function lowerValues(l: Lowering, frame: Frame, e: ast.Expr): number[] | undefined {
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
  const fn = ownEntry(FUNCTIONS, name);
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
  if (ownEntry(LAYERS, name) || frame.site.scope.has(name)) {
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
  const folded = axisExpr && foldConstant(axisExpr);
  const axisValue = folded === undefined ? -1 : folded.ok && folded.isInteger ? folded.value : undefined;
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
