/**
 * One way to run any compiled module: {@link createModule} looks at the spec's kind and returns
 * the runtime class for it, typed by the spec (a ModelSpec gives an NnxModel, a GanSpec an
 * NnxGan). Both are DeviceModules: one backend, named entries, weights and checkpoints.
 */
import type { CreateModelOptions } from './create.js';
import { NnxGan } from './gan.js';
import { NnxModel } from './model.js';
import { type GanSpec, type ModelSpec, type ModuleSpec, isGanSpec } from './spec.js';

/** The runtime class a spec runs as. */
export type ModuleOf<S extends ModuleSpec> = S extends GanSpec ? NnxGan : NnxModel;

/** Creates the module of `spec`, whichever its kind, as that kind's `create` does. */
export async function createModule<S extends ModuleSpec>(
  spec: S,
  options: CreateModelOptions = {},
): Promise<ModuleOf<S>> {
  const module = isGanSpec(spec)
    ? await NnxGan.create(spec, options)
    : await NnxModel.create(spec as ModelSpec, options);
  return module as ModuleOf<S>;
}
