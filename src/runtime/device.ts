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
  // Timestamp queries let `tiles: 'measure'` time kernels; nothing else depends on them.
  const requiredFeatures: GPUFeatureName[] = adapter.features.has('timestamp-query')
    ? ['timestamp-query']
    : [];
  const device = await adapter.requestDevice({ requiredLimits: adapterLimits(adapter), requiredFeatures });
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

/**
 * The limits a device is asked for: the adapter's own, not the defaults (8 storage buffers per
 * stage, 128 MiB bindings, 16 KiB of workgroup memory, 256 invocations per workgroup), which are
 * lower than most adapters offer; fused kernels, large layers and tiled kernels need the real ones.
 */
export const REQUESTED_LIMITS = [
  'maxStorageBuffersPerShaderStage',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
] as const;

function adapterLimits(adapter: GPUAdapter): Record<string, number> {
  return Object.fromEntries(REQUESTED_LIMITS.map((name) => [name, adapter.limits[name]]));
}

async function findGpu(): Promise<GPU> {
  const browserGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (browserGpu !== undefined) return browserGpu;
  if (nodeGpu !== undefined) return nodeGpu;
  nodeGpu = (await loadDawn()).create([]);
  return nodeGpu;
}

/** Dawn's `webgpu` package, its globals installed; an error saying how to get it when absent. */
async function loadDawn(): Promise<typeof import('webgpu')> {
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
  return dawn;
}

/** The graphics APIs Dawn can be restricted to (`backend=` toggles), tried in this order. */
const DAWN_BACKENDS = ['vulkan', 'metal', 'd3d12', 'd3d11', 'opengl', 'opengles'] as const;

/**
 * The WebGPU entry points to ask for adapters, each with the backend it is limited to: in Node
 * one Dawn instance per backend, so that each adapter's backend is known; in a browser
 * `navigator.gpu`, whose backend is not reported.
 */
async function gpusByBackend(): Promise<{ backend: string | undefined; gpu: GPU }[]> {
  const browserGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (browserGpu !== undefined) return [{ backend: undefined, gpu: browserGpu }];
  const dawn = await loadDawn();
  return DAWN_BACKENDS.map((backend) => ({ backend, gpu: dawn.create([`backend=${backend}`]) }));
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
  /** The `--device` requests that pick this adapter for a model; empty when none does. */
  readonly requests: readonly AdapterRequest[];
  readonly description: string;
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  /**
   * The graphics API underneath: in Node the Dawn backend it was found through (`vulkan`,
   * `metal`, `d3d12`, …); in a browser undefined, as `GPUAdapterInfo` does not say.
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
 * backend and {@link ADAPTER_REQUESTS} entry and merges the answers that describe the same one.
 */
export async function listAdapters(): Promise<AdapterSummary[]> {
  const found = new Map<string, AdapterSummary>();
  for (const { backend, gpu } of await gpusByBackend()) {
    for (const request of ADAPTER_REQUESTS) {
      const adapter = await gpu.requestAdapter(adapterOptions(request)).catch(() => null);
      if (adapter === null) continue;
      const summary = summarizeAdapter(adapter, [], backend);
      found.set(JSON.stringify(summary), summary);
    }
  }
  if (found.size === 0) throw new Error(NO_ADAPTER_MESSAGE);
  return markRequests([...found.values()], await findGpu());
}

/** The adapters, each with the requests that pick it from `gpu`, the instance models use. */
async function markRequests(adapters: AdapterSummary[], gpu: GPU): Promise<AdapterSummary[]> {
  const identity = (a: AdapterSummary) =>
    JSON.stringify([a.description, a.vendor, a.architecture, a.device, a.isFallbackAdapter, a.features]);
  const requests = new Map<string, AdapterRequest[]>();
  for (const request of ADAPTER_REQUESTS) {
    const adapter = await gpu.requestAdapter(adapterOptions(request)).catch(() => null);
    if (adapter === null) continue;
    const key = identity(summarizeAdapter(adapter, [], undefined));
    requests.set(key, [...(requests.get(key) ?? []), request]);
  }
  // Where several backends expose one adapter, the requests go to the first listed.
  return adapters.map((a) => {
    const own = requests.get(identity(a)) ?? [];
    requests.delete(identity(a));
    return { ...a, requests: own };
  });
}

/** The `requestAdapter` options of an {@link AdapterRequest}. */
export function adapterOptions(request: AdapterRequest): GPURequestAdapterOptions | undefined {
  if (request === 'default') return undefined;
  if (request === 'fallback') return { forceFallbackAdapter: true };
  return { powerPreference: request };
}

/** What `adapter` says about itself, as an {@link AdapterSummary}. */
export function summarizeAdapter(
  adapter: GPUAdapter,
  requests: readonly AdapterRequest[],
  backend: string | undefined,
): AdapterSummary {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean; backendType?: string };
  const legacy = adapter as GPUAdapter & { isFallbackAdapter?: boolean };
  const limits = Object.fromEntries(KEY_LIMITS.map((name) => [name, adapter.limits[name]]));
  return {
    requests,
    description: info.description,
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    backend: backend ?? info.backendType,
    isFallbackAdapter: Boolean(info.isFallbackAdapter ?? legacy.isFallbackAdapter),
    limits: limits as AdapterSummary['limits'],
    features: [...adapter.features].sort(),
  };
}

/** The name of the adapter behind `device`, for messages: its description, else vendor and device. */
export function adapterName(device: GPUDevice): string {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  if (info === undefined) return 'unknown adapter';
  return (
    info.description ||
    [info.vendor, info.architecture, info.device].filter(Boolean).join(' ') ||
    'unnamed adapter'
  );
}
