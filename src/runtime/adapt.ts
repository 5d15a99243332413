/**
 * Statistics of the data that parameters hold (a Normalization layer's mean and variance): the
 * values `NnxModel.adapt` writes, computed on the host in f64 from the samples of the model
 * input each parameter names.
 */
import type { Dataset } from './batching.js';
import type { ParamSpec } from './spec.js';

/** The parameters of `params` that hold a statistic of the data. */
export function adaptedParams(params: readonly ParamSpec[]): ParamSpec[] {
  return params.filter((p) => p.init.adapt !== undefined);
}

/**
 * The value of each parameter in `params` (all adapted ones) over `data`: per feature of the
 * input's last axis, over every sample and every other axis, the mean or the population
 * variance (as Keras' `adapt`). Errors name the input that is missing or does not fit.
 */
export function adaptValues(
  params: readonly ParamSpec[],
  data: Dataset,
  caller: string,
): Map<string, Float32Array> {
  const values = new Map<string, Float32Array>();
  const moments = new Map<string, { mean: Float64Array; variance: Float64Array }>();
  for (const param of params) {
    const { input, statistic } = param.init.adapt!;
    const features = param.shape[param.shape.length - 1]!;
    let m = moments.get(input);
    if (m === undefined) {
      m = inputMoments(data, input, features, caller);
      moments.set(input, m);
    }
    values.set(param.name, Float32Array.from(statistic === 'mean' ? m.mean : m.variance));
  }
  return values;
}

function inputMoments(
  data: Dataset,
  input: string,
  features: number,
  caller: string,
): { mean: Float64Array; variance: Float64Array } {
  const x = data.inputs[input];
  if (x === undefined)
    throw new Error(`${caller}: the data has no input '${input}', which a Normalization layer adapts to`);
  const rows = x.length / features;
  if (data.count === 0 || !Number.isInteger(rows) || rows % data.count !== 0)
    throw new Error(
      `${caller}: input '${input}' holds ${x.length} values for ${data.count} samples, ` +
        `not a whole number of rows of ${features} features each`,
    );
  const mean = new Float64Array(features);
  for (let r = 0; r < rows; r++) for (let f = 0; f < features; f++) mean[f]! += x[r * features + f]!;
  for (let f = 0; f < features; f++) mean[f]! /= rows;
  const variance = new Float64Array(features);
  for (let r = 0; r < rows; r++)
    for (let f = 0; f < features; f++) variance[f]! += (x[r * features + f]! - mean[f]!) ** 2;
  for (let f = 0; f < features; f++) variance[f]! /= rows;
  return { mean, variance };
}
