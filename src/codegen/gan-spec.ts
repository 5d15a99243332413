/**
 * Compiles a GAN into one {@link GanSpec}: its three entry graphs are optimised for the batch
 * size, fused and planned over one buffer pool, so the discriminator step, the generator step
 * and `generate` all read and write the same parameter buffers.
 */
import type { GanConfig } from '../bind/gan.js';
import type { ModelIR } from '../lower/lower.js';
import type { Graph } from '../ir/graph.js';
import { type GanGraphs, buildGanGraphs, ganAccumulator } from '../ir/train/gan.js';
import type { GanSpec } from '../runtime/spec.js';
import { BufferPool } from './plan.js';
import {
  type CompileTargets,
  KernelTable,
  type LoweredEntry,
  type PlanOptions,
  buildEntry,
  persistentSlots,
  wasmModuleOf,
} from './spec.js';

export type GanEntryName = keyof GanSpec['entries'];
export const GAN_ENTRY_NAMES: readonly GanEntryName[] = ['discriminator', 'generator', 'generate'];

export interface CompiledGan {
  readonly spec: GanSpec;
  /** The entry graphs before optimisation (symbolic batch), for `--emit grad`. */
  readonly steps: GanGraphs;
  /** Each entry graph after the optimisation passes, for `--emit ir`. */
  readonly optimized: Readonly<Record<GanEntryName, Graph>>;
  /** Each entry's kernels and buffer plan, for `--emit plan`. */
  readonly lowered: Readonly<Record<GanEntryName, LoweredEntry>>;
}

export function compileGan(
  generator: ModelIR,
  discriminator: ModelIR,
  config: GanConfig,
  options: PlanOptions & CompileTargets = {},
): CompiledGan {
  const steps = buildGanGraphs(generator, discriminator, config);
  const pool = new BufferPool();
  const kernels = new KernelTable();
  const built = Object.fromEntries(
    GAN_ENTRY_NAMES.map((name) => [
      name,
      buildEntry(name, steps[name], config.batch, pool, kernels, options),
    ]),
  ) as Record<GanEntryName, ReturnType<typeof buildEntry>>;
  const { params, state } = persistentSlots(
    GAN_ENTRY_NAMES.map((name) => built[name].graph),
    pool,
  );
  const losses = (side: 'discriminator' | 'generator') => ({
    loss: pool.named(ganAccumulator(side, 'loss')),
    count: pool.named(ganAccumulator(side, 'count')),
  });
  const spec: GanSpec = {
    version: 1,
    kind: 'gan',
    name: config.name,
    generator: generator.name,
    discriminator: discriminator.name,
    buffers: pool.buffers.map((b, id) => ({ id, bytes: b.bytes, label: b.label })),
    params,
    state,
    kernels: kernels.kernels,
    accumulators: { discriminator: losses('discriminator'), generator: losses('generator') },
    entries: {
      discriminator: built.discriminator.entry,
      generator: built.generator.entry,
      generate: built.generate.entry,
    },
    ...(options.wasm
      ? {
          wasm: wasmModuleOf(
            pool,
            GAN_ENTRY_NAMES.map((name) => ({ ...built[name], name })),
          ),
        }
      : {}),
    training: {
      batch: config.batch,
      epochs: config.epochs,
      data: config.dataset.name,
      noise: config.noise,
      dataRange: config.dataRange,
    },
  };
  return {
    spec,
    steps,
    optimized: {
      discriminator: built.discriminator.graph,
      generator: built.generator.graph,
      generate: built.generate.graph,
    },
    lowered: built,
  };
}
