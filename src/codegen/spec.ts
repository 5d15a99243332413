/**
 * Turns a model's entry graphs into the {@link ModelSpec} the runtime executes: optimises each
 * graph for its batch size, fuses it into kernels, plans its buffers, and generates each
 * kernel's WGSL (identical kernels are emitted once and dispatched many times).
 */
import type { ModelIR } from '../lower/lower.js';
import type { TrainConfig } from '../bind/train.js';
import { BATCH, ELEMENTWISE_OPS, type Graph, type Node, inputsOf } from '../ir/graph.js';
import { type FusedGraph, fuse } from '../ir/passes/fuse.js';
import { eliminateDeadCode, optimize } from '../ir/passes/index.js';
import { SPARSE_LOSSES } from '../ir/train/losses.js';
import { MASK, SAMPLE_COUNT, accumulatorName, buildStepGraphs, type StepGraphs } from '../ir/train/step.js';
import { RANDOM_SEED } from '../lower/layers/types.js';
import type {
  BindingAccess,
  BufferSpec,
  DispatchSpec,
  EntryInput,
  EntrySpec,
  GanSpec,
  KernelSpec,
  KernelVariant,
  ModelSpec,
  ParamSpec,
  StateSlot,
  TensorSlot,
  WasmModuleSpec,
  WasmUnavailable,
} from '../runtime/spec.js';
import { WasmUnsupportedError } from './wasm/index.js';
import { WasmMemoryLimitError, buildWasmModule } from './wasm/module.js';
import { type GeneratedKernel, type MatmulTiling, wgslKernel, wgslVariants } from './wgsl/index.js';
import { gpuTilingFor, matmulWorkgroups } from './wgsl/matmul.js';
import { convWorkgroups } from './wgsl/conv2d.js';
import { BufferPool, type EntryPlan, mergeScalarKernels, planEntry } from './plan.js';
import { foldScalarKernels, formRowKernels } from './rows.js';
import { type WholeStepLimits, formWholeSteps, wholeStepLimits } from './whole-step.js';
import { type AdapterProfile, DEFAULT_ADAPTER, LARGE_READ_BYTES } from './adapter.js';
import { splitReductions } from '../ir/passes/split.js';
import { WORKGROUP_SIZE } from './wgsl/builder.js';
import { type Locate, kernelOrigin } from './origin.js';

export type EntryName = 'train' | 'evaluate' | 'predict';

/**
 * A compiled module, a model's or a GAN's: its spec, and for `--emit` each named entry graph
 * before optimisation (symbolic batch), after it, and as kernels over the one buffer plan.
 */
export interface CompiledModule<
  S extends ModelSpec | GanSpec,
  E extends string,
  G = Readonly<Record<E, Graph>>,
> {
  readonly spec: S;
  /** The entry graphs before optimisation (symbolic batch), for `--emit grad`. */
  readonly steps: G;
  /** Each entry graph after the optimisation passes, for `--emit ir`. */
  readonly optimized: Readonly<Record<E, Graph>>;
  /** Each entry's kernels and buffer plan, for `--emit plan`. */
  readonly lowered: Readonly<Record<E, LoweredEntry>>;
}

export type CompiledModel = CompiledModule<ModelSpec, EntryName, StepGraphs>;

/** Kernels of a model, each distinct WGSL text once. */
export class KernelTable {
  readonly kernels: KernelSpec[] = [];
  private readonly byText = new Map<string, number>();

  intern(
    name: string,
    wgsl: string,
    access: readonly BindingAccess[],
    variants: readonly KernelVariant[] = [],
  ): number {
    let id = this.byText.get(wgsl);
    if (id === undefined) {
      id = this.kernels.length;
      this.kernels.push({
        name: `${name}_${id}`,
        wgsl,
        bindings: access.length,
        access,
        ...(variants.length > 0 && { variants }),
      });
      this.byText.set(wgsl, id);
    } else {
      // A variant's grid stands for every dispatch of the kernel: it must not depend on which.
      const known = this.kernels[id]!.variants ?? [];
      const same = (a: KernelVariant, b: KernelVariant | undefined) =>
        b !== undefined && a.wgsl === b.wgsl && a.workgroups.join() === b.workgroups.join();
      if (known.length !== variants.length || variants.some((v, i) => !same(v, known[i])))
        throw new Error(`internal: kernel ${name}_${id} is interned with two sets of variants`);
    }
    return id;
  }
}

export function slot(name: string, n: Node, buffer: number): TensorSlot {
  return { name, shape: n.shape as number[], buffer };
}

/**
 * The parameters and the state (optimizer slots, counters) the entry graphs read, each once in
 * order of first use, in their pool buffers. Running sums (`metric/…`) are state too, but the
 * spec lists them as accumulators instead.
 */
export function persistentSlots(
  graphs: readonly Graph[],
  pool: BufferPool,
): { params: ParamSpec[]; state: StateSlot[] } {
  const params = new Map<string, ParamSpec>();
  const state = new Map<string, StateSlot>();
  for (const g of graphs) {
    for (const n of inputsOf(g, 'param')) {
      const name = n.params.name;
      if (!params.has(name)) params.set(name, { ...slot(name, n, pool.named(name)), init: n.params.init! });
    }
    for (const n of inputsOf(g, 'state')) {
      const name = n.params.name;
      if (!name.startsWith(accumulatorName('')) && !state.has(name)) {
        const seeded = name === RANDOM_SEED ? { init: 'seed' as const } : {};
        const derive = n.params.derive !== undefined ? { derive: n.params.derive } : {};
        state.set(name, { ...slot(name, n, pool.named(name)), ...seeded, ...derive });
      }
    }
  }
  return { params: [...params.values()], state: [...state.values()] };
}

function entryInputRole(name: string, role: string): EntryInput['role'] | undefined {
  if (role === 'target') return 'target';
  if (role !== 'data') return undefined;
  return name === MASK ? 'mask' : 'input';
}

export interface LowerOptions {
  /** Group nodes into fused kernels (default true); false gives one kernel per node. */
  readonly fuse?: boolean;
  /**
   * Matmul tiling for every matmul of the entry; by default chosen per shape (`tilingFor`), and
   * the kernel then carries its GPU tiles as a variant, as convolutions do. A given tiling makes
   * no variants (convolutions included).
   */
  readonly matmulTiling?: MatmulTiling;
  /** Finds node spans in the source, so each dispatch names the layers it computes. */
  readonly locate?: Locate;
  /** Runs of small kernels as one whole-step kernel within these limits (off when absent). */
  readonly wholeStep?: WholeStepLimits;
  /**
   * Storage buffers the adapter lets one kernel bind, when more than 8: the optimizer's scalar
   * kernel then folds into the row kernel (`foldScalarKernels`). Absent: no such fold.
   */
  readonly maxBindings?: number;
}

/** What lowering one entry produced: its dispatches and, for `--emit plan`, its kernels. */
export interface LoweredEntry {
  readonly entry: EntrySpec;
  readonly fused: FusedGraph;
  readonly plan: EntryPlan;
}

/**
 * Fuses, plans buffers and generates the dispatches of one entry graph whose shapes are all
 * bound. Kernel tests call this directly on small graphs.
 */
export function lowerEntry(
  name: string,
  graph: Graph,
  batch: number,
  pool: BufferPool,
  kernels: KernelTable,
  options: LowerOptions = {},
): LoweredEntry {
  const fusing = options.fuse ?? true;
  const merged = fusing ? mergeScalarKernels(formRowKernels(fuse(graph))) : fuse(graph, false);
  const grouped =
    fusing && options.maxBindings !== undefined ? foldScalarKernels(merged, options.maxBindings) : merged;
  const planned = planEntry(grouped, pool, name);
  const { fused, plan } =
    fusing && options.wholeStep
      ? formWholeSteps(grouped, planned, pool, options.wholeStep)
      : { fused: grouped, plan: planned };
  // Fusion may rewrite the graph (copies of shared remaps): ids below are the fused graph's.
  const g = fused.graph;
  const inputs: EntryInput[] = [];
  for (const n of inputsOf(g)) {
    const role = entryInputRole(n.params.name, n.params.role);
    if (role) inputs.push({ ...slot(n.params.name, n, plan.bufferOf.get(n.id)!), role });
  }
  const outputs = g.outputs
    .filter((o) => o.role === 'prediction')
    .map((o) => slot(o.name, g.nodes[o.node]!, plan.bufferOf.get(o.node)!));
  const dispatches: DispatchSpec[] = plan.order.map((index) => {
    const planned = { g, kernel: fused.kernels[index]!, bufferOf: plan.bufferOf };
    const generated = wgslKernel(planned, { matmulTiling: options.matmulTiling });
    const variants = options.matmulTiling ? [] : variantsOf(generated, wgslVariants(planned));
    const origin = kernelOrigin(g, planned.kernel, options.locate);
    return {
      kernel: kernels.intern(generated.name, generated.wgsl, generated.access, variants),
      buffers: generated.buffers,
      workgroups: generated.workgroups,
      ...(origin !== undefined && { origin }),
    };
  });
  return { entry: { batch, inputs, outputs, dispatches }, fused, plan };
}

/** A kernel's variants as the spec carries them; each must bind what the default binds. */
function variantsOf(
  base: GeneratedKernel,
  rendered: readonly { tiles: KernelVariant['tiles']; kernel: GeneratedKernel }[],
): KernelVariant[] {
  return rendered.map(({ tiles, kernel }) => {
    if (kernel.buffers.join() !== base.buffers.join() || kernel.access.join() !== base.access.join())
      throw new Error(`internal: the ${tiles} tiles of ${base.name} bind other buffers`);
    const needs = kernel.needs ?? { invocations: 0, workgroupBytes: 0 };
    return { tiles, wgsl: kernel.wgsl, workgroups: kernel.workgroups, ...needs };
  });
}

/** What a plan is made for: the adapter profile decides how long reductions are split. */
export interface PlanOptions {
  readonly adapter?: AdapterProfile;
  /** Finds node spans in the source, so each dispatch names the layers it computes. */
  readonly locate?: Locate;
  /** False keeps a small entry's kernels apart (by default they become whole-step kernels). */
  readonly wholeStep?: boolean;
}

/** Workgroups of an m×n product (a matmul's or a convolution's) in the GPU tiles. */
const gpuTilesWorkgroups = (m: number, n: number) => matmulWorkgroups(m, n, gpuTilingFor(m, n));

export function buildEntry(
  name: string,
  graph: Graph,
  batch: number,
  pool: BufferPool,
  kernels: KernelTable,
  options: PlanOptions = {},
): LoweredEntry & { graph: Graph } {
  // The step's loss is reported through the accumulators; as an output it would cost a kernel.
  const needed = { ...graph, outputs: graph.outputs.filter((o) => o.role !== 'loss') };
  const adapter = options.adapter ?? DEFAULT_ADAPTER;
  // A split leaves the reshape a split operand was read through unused: dead code removes it.
  const g = eliminateDeadCode(
    splitReductions({
      concurrentWorkgroups: adapter.concurrentWorkgroups,
      workgroupSize: WORKGROUP_SIZE,
      minBytes: LARGE_READ_BYTES,
      // Half: the final pass also reads what its epilogue needs (a bias, optimizer state).
      maxPartialBytes: LARGE_READ_BYTES / 2,
      // Planned against the tiles the runtime picks on such an adapter (src/runtime/tiles.ts);
      // a convolution's GPU tiles are the matmul's, over its implicit GEMM.
      matmulWorkgroups: adapter.kind === 'gpu' ? gpuTilesWorkgroups : matmulWorkgroups,
      convWorkgroups: adapter.kind === 'gpu' ? gpuTilesWorkgroups : convWorkgroups,
    })(optimize(needed, { [BATCH]: batch })),
  );
  const lowerOptions: LowerOptions = {
    ...(options.locate && { locate: options.locate }),
    ...(options.wholeStep !== false && { wholeStep: wholeStepLimits(adapter) }),
    maxBindings: adapter.maxStorageBuffers,
  };
  return { ...lowerEntry(name, g, batch, pool, kernels, lowerOptions), graph: g };
}

/** Per-output losses by output name; a loss given for every output applies to each. */
function outputLossesOf(train: TrainConfig): Map<string, { loss: TrainConfig['loss']; weight: number }> {
  return new Map(
    train.outputLosses.flatMap((o) =>
      o.output === undefined ? [] : [[o.output, { loss: o.loss, weight: o.weight }]],
    ),
  );
}

/** Targets beyond WGSL a compiled model carries. */
export interface CompileTargets {
  /** Also build the wasm module (the CPU backend); an op it cannot run yet, or a plan past its 4 GiB memory, is recorded, not thrown. */
  readonly wasm?: boolean;
}

/** The wasm module of a model's (or a GAN's) entries, or why there is none. */
export function wasmModuleOf(
  pool: BufferPool,
  entries: readonly (LoweredEntry & { name: string })[],
): WasmModuleSpec | WasmUnavailable {
  try {
    return buildWasmModule(pool.buffers, entries);
  } catch (error) {
    // A plan past the 4 GiB memory is recorded as an op it cannot run is: creating the model on
    // wasm then fails naming the buffer, and `auto` runs it on WebGPU.
    if (error instanceof WasmUnsupportedError || error instanceof WasmMemoryLimitError)
      return { unsupported: error.message };
    throw error;
  }
}

/** What every compiled module holds, built by {@link compileEntries}; the caller adds its kind's fields. */
export interface CompiledEntries<E extends string> {
  /** The one buffer plan of every entry; `named` finds a persistent buffer. */
  readonly pool: BufferPool;
  readonly buffers: BufferSpec[];
  readonly params: ParamSpec[];
  readonly state: StateSlot[];
  readonly kernels: KernelSpec[];
  readonly entries: Record<E, EntrySpec>;
  readonly optimized: Record<E, Graph>;
  readonly lowered: Record<E, LoweredEntry>;
  /** Present when the wasm target was asked for. */
  readonly wasm?: WasmModuleSpec | WasmUnavailable;
}

/**
 * The one compile step of every module kind: each named entry graph (in this order, which
 * decides buffer and kernel ids) optimised for `batch`, fused and planned over one buffer pool
 * and one kernel table, so all entries read and write the same parameter buffers. Parameters
 * and state are listed from the graphs named in `persistentFrom` (all entries by default).
 */
export function compileEntries<E extends string>(
  graphs: Readonly<Record<E, Graph>>,
  names: readonly E[],
  batch: number,
  options: PlanOptions & CompileTargets & { readonly persistentFrom?: readonly E[] } = {},
): CompiledEntries<E> {
  const pool = new BufferPool();
  const kernels = new KernelTable();
  const built = new Map(
    names.map((name) => [name, buildEntry(name, graphs[name], batch, pool, kernels, options)]),
  );
  const byName = <T>(f: (b: LoweredEntry & { graph: Graph }) => T) =>
    Object.fromEntries(names.map((name) => [name, f(built.get(name)!)])) as Record<E, T>;
  const { params, state } = persistentSlots(
    (options.persistentFrom ?? names).map((name) => built.get(name)!.graph),
    pool,
  );
  return {
    pool,
    buffers: pool.buffers.map((b, id) => ({ id, bytes: b.bytes, label: b.label })),
    params,
    state,
    kernels: kernels.kernels,
    entries: byName((b) => b.entry),
    optimized: byName((b) => b.graph),
    lowered: byName(({ entry, fused, plan }) => ({ entry, fused, plan })),
    ...(options.wasm && {
      wasm: wasmModuleOf(
        pool,
        names.map((name) => ({ ...built.get(name)!, name })),
      ),
    }),
  };
}

const MODEL_ENTRY_NAMES: readonly EntryName[] = ['train', 'evaluate', 'predict'];

export function compileModel(
  model: ModelIR,
  train: TrainConfig,
  options: PlanOptions & CompileTargets = {},
): CompiledModel {
  const steps = buildStepGraphs(model, {
    loss: train.loss,
    outputLosses: outputLossesOf(train),
    metrics: train.metrics,
    optimizer: train.optimizer,
    augment: train.augment,
    spans: train.spans,
  });
  // Only the train step updates parameters and state; the other entries read a subset of them.
  const compiled = compileEntries(steps, MODEL_ENTRY_NAMES, train.batch, {
    ...options,
    persistentFrom: ['train'],
  });
  const { pool } = compiled;
  const spec: ModelSpec = {
    version: 1,
    kind: 'model',
    name: model.name,
    buffers: compiled.buffers,
    params: compiled.params,
    state: compiled.state,
    accumulators: steps.accumulators.map((name) => ({ name, buffer: pool.named(accumulatorName(name)) })),
    sampleCount: pool.named(SAMPLE_COUNT),
    kernels: compiled.kernels,
    entries: compiled.entries,
    ...(compiled.wasm && { wasm: compiled.wasm }),
    training: {
      batch: train.batch,
      epochs: train.epochs,
      data: train.data,
      loss: train.loss,
      targets: SPARSE_LOSSES.has(train.loss) ? 'sparse' : 'dense',
    },
  };
  return { spec, optimized: compiled.optimized, steps, lowered: compiled.lowered };
}
