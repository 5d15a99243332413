/**
 * The state of one model's lowering and the values it passes around: the graph builder, the
 * parameters created so far, the frames of the bodies being lowered (one per top-level model or
 * block-instance call) and what names are bound in them.
 */
import type * as ast from '../parser/ast.js';
import { type Diagnostic, type RelatedNote, type Span, error } from '../util/diagnostics.js';
import { GraphBuilder, ShapeError } from '../ir/builder.js';
import { BATCH, type Shape, shapeToString } from '../ir/graph.js';
import { type LowerMode, type ParamFactory, type ParamSpec, TrainingState } from './layers.js';
import { type Constants, type DefinitionSite, declaredDims } from './scope.js';

export interface TensorRef {
  readonly name: string;
  readonly node: number;
  /** Full shape, batch first. */
  readonly shape: Shape;
}

/** Something a body can call on tensors: a library layer, or an instance of a block or model. */
export interface Callable {
  /** `dense_1`, `enc`, `res/dense_2`: the prefix of its parameters' names. */
  readonly path: string;
  /** How many tensors it takes: from `min` to `max` (Infinity for Concatenate, Add). */
  readonly arity: Arity;
  /** The first call, for the note on a later call that fails. */
  firstCall?: { readonly span: Span; readonly file: string | undefined; readonly shapes: readonly Shape[] };
  apply(l: Lowering, inputs: readonly number[], span: Span): number[] | undefined;
}

export interface Arity {
  readonly min: number;
  readonly max: number;
}

export type Binding =
  | { kind: 'tensor'; node: number; span: Span; input: boolean; used: boolean; nameSpan?: Span }
  | { kind: 'layer'; callable: Callable; span: Span }
  | { kind: 'poisoned' };

/**
 * One call of a library layer or a function on its own line: its path (`dense_1`,
 * `log_softmax_1`), its type (`Dense`, `log_softmax`), the nodes `[firstNode, endNode)` it added
 * (none for Dropout at inference) and its output. The summary shows one row per call from these.
 */
export interface LayerCallRecord {
  readonly path: string;
  readonly type: string;
  readonly firstNode: number;
  readonly endNode: number;
  readonly output: number;
}

/** One lowering of a body: a top-level model, or one call of a block instance. */
export interface Frame {
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

export class Lowering implements ParamFactory {
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

  unrollSteps(steps: number, layer: string): boolean {
    if (this.tooLarge) return false;
    this.unrolled += steps;
    if (this.unrolled <= MAX_UNROLLED) return true;
    this.tooLarge = true;
    this.diags.push(
      error(
        'E0108',
        this.b.span ?? { start: 0, end: 0 },
        `${layer} over ${steps} time steps unrolls the model past ${MAX_UNROLLED} repeat iterations, ` +
          `block instances and time steps`,
      ),
    );
    return false;
  }

  /** The lowering's mode and what mode-dependent layers ask of it. */
  readonly training: TrainingState;

  /** Every call of a library layer or function, in order, for `nnxc summary`. */
  readonly layerCalls: LayerCallRecord[] = [];

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
    let shape: Shape = [BATCH, ...declaredDims(decl.shape, new Map())];
    const node = this.guard(decl.shape.span, () => this.b.input(decl.name.name, 'data', shape));
    if (node !== undefined) return { name: decl.name.name, node, shape };
    // Reported; a placeholder keeps the rest of the model checkable.
    shape = shape.map((d) => (typeof d === 'number' ? 1 : d));
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
export function attributeTo(diags: Diagnostic[], before: number, file: string | undefined): void {
  if (file === undefined) return;
  for (let i = before; i < diags.length; i++)
    if (diags[i]!.file === undefined) diags[i] = { ...diags[i]!, file };
}

export function perSample(shape: Shape): string {
  return shapeToString(shape.slice(1));
}

export function newFrame(
  site: DefinitionSite,
  prefix: string,
  constants: Constants,
  cache: Map<string, Callable>,
): Frame {
  return { site, prefix, constants, env: new Map(), cache, counters: new Map(), iteration: '' };
}
