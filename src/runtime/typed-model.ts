/**
 * The typed view a generated module gives its model: inputs, targets and outputs by name, so a
 * misspelt input is a type error. It is the same {@link NnxModel} underneath; for a model with
 * several outputs `predict` returns them all by name (`predictOutputs`).
 */
import type { FitOptions, History, NnxModel } from './model.js';

/** `count` samples of each input and target, keyed as the generated module's types say. */
export interface TypedDataset<Inputs, Targets> {
  readonly count: number;
  readonly inputs: Inputs;
  readonly targets: Targets;
}

/**
 * An {@link NnxModel} whose data is typed: `Inputs` and `Targets` are the module's records of
 * Float32Arrays, `Prediction` what `predict` returns (one Float32Array, or every output by name),
 * and `BareInput` the input `predict` also takes alone (Float32Array for a one-input model).
 */
export interface TypedModel<Inputs, Targets, Prediction, BareInput = never> extends Omit<
  NnxModel,
  'fit' | 'evaluate' | 'predict' | 'predictOutputs' | 'adapt'
> {
  fit(data: TypedDataset<Inputs, Targets>, options?: FitOptions): Promise<History>;
  evaluate(data: TypedDataset<Inputs, Targets>): Promise<Record<string, number>>;
  adapt(data: TypedDataset<Inputs, Targets>, options?: { readonly only?: readonly string[] }): string[];
  predict(inputs: Inputs | BareInput, count?: number): Promise<Prediction>;
}

/**
 * `model` as its generated module types it. With `allOutputs`, `predict` answers every output by
 * name; every other member is the model's own, called on the model itself.
 */
export function typedModel<M>(model: NnxModel, allOutputs: boolean): M {
  if (!allOutputs) return model as unknown as M;
  return new Proxy(model, {
    get(target, key) {
      if (key === 'predict') return target.predictOutputs.bind(target);
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as unknown as M;
}
