/**
 * Getting a WebGPU device in a browser (`navigator.gpu`) or in Node (Dawn's `webgpu` package,
 * loaded lazily so that browser bundles never touch it), and turning the device's asynchronous
 * failures (uncaptured errors, device loss) into errors the runtime throws at its next call.
 */

/** GPUBufferUsage bits, spelled out because the `GPUBufferUsage` global may be absent in Node. */
export const BufferUsage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  STORAGE: 0x0080,
} as const;

/** GPUShaderStage.COMPUTE and GPUMapMode.READ, for the same reason. */
export const SHADER_STAGE_COMPUTE = 0x4;
export const MAP_MODE_READ = 0x1;

/** Options of {@link requestDevice}. */
export interface RequestDeviceOptions {
  /** Use this device instead of opening one; the runtime then never destroys it. */
  readonly device?: GPUDevice;
  /** Passed to `requestAdapter`; Dawn honours it where the machine has more than one adapter. */
  readonly powerPreference?: GPUPowerPreference;
  /** Ask for the fallback (software) adapter instead; wins over `powerPreference`. */
  readonly forceFallbackAdapter?: boolean;
}

/** The message thrown when the platform offers WebGPU but no adapter. */
export const NO_ADAPTER_MESSAGE = [
  'No WebGPU adapter was found, and nnx needs one to run models.',
  "On Linux without a GPU, install Mesa's lavapipe CPU driver: mesa-vulkan-drivers >= 23 " +
    '(e.g. from Debian 12 bookworm-backports) and the Vulkan loader libvulkan1; ' +
    "the project's `sh scripts/setup-webgpu.sh`, run as root, does this.",
  'Otherwise install a GPU driver with Vulkan, Metal or D3D12 support.',
].join('\n');

// One device per adapter request (power preference or fallback) per process: opening Dawn devices is slow, and models can share.
const sharedDevices = new Map<string, Promise<GPUDevice>>();
let nodeGpu: GPU | undefined;

/**
 * Returns a WebGPU device: `options.device` when given, otherwise a device shared by every caller
 * in this process that asks with the same power preference. Its uncaptured errors and loss are
 * recorded; see {@link throwIfDeviceFailed}.
 */
export async function requestDevice(options: RequestDeviceOptions = {}): Promise<GPUDevice> {
  if (options.device !== undefined) {
    watchDeviceFailures(options.device);
    return options.device;
  }
  const key: AdapterRequest = options.forceFallbackAdapter
    ? 'fallback'
    : (options.powerPreference ?? 'default');
  let pending = sharedDevices.get(key);
  if (pending === undefined) {
    pending = openDevice(adapterOptions(key));
    sharedDevices.set(key, pending);
    // A failed attempt is not cached, so a later call (after installing a driver) can succeed.
    pending.catch(() => sharedDevices.delete(key));
  }
  return pending;
}

/**
 * Destroys the devices {@link requestDevice} shared in this process. Models created on them stop
 * working. Dawn can keep a Node process alive, so CLI code should also end with `process.exit`.
 */
export async function releaseSharedDevices(): Promise<void> {
  const pending = [...sharedDevices.values()];
  sharedDevices.clear();
  for (const device of await Promise.allSettled(pending)) {
    if (device.status === 'fulfilled') device.value.destroy();
  }
}

async function openDevice(request: GPURequestAdapterOptions | undefined): Promise<GPUDevice> {
  const gpu = await findGpu();
  const adapter = await requestAdapterOrThrow(gpu, request);
  const device = await adapter.requestDevice({ requiredLimits: largestStorageLimits(adapter) });
  watchDeviceFailures(device);
  device.lost.then(() => {
    for (const [key, pending] of sharedDevices) {
      pending.then(
        (shared) => shared === device && sharedDevices.delete(key),
        () => undefined,
      );
    }
  });
  return device;
}

/** Asks `gpu` for an adapter and throws {@link NO_ADAPTER_MESSAGE} when there is none. */
export async function requestAdapterOrThrow(
  gpu: GPU,
  request?: GPURequestAdapterOptions,
): Promise<GPUAdapter> {
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter(request);
  } catch (cause) {
    throw new Error(`${NO_ADAPTER_MESSAGE}\n(requestAdapter failed: ${describe(cause)})`, { cause });
  }
  if (adapter === null) throw new Error(NO_ADAPTER_MESSAGE);
  return adapter;
}

// The defaults (8 storage buffers per stage, 128 MiB bindings) are lower than most adapters offer;
// fused kernels and large layers need the adapter's real limits.
function largestStorageLimits(adapter: GPUAdapter): Record<string, number> {
  const { limits } = adapter;
  return {
    maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
    maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
    maxBufferSize: limits.maxBufferSize,
  };
}

async function findGpu(): Promise<GPU> {
  const browserGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (browserGpu !== undefined) return browserGpu;
  if (nodeGpu !== undefined) return nodeGpu;
  // A non-literal specifier keeps bundlers from following this Node-only import into browser builds.
  const dawnPackage = 'webgpu';
  let dawn: typeof import('webgpu');
  try {
    dawn = (await import(/* @vite-ignore */ dawnPackage)) as typeof import('webgpu');
  } catch (cause) {
    throw new Error(
      "WebGPU is not available: there is no navigator.gpu, and Dawn's `webgpu` package " +
        `could not be loaded (${describe(cause)}). In Node, install it with \`npm install webgpu\`.`,
      { cause },
    );
  }
  Object.assign(globalThis, dawn.globals);
  nodeGpu = dawn.create([]);
  return nodeGpu;
}

const deviceFailures = new WeakMap<GPUDevice, Error>();
const watchedDevices = new WeakSet<GPUDevice>();

/**
 * Records the first uncaptured error and the loss of `device`, so that the runtime can throw them
 * from its next call instead of leaving them in an event nobody listens to. Idempotent.
 */
export function watchDeviceFailures(device: GPUDevice): void {
  if (watchedDevices.has(device)) return;
  watchedDevices.add(device);
  device.addEventListener('uncapturederror', (event) => {
    const { error } = event as GPUUncapturedErrorEvent;
    recordFailure(device, new Error(`WebGPU ${errorKind(error)} error: ${error.message.trim()}`));
  });
  device.lost.then((info) => {
    recordFailure(device, new Error(`WebGPU device was lost (${info.reason}): ${info.message.trim()}`));
  });
}

function recordFailure(device: GPUDevice, failure: Error): void {
  if (!deviceFailures.has(device)) deviceFailures.set(device, failure);
}

/** Throws the first recorded failure of `device` (uncaptured error or loss), if there was one. */
export function throwIfDeviceFailed(device: GPUDevice): void {
  const failure = deviceFailures.get(device);
  if (failure !== undefined) throw failure;
}

function errorKind(error: GPUError): string {
  if (typeof GPUValidationError !== 'undefined' && error instanceof GPUValidationError) {
    return 'validation';
  }
  if (typeof GPUOutOfMemoryError !== 'undefined' && error instanceof GPUOutOfMemoryError) {
    return 'out-of-memory';
  }
  return 'internal';
}

/** A thrown value as one line of text. */
export function describe(value: unknown): string {
  return value instanceof Error ? value.message : String(value);
}

/** The storage and compute limits that decide whether a model fits an adapter. */
export const KEY_LIMITS = [
  'maxStorageBuffersPerShaderStage',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupsPerDimension',
] as const;

/** The features worth knowing about for compute: half precision, timing, subgroup operations. */
export const KEY_FEATURES = ['shader-f16', 'timestamp-query', 'subgroups'] as const;

/** How an adapter was asked for: `requestAdapter` with a power preference, or the fallback. */
export type AdapterRequest = 'default' | GPUPowerPreference | 'fallback';

/** Every {@link AdapterRequest}, in the order `nnxc devices` asks. */
export const ADAPTER_REQUESTS: readonly AdapterRequest[] = [
  'default',
  'high-performance',
  'low-power',
  'fallback',
];

/** One WebGPU adapter as `nnxc devices` shows it. */
export interface AdapterSummary {
  /** The requests that returned this adapter (WebGPU has no enumeration; these are its ways in). */
  readonly requests: readonly AdapterRequest[];
  readonly description: string;
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  /**
   * The graphics API underneath, when the platform says; WebGPU's `GPUAdapterInfo` does not,
   * so in Dawn this is undefined.
   */
  readonly backend: string | undefined;
  /** A software or otherwise reduced adapter (lavapipe, SwiftShader). */
  readonly isFallbackAdapter: boolean;
  readonly limits: Readonly<Record<(typeof KEY_LIMITS)[number], number>>;
  /** Every feature the adapter offers, sorted. */
  readonly features: readonly string[];
}

/**
 * The adapters this platform offers. WebGPU cannot enumerate adapters, so this asks once per
 * {@link ADAPTER_REQUESTS} entry and merges the answers that describe the same adapter.
 */
export async function listAdapters(): Promise<AdapterSummary[]> {
  const gpu = await findGpu();
  const found = new Map<string, AdapterSummary>();
  for (const request of ADAPTER_REQUESTS) {
    const adapter = await gpu.requestAdapter(adapterOptions(request)).catch(() => null);
    if (adapter === null) continue;
    const summary = summarizeAdapter(adapter, request);
    const key = JSON.stringify({ ...summary, requests: [] });
    const seen = found.get(key);
    found.set(key, seen ? { ...seen, requests: [...seen.requests, request] } : summary);
  }
  if (found.size === 0) throw new Error(NO_ADAPTER_MESSAGE);
  return [...found.values()];
}

/** The `requestAdapter` options of an {@link AdapterRequest}. */
export function adapterOptions(request: AdapterRequest): GPURequestAdapterOptions | undefined {
  if (request === 'default') return undefined;
  if (request === 'fallback') return { forceFallbackAdapter: true };
  return { powerPreference: request };
}

/** What `adapter` says about itself, as an {@link AdapterSummary}. */
export function summarizeAdapter(adapter: GPUAdapter, request: AdapterRequest): AdapterSummary {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean; backendType?: string };
  const legacy = adapter as GPUAdapter & { isFallbackAdapter?: boolean };
  const limits = Object.fromEntries(KEY_LIMITS.map((name) => [name, adapter.limits[name]]));
  return {
    requests: [request],
    description: info.description,
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    backend: info.backendType,
    isFallbackAdapter: Boolean(info.isFallbackAdapter ?? legacy.isFallbackAdapter),
    limits: limits as AdapterSummary['limits'],
    features: [...adapter.features].sort(),
  };
}
