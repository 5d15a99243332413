/**
 * Where a train or gan block's field is written, so the kernels it makes (the loss, the
 * optimizer's update, a GAN's noise) name its line in `--emit plan` as a layer's kernels do.
 */
import type { GanDef, TrainDef } from '../parser/ast.js';
import type { Span } from '../util/diagnostics.js';

/** Spans at or past this offset are in the command line (`--set`), not in the file. */
export const COMMAND_LINE_BASE = 1 << 30;

/**
 * The span of the first of `names` the block writes in the file, or `header` (the block's
 * first line) when it writes none of them there: a default, or a value only set on the
 * command line, comes from the block as a whole.
 */
export function fieldOrigin(def: TrainDef | GanDef, names: readonly string[], header: Span): Span {
  for (const name of names) {
    const field = def.fields.find((f) => f.name.name === name);
    if (field) return field.span.start < COMMAND_LINE_BASE ? field.span : header;
  }
  return header;
}
