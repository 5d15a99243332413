/**
 * Turns a model's entry graphs into the {@link ModelSpec} the runtime executes: optimises each
 * graph for its batch size, fuses it into kernels, plans its buffers, and generates each
 * kernel's WGSL (identical kernels are emitted once and dispatched many times).
 */
import type { ModelIR } from '../lower/lower.js';
import type { TrainConfig } from '../bind/train.js';
import { BATCH, ELEMENTWISE_OPS, type Graph, type Node, inputsOf } from '../ir/graph.js';
import { type FusedGraph, fuse } from '../ir/passes/fuse.js';
import { optimize } from '../ir/passes/index.js';
import { SPARSE_LOSSES } from '../ir/train/losses.js';
import { MASK, SAMPLE_COUNT, accumulatorName, buildStepGraphs, type StepGraphs } from '../ir/train/step.js';
import { RANDOM_SEED } from '../lower/layers/types.js';
import type {
  BindingAccess,
  DispatchSpec,
  EntryInput,
  EntrySpec,
  KernelSpec,
  ModelSpec,
  ParamSpec,
  StateSlot,
  TensorSlot,
  WasmModuleSpec,
  WasmUnavailable,
} from '../runtime/spec.js';
import { WasmUnsupportedError } from './wasm/index.js';
import { buildWasmModule } from './wasm/module.js';
import { type MatmulTiling, wgslKernel } from './wgsl/index.js';
import { BufferPool, type EntryPlan, mergeScalarKernels, planEntry } from './plan.js';
import { formRowKernels } from './rows.js';
import { type AdapterProfile, DEFAULT_ADAPTER, LARGE_READ_BYTES } from './adapter.js';
import { splitReductions } from '../ir/passes/split.js';
import { WORKGROUP_SIZE } from './wgsl/builder.js';
import { type Locate, kernelOrigin } from './origin.js';

export type EntryName = 'train' | 'evaluate' | 'predict';

export interface CompiledModel {
  readonly spec: ModelSpec;
  /** Each entry graph after the optimisation passes, for `--emit`. */
  readonly optimized: Readonly<Record<EntryName, Graph>>;
  /** The step graphs before optimisation (symbolic batch), for `--emit grad`. */
  readonly steps: StepGraphs;
  /** Each entry's kernels and buffer plan, for `--emit plan`. */
  readonly lowered: Readonly<Record<EntryName, LoweredEntry>>;
}

/** Kernels of a model, each distinct WGSL text once. */
export class KernelTable {
  readonly kernels: KernelSpec[] = [];
  private readonly byText = new Map<string, number>();

  intern(name: string, wgsl: string, access: readonly BindingAccess[]): number {
    let id = this.byText.get(wgsl);
    if (id === undefined) {
      id = this.kernels.length;
      this.kernels.push({ name: `${name}_${id}`, wgsl, bindings: access.length, access });
      this.byText.set(wgsl, id);
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
        state.set(name, { ...slot(name, n, pool.named(name)), ...seeded });
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
  /** Matmul tiling for every matmul of the entry; by default chosen per shape (`tilingFor`). */
  readonly matmulTiling?: MatmulTiling;
  /** Finds node spans in the source, so each dispatch names the layers it computes. */
  readonly locate?: Locate;
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
  const fused = fusing ? mergeScalarKernels(formRowKernels(fuse(graph))) : fuse(graph, false);
  // Fusion may rewrite the graph (copies of shared remaps): ids below are the fused graph's.
  const g = fused.graph;
  const plan = planEntry(fused, pool, name);
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
    const origin = kernelOrigin(g, planned.kernel, options.locate);
    return {
      kernel: kernels.intern(generated.name, generated.wgsl, generated.access),
      buffers: generated.buffers,
      workgroups: generated.workgroups,
      ...(origin !== undefined && { origin }),
    };
  });
  return { entry: { batch, inputs, outputs, dispatches }, fused, plan };
}

/** What a plan is made for: the adapter profile decides how long reductions are split. */
export interface PlanOptions {
  readonly adapter?: AdapterProfile;
  /** Finds node spans in the source, so each dispatch names the layers it computes. */
  readonly locate?: Locate;
}

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
  const g = splitReductions({
    concurrentWorkgroups: adapter.concurrentWorkgroups,
    workgroupSize: WORKGROUP_SIZE,
    minBytes: LARGE_READ_BYTES,
  })(optimize(needed, { [BATCH]: batch }));
  const lowerOptions = options.locate ? { locate: options.locate } : {};
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
  /** Also build the wasm module (the CPU backend); an op it cannot run yet is recorded, not thrown. */
  readonly wasm?: boolean;
}

/** The wasm module of a model's entries, or why there is none. */
export function wasmModuleOf(
  pool: BufferPool,
  entries: readonly (LoweredEntry & { name: EntryName })[],
): WasmModuleSpec | WasmUnavailable {
  try {
    return buildWasmModule(pool.buffers, entries);
  } catch (error) {
    if (error instanceof WasmUnsupportedError) return { unsupported: error.message };
    throw error;
  }
}

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
  });
  const pool = new BufferPool();
  const kernels = new KernelTable();
  const t = buildEntry('train', steps.train, train.batch, pool, kernels, options);
  const e = buildEntry('evaluate', steps.evaluate, train.batch, pool, kernels, options);
  const p = buildEntry('predict', steps.predict, train.batch, pool, kernels, options);
  const { params, state } = persistentSlots([t.graph], pool);
  const spec: ModelSpec = {
    version: 1,
    name: model.name,
    buffers: pool.buffers.map((b, id) => ({ id, bytes: b.bytes, label: b.label })),
    params,
    state,
    accumulators: steps.accumulators.map((name) => ({ name, buffer: pool.named(accumulatorName(name)) })),
    sampleCount: pool.named(SAMPLE_COUNT),
    kernels: kernels.kernels,
    entries: { train: t.entry, evaluate: e.entry, predict: p.entry },
    ...(options.wasm
      ? {
          wasm: wasmModuleOf(pool, [
            { ...t, name: 'train' },
            { ...e, name: 'evaluate' },
            { ...p, name: 'predict' },
          ]),
        }
      : {}),
    training: {
      batch: train.batch,
      epochs: train.epochs,
      data: train.data,
      loss: train.loss,
      targets: SPARSE_LOSSES.has(train.loss) ? 'sparse' : 'dense',
    },
  };
  return {
    spec,
    optimized: { train: t.graph, evaluate: e.graph, predict: p.graph },
    steps,
    lowered: { train: t, evaluate: e, predict: p },
  };
}
