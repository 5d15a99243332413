/**
 * Adapter profiles: what the plan assumes about the machine it is compiled for. The kernel plan
 * stays target-independent, but how finely a long reduction is split, and which kernels
 * `--emit plan` marks as leaving the machine idle, depend on how many workgroups the adapter
 * runs at once.
 */

export interface AdapterProfile {
  readonly name: AdapterName;
  /** Workgroups (of 64 invocations) the adapter runs at once; fewer leave part of it idle. */
  readonly concurrentWorkgroups: number;
  /** CPU-like adapters run a workgroup as a loop on one core: barriers are expensive there. */
  readonly kind: 'cpu' | 'gpu';
  /**
   * Storage buffers one shader stage may bind on this adapter once the device asks for its
   * largest limits (src/runtime/device.ts); kernels that merge many small ones (a whole step, the
   * optimizer's scalars folded into another kernel) may use up to this many, the rest keep to 8.
   */
  readonly maxStorageBuffers: number;
  /** Bytes of workgroup memory a kernel may declare: WebGPU's default limit, which the device keeps. */
  readonly workgroupStorageBytes: number;
}

export const ADAPTER_PROFILES = {
  // Mesa's CPU Vulkan: one workgroup per worker thread, one thread per core (16 on the
  // project's device machines; a smaller machine only runs fewer at once).
  lavapipe: {
    name: 'lavapipe',
    concurrentWorkgroups: 16,
    kind: 'cpu',
    maxStorageBuffers: 16,
    workgroupStorageBytes: 16384,
  },
  // 132 SMs, each holding 16 resident workgroups of 64 to 128 invocations.
  // Storage buffers: the 8 every WebGPU adapter guarantees (what browsers expose varies).
  h100: {
    name: 'h100',
    concurrentWorkgroups: 132 * 16,
    kind: 'gpu',
    maxStorageBuffers: 8,
    workgroupStorageBytes: 16384,
  },
} as const satisfies Record<string, Omit<AdapterProfile, 'name'> & { name: string }>;

export type AdapterName = keyof typeof ADAPTER_PROFILES;

export const ADAPTER_NAMES = Object.keys(ADAPTER_PROFILES) as AdapterName[];

/** The profile a plan is made for when none is named: the CPU adapter the project tests on. */
export const DEFAULT_ADAPTER: AdapterProfile = ADAPTER_PROFILES.lavapipe;

/** A kernel reading more than this should keep the whole adapter busy. */
export const LARGE_READ_BYTES = 1 << 20;
