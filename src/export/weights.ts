/**
 * The weights an export embeds or starts from: the model's own seeded initial values (what
 * `NnxModel.create({ seed })` draws), or a safetensors file of nnx weights (`--weights`, as
 * `nnxc train` saves them), checked against the model's parameters by name and shape.
 */
import type { CompileResult } from '../compile.js';
import { initialParameterValues } from '../runtime/init.js';
import { decodeSafetensors } from '../runtime/safetensors.js';

/** A model the compiler lowered, as `compile()` returns it. */
export type ExportModel = NonNullable<CompileResult['model']>;
/** A compiled model, as `compile()` returns it. */
export type ExportCompiled = NonNullable<CompileResult['compiled']>;

/** A bound train block, as `compile()` returns it. */
export type ExportTrain = NonNullable<CompileResult['train']>;

/** Parameter values by nnx name (`dense_1/kernel`), in nnx's layouts. */
export type Weights = ReadonlyMap<string, Float32Array>;

/** Thrown for a weights file that does not fit the model; the message says which tensor and why. */
export class WeightsError extends Error {
  override name = 'WeightsError';
}

/** Every parameter's initial value for a model seeded with `seed` (0 is `create`'s default). */
export function initialWeights(compiled: ExportCompiled, seed = 0): Map<string, Float32Array> {
  return new Map(compiled.spec.params.map((p) => [p.name, initialParameterValues(p, seed)]));
}

/**
 * The parameters of a safetensors file of nnx weights or a checkpoint (its `@state/` entries,
 * optimizer state, are left out): every parameter of the model must be there with its shape.
 */
export function weightsFromSafetensors(compiled: ExportCompiled, bytes: Uint8Array, path: string): Weights {
  const file = decodeSafetensors(bytes, path);
  const weights = new Map<string, Float32Array>();
  for (const p of compiled.spec.params) {
    const t = file.tensors.get(p.name);
    if (!t) throw new WeightsError(`${path} has no tensor \`${p.name}\` (a parameter of the model)`);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new WeightsError(
        `${path}: \`${p.name}\` has shape [${t.shape.join(', ')}], the model's is [${p.shape.join(', ')}]`,
      );
    }
    weights.set(p.name, t.data);
  }
  return weights;
}
