/**
 * The train-block fields that may hold a record per output: `loss` (one loss for every output,
 * or `{ digit: categorical_crossentropy, parity: binary_crossentropy }`), `loss_weights`
 * (`{ digit: 1, parity: 0.5 }`) and `dims`, the sizes of the model's symbolic dimensions
 * (`{ T: 8 }`). Output names are checked against the model later, when both are known.
 */
import type { Expr, TrainDef, TrainField } from '../parser/ast.js';
import { type Diagnostic, type Span, error } from '../util/diagnostics.js';
import { LOSS_NAMES, type LossName } from './losses.js';
import { type ArgSchema, convertArg } from '../lower/args.js';

/** The loss of one output (or of every output, when `output` is undefined) and its weight. */
export interface OutputLoss {
  readonly output: string | undefined;
  readonly loss: LossName;
  readonly weight: number;
  readonly span: Span;
}

/** Fields read here rather than by the generic train schema. */
export const RECORD_FIELDS: ReadonlySet<string> = new Set(['loss', 'loss_weights', 'dims']);

export interface RecordFields {
  /** The loss of the first output: what a single-output model trains with. */
  readonly loss: LossName;
  readonly outputLosses: readonly OutputLoss[];
  readonly dims: ReadonlyMap<string, number>;
}

const LOSS_SCHEMA: ArgSchema = { name: 'loss', type: 'name', choices: LOSS_NAMES };
const WEIGHT_SCHEMA: ArgSchema = { name: 'loss_weights', type: 'float', min: 0 };
const DIM_SCHEMA: ArgSchema = { name: 'dims', type: 'int', min: 1 };

/** Reads `loss`, `loss_weights` and `dims`; undefined (with diagnostics) when one is wrong. */
export function bindRecordFields(def: TrainDef, diags: Diagnostic[]): RecordFields | undefined {
  const before = diags.length;
  const field = (name: string) => def.fields.find((f) => f.name.name === name);
  const lossField = field('loss');
  if (lossField === undefined) {
    diags.push(error('E0104', def.model.span, `train ${def.model.name} needs the argument \`loss\``));
    return undefined;
  }
  const where = `train ${def.model.name}`;
  const losses = entries(lossField, where, diags).map(([name, value, span]) => ({
    output: name,
    loss: convertArg(where, LOSS_SCHEMA, value, diags) as LossName | undefined,
    span,
  }));
  const weights = new Map<string | undefined, { weight: number; span: Span }>();
  for (const [name, value, span] of entries(field('loss_weights'), where, diags)) {
    const weight = convertArg(where, WEIGHT_SCHEMA, value, diags);
    if (typeof weight === 'number') weights.set(name, { weight, span });
  }
  const dims = new Map<string, number>();
  for (const [name, value, span] of entries(field('dims'), where, diags)) {
    if (name === undefined) {
      diags.push(error('E0105', span, '`dims` gives a size per symbolic dimension, as in `dims: { T: 8 }`'));
      continue;
    }
    const size = convertArg(where, DIM_SCHEMA, value, diags);
    if (typeof size === 'number') dims.set(name, size);
  }
  if (diags.length > before) return undefined;
  const outputLosses = losses.map(({ output, loss, span }) => ({
    output,
    loss: loss!,
    weight: weights.get(output)?.weight ?? weights.get(undefined)?.weight ?? 1,
    span,
  }));
  for (const [output, { span }] of weights) {
    if (output !== undefined && !losses.some((l) => l.output === output) && losses[0]?.output !== undefined)
      diags.push(error('E0101', span, `\`${output}\` has a weight but no loss`));
  }
  // A weight without a loss is reported, but the losses are still checked against the model.
  return { loss: outputLosses[0]!.loss, outputLosses, dims };
}

/** A field's value as `[name, value, span]` entries: one unnamed entry unless it is a record. */
function entries(
  field: TrainField | undefined,
  where: string,
  diags: Diagnostic[],
): [string | undefined, Expr, Span][] {
  if (field === undefined) return [];
  const value = field.value;
  if (value.kind !== 'record') return [[undefined, value, field.span]];
  if (value.fields.length === 0)
    diags.push(error('E0104', value.span, `${where}: \`${field.name.name}\` is an empty record`));
  const seen = new Map<string, Span>();
  const out: [string, Expr, Span][] = [];
  for (const f of value.fields) {
    const prior = seen.get(f.name.name);
    if (prior) {
      diags.push(
        error('E0103', f.span, `\`${f.name.name}\` is given twice in \`${field.name.name}\``, [
          { span: prior, message: 'first given here' },
        ]),
      );
      continue;
    }
    seen.set(f.name.name, f.span);
    out.push([f.name.name, f.value, f.span]);
  }
  return out;
}
