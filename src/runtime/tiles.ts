/**
 * Which tiling each kernel runs in: a spec's kernels carry their `cpu` tiles as their WGSL and
 * may carry `gpu` tiles as a variant (src/runtime/spec.ts). At create, the runtime picks one per
 * adapter: CPU-like adapters (lavapipe, SwiftShader, a fallback adapter) run the register
 * blocks, hardware adapters the workgroup-memory tiles, unless `tiles` (or NNX_TILES) says which.
 */
import { isCpuAdapter } from './choose-backend.js';
import type { EntrySpec, KernelSpec, KernelVariant, ModuleSpec, Tiles } from './spec.js';

/**
 * What `create({ tiles })` accepts: a tiling; `auto`, by the adapter (the default); or
 * `measure`, each kernel's faster tiling as timed on the device (src/runtime/measure-tiles.ts).
 */
export type TilesChoice = Tiles | 'auto' | 'measure';

export const TILES_CHOICES: readonly TilesChoice[] = ['auto', 'cpu', 'gpu', 'measure'];

/** The limits a variant's workgroup must fit. */
export type TileLimits = Pick<
  GPUSupportedLimits,
  'maxComputeInvocationsPerWorkgroup' | 'maxComputeWorkgroupStorageSize' | 'maxComputeWorkgroupsPerDimension'
>;

/**
 * The choice in force: `requested` when given, else the environment variable NNX_TILES (for
 * tests and benchmarks; Node only), else `auto`. An unknown value is an error, not a default.
 */
export function requestedTiles(requested: TilesChoice | undefined, caller: string): TilesChoice {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const source = requested !== undefined ? 'tiles' : 'NNX_TILES';
  const value = requested ?? env?.['NNX_TILES'] ?? 'auto';
  if (!(TILES_CHOICES as readonly string[]).includes(value))
    throw new Error(`${caller}: ${source} must be one of ${TILES_CHOICES.join(', ')}, got '${value}'`);
  return value as TilesChoice;
}

/** The tiles `auto` runs on `device`: register blocks on a CPU-like adapter, GPU tiles elsewhere. */
export function autoTiles(device: GPUDevice): Tiles {
  return isCpuAdapter(device) ? 'cpu' : 'gpu';
}

/** Whether `variant` fits the device: its workgroup's invocations and memory, its grid. */
export function variantFits(variant: KernelVariant, limits: TileLimits): boolean {
  return (
    variant.invocations <= limits.maxComputeInvocationsPerWorkgroup &&
    variant.workgroupBytes <= limits.maxComputeWorkgroupStorageSize &&
    Math.max(...variant.workgroups) <= limits.maxComputeWorkgroupsPerDimension
  );
}

/**
 * `spec` with every kernel that has a `tiles` variant fitting `limits` running it: the kernel's
 * WGSL replaced and the grids of its dispatches with it. `cpu` (every kernel's own WGSL) returns
 * `spec` itself. Kernels without such a variant keep theirs, so a spec compiled before variants
 * existed runs unchanged.
 */
export function withTiles<S extends ModuleSpec>(spec: S, tiles: Tiles, limits: TileLimits): S {
  if (tiles === 'cpu') return spec;
  return withVariants(spec, (k) => k.variants?.find((v) => v.tiles === tiles && variantFits(v, limits)));
}

/** `spec` with kernel `i` running `pick(kernel, i)` where that is a variant, its own WGSL where undefined. */
export function withVariants<S extends ModuleSpec>(
  spec: S,
  pick: (kernel: KernelSpec, index: number) => KernelVariant | undefined,
): S {
  const chosen = spec.kernels.map(pick);
  if (chosen.every((v) => v === undefined)) return spec;
  const kernels: KernelSpec[] = spec.kernels.map((k, i) => {
    const v = chosen[i];
    return v === undefined ? k : { ...k, wgsl: v.wgsl };
  });
  const regrid = (entry: EntrySpec): EntrySpec => ({
    ...entry,
    dispatches: entry.dispatches.map((d) => {
      const v = chosen[d.kernel];
      return v === undefined ? d : { ...d, workgroups: v.workgroups };
    }),
  });
  const entries = Object.fromEntries(
    Object.entries(spec.entries as Record<string, EntrySpec>).map(([name, e]) => [name, regrid(e)]),
  );
  return { ...spec, kernels, entries } as S;
}

/** How many kernels of `spec` would run a `tiles` variant, for logs and tests. */
export function variantCount(spec: Pick<ModuleSpec, 'kernels'>, tiles: Tiles): number {
  return spec.kernels.filter((k) => k.variants?.some((v) => v.tiles === tiles)).length;
}
