/**
 * How a compiled spec, a model's or a GAN's, gets onto a backend: the backend chosen
 * (`options.backend`), every buffer created with the parameters initialised from the seed, and
 * every entry bound. `NnxModel.create` and `NnxGan.create` both come through here.
 */
import { type Backend, WebGpuBackend } from './backend.js';
import { type BackendChoice, chooseBackend, showNoticeOnce, wasmModuleOf } from './choose-backend.js';
import { adapterName, BufferUsage, describe, requestDevice, throwIfDeviceFailed } from './device.js';
import { initialParameterValues, initialStateValues } from './init.js';
import { measureTiles } from './measure-tiles.js';
import { bindEntry, compileKernels, type CompiledEntry, type PlannedBuffer } from './pipelines.js';
import { type BufferTable, checkSpecLimits, kernelOrigin, storageBytes } from './spec-check.js';
import {
  type EntrySpec,
  type GanSpec,
  isGanSpec,
  type ModelSpec,
  type Tiles,
  WASM_MAX_THREADS,
} from './spec.js';
import { autoTiles, requestedTiles, type TilesChoice, withTiles } from './tiles.js';
import { WasmBackend } from './wasm/backend.js';

/** Options of {@link NnxModel.create}. */
export interface CreateModelOptions {
  /** Seed of the initial weights (and the default shuffle seed); 0 when omitted. */
  readonly seed?: number;
  /**
   * Run on this device, one the application already holds, instead of the process's shared one;
   * the model never destroys it. Its limits must fit the model (checked here).
   */
  readonly device?: GPUDevice;
  /** Without `device`: which adapter to ask for (`requestAdapter({ powerPreference })`). */
  readonly powerPreference?: GPUPowerPreference;
  /** Without `device`: ask for the fallback (software) adapter. */
  readonly forceFallbackAdapter?: boolean;
  /**
   * Where to run: `auto` (the default): WebGPU on a hardware adapter (or on `device`), wasm on a
   * CPU one or none; a WebGPU device; or the CPU through WebAssembly (the spec must carry a wasm
   * module: compile with `{ wasm: true }`).
   */
  readonly backend?: BackendChoice;
  /**
   * Where `auto` says, in one line, why a model it would have run on wasm runs on WebGPU (a spec
   * without a wasm module, an op the wasm target lacks); `console.warn` once per reason by default.
   */
  readonly onNotice?: (line: string) => void;
  /** On wasm: the threads each step runs on (1 when omitted; 1 without shared memory, said once). */
  readonly threads?: number;
  /**
   * On WebGPU: which tiling the kernels that have several (matmuls) run in. `auto` (the
   * default): register blocks without barriers on a CPU-like adapter (lavapipe, SwiftShader, a
   * fallback adapter), workgroup-memory GPU tiles on a hardware one; `cpu` or `gpu` force one
   * (a `gpu` variant the device's limits cannot run keeps the default); `measure` times both
   * tilings of each such kernel once per adapter and shape with timestamp queries and runs the
   * faster (the default where the device cannot time). When omitted, the environment variable
   * NNX_TILES may say it (Node).
   */
  readonly tiles?: TilesChoice;
}

/** What creating a model or GAN asks for, whichever backend it lands on. */
export interface CreateRequest<S extends ModelSpec | GanSpec, E extends keyof S['entries'] & string> {
  /** Starts every error message (`NnxModel.create`, `NnxGan.create`). */
  readonly caller: string;
  readonly spec: S;
  /** Checks the spec's buffers and returns them by id. */
  readonly checkBuffers: (spec: S) => BufferTable;
  /** The entries bound (WebGPU) or run by the worker threads (wasm). */
  readonly entryNames: readonly E[];
  /** Seed of the initial parameters and of the seeded state slot. */
  readonly seed: number;
  readonly options: CreateModelOptions;
}

/** Creates every buffer of the plan, reporting an allocation failure with the total size asked for. */
export async function createBuffers(
  device: GPUDevice,
  specs: readonly PlannedBuffer['spec'][],
  caller = 'NnxModel.create',
): Promise<Map<number, PlannedBuffer>> {
  device.pushErrorScope('out-of-memory');
  const buffers = new Map<number, PlannedBuffer>();
  for (const spec of specs) {
    const gpu = device.createBuffer({
      label: `nnx buffer ${spec.id} '${spec.label}'`,
      size: storageBytes(spec),
      usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
    });
    buffers.set(spec.id, { spec, gpu });
  }
  const error = await device.popErrorScope();
  if (error !== null) {
    for (const buffer of buffers.values()) buffer.gpu.destroy();
    const total = specs.reduce((sum, spec) => sum + storageBytes(spec), 0);
    throw new Error(
      `${caller}: out of GPU memory creating ${specs.length} buffers (${total} bytes): ${error.message}`,
    );
  }
  return buffers;
}

/** Zero-fills every buffer (queued), as new ones are. */
function zeroBuffers(device: GPUDevice, buffers: ReadonlyMap<number, PlannedBuffer>): void {
  const encoder = device.createCommandEncoder({ label: 'nnx zero buffers' });
  for (const { gpu } of buffers.values()) encoder.clearBuffer(gpu);
  device.queue.submit([encoder.finish()]);
}

/** What a compiled spec needs on a device: its buffers (parameters initialised) and bound entries. */
export interface OnDevice<E extends string> {
  readonly device: GPUDevice;
  /** The tiling the kernels with variants run in; `measured`: each its faster. */
  readonly tiles: Tiles | 'measured';
  readonly buffers: ReadonlyMap<number, PlannedBuffer>;
  readonly entries: Readonly<Record<E, CompiledEntry>>;
}

/**
 * A spec's buffers and entries on the backend `options.backend` chooses, every parameter and
 * seeded state slot initialised from `seed`: how NnxModel and NnxGan alike are created.
 */
export async function createBackend<S extends ModelSpec | GanSpec, E extends keyof S['entries'] & string>(
  request: CreateRequest<S, E>,
): Promise<Backend<E>> {
  const { caller, spec, seed, options } = request;
  if (!Number.isSafeInteger(seed)) throw new Error(`${caller}: seed must be an integer, got ${seed}`);
  const { kind, fallback } = await chooseBackend(caller, spec, options);
  if (fallback !== undefined)
    (options.onNotice ?? showNoticeOnce)(`nnx: model '${spec.name}' runs on WebGPU: ${fallback}`);
  if (kind === 'wasm') return createOnWasm(request);
  const made = await createOnDevice(request);
  return new WebGpuBackend(made.device, made.buffers, made.entries, adapterName(made.device), made.tiles);
}

/**
 * What `NnxModel.create` and `NnxGan.create` share on WebGPU: checks the spec and the device's
 * limits, picks each kernel's tiling, compiles every kernel, creates every buffer with the
 * parameters initialised from `seed` and the seed's state slot set (new WebGPU buffers are
 * zero-filled, so other state and the accumulators need no upload), and binds the dispatches of
 * each entry. Errors start with `caller` and name the kernel, buffer or slot at fault; on an
 * error every buffer made is destroyed.
 */
async function createOnDevice<S extends ModelSpec | GanSpec, E extends keyof S['entries'] & string>(
  request: CreateRequest<S, E>,
): Promise<OnDevice<E>> {
  const { caller, checkBuffers, entryNames, seed, options } = request;
  let spec = request.spec;
  const bufferSpecs = checkBuffers(spec);
  const requested = requestedTiles(options.tiles, caller);
  const device = await requestDevice(options);
  throwIfDeviceFailed(device);
  const tiles = requested === 'auto' ? autoTiles(device) : requested;
  // From here on `spec` is the one that runs: its kernels in the chosen tiles, with their grids.
  if (tiles !== 'measure') spec = withTiles(spec, tiles, device.limits);
  try {
    checkSpecLimits(spec, device.limits);
  } catch (error) {
    throw new Error(
      `${caller}: model '${spec.name}' does not fit the adapter '${adapterName(device)}': ${describe(error)}`,
      { cause: error },
    );
  }
  const compile = () => compileKernels(device, spec.kernels, (index) => kernelOrigin(spec, index));
  // Measuring runs kernels on the new buffers: the ones that run are compiled after it.
  let kernels = tiles === 'measure' ? [] : await compile();
  const buffers = await createBuffers(device, [...bufferSpecs.values()], caller);
  try {
    if (tiles === 'measure') {
      spec = await measureTiles(device, spec, buffers);
      zeroBuffers(device, buffers);
      kernels = await compile();
    }
    for (const param of spec.params)
      device.queue.writeBuffer(buffers.get(param.buffer)!.gpu, 0, initialParameterValues(param, seed));
    for (const slot of spec.state.filter((s) => s.init !== undefined))
      device.queue.writeBuffer(buffers.get(slot.buffer)!.gpu, 0, initialStateValues(slot, seed));
    device.pushErrorScope('validation');
    const entrySpecs = spec.entries as Readonly<Record<E, EntrySpec>>;
    const entries = Object.fromEntries(
      entryNames.map((name) => [name, bindEntry(device, name, entrySpecs[name], kernels, buffers)]),
    ) as Record<E, CompiledEntry>;
    const bindError = await device.popErrorScope();
    if (bindError !== null) throw new Error(`${caller}: binding the dispatches failed: ${bindError.message}`);
    throwIfDeviceFailed(device);
    return { device, tiles: tiles === 'measure' ? 'measured' : tiles, buffers, entries };
  } catch (error) {
    for (const buffer of buffers.values()) buffer.gpu.destroy();
    throw error;
  }
}

/**
 * The spec's buffers in a fresh wasm memory, parameters initialised from `seed`; the entries are
 * the ones the worker threads run. More than one thread where memory cannot be shared runs one,
 * said through `onNotice` (once per process by default).
 */
async function createOnWasm<S extends ModelSpec | GanSpec, E extends keyof S['entries'] & string>(
  request: CreateRequest<S, E>,
): Promise<Backend<E>> {
  const { caller, spec, checkBuffers, entryNames, seed, options } = request;
  const threads = options.threads ?? 1;
  if (!(Number.isSafeInteger(threads) && threads >= 1 && threads <= WASM_MAX_THREADS))
    throw new Error(`${caller}: threads must be an integer from 1 to ${WASM_MAX_THREADS}, got ${threads}`);
  const buffers = checkBuffers(spec);
  const wasm = wasmModuleOf(spec);
  if (typeof wasm === 'string') throw new Error(`${caller}: the wasm backend cannot run this model: ${wasm}`);
  let backend: WasmBackend<E>;
  try {
    backend = await WasmBackend.create(
      wasm,
      buffers,
      threads,
      entryNames,
      options.onNotice ?? showNoticeOnce,
    );
  } catch (error) {
    throw new Error(
      `${caller}: could not create the wasm memory of ${wasm.memoryBytes} bytes for ${isGanSpec(spec) ? 'GAN' : 'model'} '${spec.name}': ${describe(error)}`,
      { cause: error },
    );
  }
  for (const param of spec.params) backend.write(param.buffer, initialParameterValues(param, seed));
  for (const slot of spec.state.filter((s) => s.init !== undefined))
    backend.write(slot.buffer, initialStateValues(slot, seed));
  return backend;
}
