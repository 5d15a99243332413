/**
 * Compiles a GAN into one {@link GanSpec}: its three entry graphs go through the one compile
 * step of every module ({@link compileEntries}), so the discriminator step `d_step`, the generator
 * step `g_step` and `generate` all read and write the same parameter buffers.
 */
import type { GanConfig } from '../bind/gan.js';
import type { ModelIR } from '../lower/lower.js';
import { type GanGraphs, type GanStep, buildGanGraphs, ganAccumulator } from '../ir/train/gan.js';
import type { GanSpec } from '../runtime/spec.js';
import { type CompileTargets, type CompiledModule, type PlanOptions, compileEntries } from './spec.js';

export type GanEntryName = keyof GanSpec['entries'];
export const GAN_ENTRY_NAMES: readonly GanEntryName[] = ['d_step', 'g_step', 'generate'];

export type CompiledGan = CompiledModule<GanSpec, GanEntryName, GanGraphs>;

export function compileGan(
  generator: ModelIR,
  discriminator: ModelIR,
  config: GanConfig,
  options: PlanOptions & CompileTargets = {},
): CompiledGan {
  const steps = buildGanGraphs(generator, discriminator, config);
  const compiled = compileEntries(steps, GAN_ENTRY_NAMES, config.batch, options);
  const { pool } = compiled;
  const losses = (step: GanStep) => ({
    loss: pool.named(ganAccumulator(step, 'loss')),
    count: pool.named(ganAccumulator(step, 'count')),
  });
  const spec: GanSpec = {
    version: 1,
    kind: 'gan',
    name: config.name,
    generator: generator.name,
    discriminator: discriminator.name,
    buffers: compiled.buffers,
    params: compiled.params,
    state: compiled.state,
    kernels: compiled.kernels,
    accumulators: { d_step: losses('d_step'), g_step: losses('g_step') },
    entries: compiled.entries,
    ...(compiled.wasm && { wasm: compiled.wasm }),
    training: {
      batch: config.batch,
      epochs: config.epochs,
      data: config.dataset.name,
      noise: config.noise,
      dataRange: config.dataRange,
    },
  };
  return { spec, steps, optimized: compiled.optimized, lowered: compiled.lowered };
}
