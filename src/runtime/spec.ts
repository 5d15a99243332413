/**
 * The compiled form of a model that generated modules embed and the runtime executes: WGSL
 * kernels, a static buffer plan, and the dispatch list of each entry point. It is plain data
 * (JSON-serialisable), produced by src/codegen and consumed by src/runtime.
 */

/** How the runtime fills a parameter before training. */
export interface InitializerSpec {
  readonly kind:
    | 'zeros'
    | 'ones'
    | 'constant'
    | 'random_normal'
    | 'random_uniform'
    | 'glorot_uniform'
    | 'glorot_normal'
    | 'he_normal'
    | 'he_uniform'
    | 'lecun_normal'
    | 'pytorch_uniform'
    | 'orthogonal';
  readonly fanIn: number;
  readonly fanOut: number;
  /** `constant`: the value (0 when omitted); `random_normal`, `random_uniform`: the mean (0). */
  readonly value?: number;
  /**
   * `random_normal`: the deviation (0.05); `random_uniform`: the half-width of [−s, s] (0.05);
   * `orthogonal`: the gain (1).
   */
  readonly scale?: number;
  /**
   * A statistic of the data (a Normalization layer's mean or variance): `NnxModel.adapt` sets it
   * from the samples of the model input `input`, per feature of its last axis; until then it
   * holds what `kind` gives.
   */
  readonly adapt?: { readonly input: string; readonly statistic: 'mean' | 'variance' };
}

/** One GPU buffer of the static plan. Buffers are f32 storage buffers. */
export interface BufferSpec {
  readonly id: number;
  /** Size in bytes (a multiple of 4, at least 4). */
  readonly bytes: number;
  /** What lives in it, for debugging: `dense_1/kernel`, `tmp` … */
  readonly label: string;
}

/** A tensor the host reads or writes: a model input, a target, an output, a parameter. */
export interface TensorSlot {
  readonly name: string;
  /** Bound shape; for per-batch tensors the first dim is the entry's batch size. */
  readonly shape: readonly number[];
  readonly buffer: number;
}

export interface EntryInput extends TensorSlot {
  readonly role: 'input' | 'target' | 'mask';
}

/**
 * A slot of state: zero-initialised, or, with `init: 'seed'`, a scalar holding the model's seed
 * modulo 2^24 (random draws mix it in, so that seeds draw different dropout masks and noise).
 */
export interface StateSlot extends TensorSlot {
  readonly init?: 'seed';
  /**
   * Adam's bias correction 1 − βᵗ: checkpoints written before it became state lack it, and a
   * restore derives it from the step count in the state slot `steps`.
   */
  readonly derive?: { readonly steps: string; readonly beta: number };
}

export interface ParamSpec extends TensorSlot {
  readonly init: InitializerSpec;
}

/** The access mode of one storage binding. */
export type BindingAccess = 'read' | 'read_write';

/**
 * Which adapters a kernel's tiling is written for: `cpu`, register blocks with no barriers
 * (lavapipe, SwiftShader: a workgroup runs as a loop on one core); `gpu`, tiles staged through
 * workgroup memory with vec4 loads.
 */
export type Tiles = 'cpu' | 'gpu';

/**
 * Another tiling of a kernel, computing the same values with the same bindings; the runtime
 * picks one per adapter at create.
 */
export interface KernelVariant {
  readonly tiles: Tiles;
  readonly wgsl: string;
  /** The grid of every dispatch of the kernel when this variant runs (its shapes are fixed in its WGSL). */
  readonly workgroups: readonly [number, number, number];
  /** Invocations per workgroup, and bytes of workgroup memory, it needs of the adapter. */
  readonly invocations: number;
  readonly workgroupBytes: number;
}

/** A kernel: one compute shader with entry point `main` and storage bindings 0..n-1 in group 0. */
export interface KernelSpec {
  readonly name: string;
  /** The shader, in `cpu` tiles where the kernel has tilings (the default). */
  readonly wgsl: string;
  /** Number of storage bindings. */
  readonly bindings: number;
  /** Each binding's access mode, in binding order, as the shader declares it. */
  readonly access: readonly BindingAccess[];
  /** Other tilings (a matmul's `gpu` tiles); absent when the kernel has one. */
  readonly variants?: readonly KernelVariant[];
}

export interface DispatchSpec {
  readonly kernel: number;
  /** Buffer ids, in binding order. */
  readonly buffers: readonly number[];
  readonly workgroups: readonly [number, number, number];
  /** The .nnx layers it computes, `mnist_mlp.nnx:4 dense_1, …`, for errors and plans. */
  readonly origin?: string;
}

/**
 * An entry point: upload `inputs`, run `dispatches` in one command buffer with one submit, and
 * (for predict) read `outputs`. Training updates parameters and state in place.
 */
export interface EntrySpec {
  readonly batch: number;
  /**
   * Per-batch uploads: model inputs (by input name), targets (by output name), and `mask`, which
   * is 1 for real samples and 0 for the padding of a last, partial batch.
   */
  readonly inputs: readonly EntryInput[];
  readonly outputs: readonly TensorSlot[];
  readonly dispatches: readonly DispatchSpec[];
}

/** Running sums the training and evaluation steps add to on the GPU, read once per epoch. */
export interface AccumulatorSpec {
  /** `loss`, `accuracy`, … : the value reported is `sum / count`. */
  readonly name: string;
  readonly buffer: number;
}

/** The most threads a wasm module runs on: each has its own scratch (a matmul's tile). */
export const WASM_MAX_THREADS = 16;

/**
 * Byte offset of the header word that, when not 0, keeps thread 0 spinning at the module's
 * barrier instead of sleeping (memory.atomic.wait32): a page's main thread runs thread 0 and may
 * not block. The other threads still sleep, so that spinning takes one core at most.
 */
export const WASM_SPIN_ONLY_OFFSET = 20;

/**
 * Byte offset of the header word holding how many times a thread polls the module's barrier
 * before it sleeps (0: the module's own default). The host sets it when it starts the threads:
 * long where every thread has a core (a sleep and wake-up costs more than most kernels' wait),
 * short where threads outnumber cores (a spinning thread would take the core of the one it waits for).
 */
export const WASM_SPIN_LIMIT_OFFSET = 24;

/**
 * The model as one WebAssembly module: every buffer of the plan at a fixed byte address of its
 * linear memory, each entry an exported function `(thread, threads)`.
 */
export interface WasmModuleSpec {
  /** The module's bytes, base64. */
  readonly module: string;
  /** Bytes of the memory it imports (`env.memory`, a multiple of 64 KiB, fixed size). */
  readonly memoryBytes: number;
  /** Byte address of each buffer, by buffer id. */
  readonly offsets: readonly number[];
  /** Byte offset of the memory import's limits flag: 0x01, or 0x03 to import a shared memory. */
  readonly memoryFlagOffset: number;
  /** Byte offsets of the f32x4 multiply-adds the runtime may rewrite as relaxed FMA (src/runtime/wasm/relaxed.ts). */
  readonly maddSites?: readonly number[];
}

/** Why a spec has no wasm module: an op the wasm target cannot run yet, or buffers past its 4 GiB memory. */
export interface WasmUnavailable {
  readonly unsupported: string;
}

export interface ModelSpec {
  /** Format version of this spec, checked at create time. */
  readonly version: 1;
  /** What kind of module it is; absent in specs compiled before GANs said theirs. */
  readonly kind?: 'model';
  readonly name: string;
  readonly buffers: readonly BufferSpec[];
  readonly params: readonly ParamSpec[];
  /** Optimizer slots, counters, the seed: saved in checkpoints. */
  readonly state: readonly StateSlot[];
  /** Accumulators of the training step (`loss`, metrics) and the buffer counting samples. */
  readonly accumulators: readonly AccumulatorSpec[];
  readonly sampleCount: number;
  readonly kernels: readonly KernelSpec[];
  readonly entries: {
    readonly train: EntrySpec;
    readonly evaluate: EntrySpec;
    readonly predict: EntrySpec;
  };
  /** The wasm backend's module, when compiled for it (`compile(…, { wasm: true })`). */
  readonly wasm?: WasmModuleSpec | WasmUnavailable;
  /** Defaults from the .nnx train block, which `fit` options override. */
  readonly training: {
    readonly batch: number;
    readonly epochs: number;
    readonly data?: string;
    readonly loss: string;
    /** The form the targets take: one value per output unit, or a class index. */
    readonly targets: 'dense' | 'sparse';
  };
}

/** The buffers an entry adds its summed loss and its sample count into, read once per epoch. */
export interface LossAccumulatorSpec {
  readonly loss: number;
  readonly count: number;
}

/**
 * A GAN compiled into one module: two models whose parameters (`generator/…`,
 * `discriminator/…`) and optimizer state share one buffer plan, with three entry points. The
 * discriminator step `d_step` uploads a batch of real samples (values in [0, 1]); the generator
 * step `g_step` uploads nothing (its noise is drawn on the GPU); `generate` uploads noise and
 * reads samples.
 */
export interface GanSpec {
  readonly version: 1;
  readonly kind: 'gan';
  readonly name: string;
  /** The names of the two models in the .nnx file. */
  readonly generator: string;
  readonly discriminator: string;
  readonly buffers: readonly BufferSpec[];
  readonly params: readonly ParamSpec[];
  /** Optimizer slots and the noise counter: zero-initialised. */
  readonly state: readonly StateSlot[];
  readonly kernels: readonly KernelSpec[];
  /** Each training step's summed loss and sample count, keyed by its entry. */
  readonly accumulators: {
    readonly d_step: LossAccumulatorSpec;
    readonly g_step: LossAccumulatorSpec;
  };
  readonly entries: {
    readonly d_step: EntrySpec;
    readonly g_step: EntrySpec;
    readonly generate: EntrySpec;
  };
  /** The wasm backend's module, when compiled for it (`compileGan(…, { wasm: true })`). */
  readonly wasm?: WasmModuleSpec | WasmUnavailable;
  /** Defaults from the .nnx gan block. */
  readonly training: {
    readonly batch: number;
    readonly epochs: number;
    readonly data?: string;
    /** How the GPU draws the generator's noise in training: N(0, 1), or uniform in [−1, 1). */
    readonly noise: 'normal' | 'uniform';
    /** The range real samples are mapped to, and generated ones are read back in. */
    readonly dataRange: readonly [number, number];
  };
}

/** Every kind of compiled module the runtime executes. */
export type ModuleSpec = ModelSpec | GanSpec;

export function isGanSpec(spec: ModuleSpec): spec is GanSpec {
  return spec.kind === 'gan';
}
