/**
 * Compiles a GAN into one {@link GanSpec}: its three entry graphs are optimised for the batch
 * size, fused and planned over one buffer pool, so the discriminator step, the generator step
 * and `generate` all read and write the same parameter buffers.
 */
import type { GanConfig } from '../ir/build/gan.js';
import type { ModelIR } from '../ir/build/lower.js';
import { type Graph, inputsOf } from '../ir/graph.js';
import { type GanGraphs, buildGanGraphs, ganAccumulator } from '../ir/train/gan.js';
import type { GanSpec, ParamSpec, TensorSlot } from '../runtime/spec.js';
import { BufferPool } from './plan.js';
import { KernelTable, type LoweredEntry, buildEntry, slot } from './spec.js';

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

export function compileGan(generator: ModelIR, discriminator: ModelIR, config: GanConfig): CompiledGan {
  const steps = buildGanGraphs(generator, discriminator, config);
  const pool = new BufferPool();
  const kernels = new KernelTable();
  const built = Object.fromEntries(
    GAN_ENTRY_NAMES.map((name) => [name, buildEntry(name, steps[name], config.batch, pool, kernels)]),
  ) as Record<GanEntryName, ReturnType<typeof buildEntry>>;
  const bufferNamed = (name: string) => {
    const id = pool.buffers.findIndex((b) => b.label === name);
    if (id < 0) throw new Error(`internal: no buffer for '${name}'`);
    return id;
  };
  const params = new Map<string, ParamSpec>();
  const state = new Map<string, TensorSlot>();
  for (const name of GAN_ENTRY_NAMES) {
    for (const n of inputsOf(built[name].graph, 'param')) {
      const p = n.params.name;
      if (!params.has(p)) params.set(p, { ...slot(p, n, bufferNamed(p)), init: n.params.init! });
    }
    for (const n of inputsOf(built[name].graph, 'state')) {
      const s = n.params.name;
      if (!s.startsWith('metric/') && !state.has(s)) state.set(s, slot(s, n, bufferNamed(s)));
    }
  }
  const losses = (side: 'discriminator' | 'generator') => ({
    loss: bufferNamed(ganAccumulator(side, 'loss')),
    count: bufferNamed(ganAccumulator(side, 'count')),
  });
  const spec: GanSpec = {
    version: 1,
    kind: 'gan',
    name: config.name,
    generator: generator.name,
    discriminator: discriminator.name,
    buffers: pool.buffers.map((b, id) => ({ id, bytes: b.bytes, label: b.label })),
    params: [...params.values()],
    state: [...state.values()],
    kernels: kernels.kernels,
    accumulators: { discriminator: losses('discriminator'), generator: losses('generator') },
    entries: {
      discriminator: built.discriminator.entry,
      generator: built.generator.entry,
      generate: built.generate.entry,
    },
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
