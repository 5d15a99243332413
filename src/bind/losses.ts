/**
 * The losses and metrics a train block can name. Their meaning, as IR, is in
 * src/ir/train/losses.ts, whose tables are keyed by these names, so a name without an
 * implementation does not compile.
 */

/** `loss:` values, in the order messages list them. */
export const LOSS_NAMES = [
  'binary_crossentropy',
  'binary_crossentropy_from_logits',
  'categorical_crossentropy',
  'categorical_crossentropy_from_logits',
  'sparse_categorical_crossentropy',
  'sparse_categorical_crossentropy_from_logits',
  'nll',
  'mse',
  'mae',
] as const;
export type LossName = (typeof LOSS_NAMES)[number];

/** `metrics:` values, in the order messages list them. */
export const METRIC_NAMES = [
  'accuracy',
  'binary_accuracy',
  'categorical_accuracy',
  'sparse_categorical_accuracy',
  'sparse_accuracy',
  'top_k_accuracy',
  'top_k_categorical_accuracy',
  'sparse_top_k_categorical_accuracy',
  'top_3_accuracy',
  'mse',
  'mae',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
