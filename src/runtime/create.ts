/**
 * How a compiled spec, a model's or a GAN's, gets onto a backend: the backend chosen
 * (`options.backend`), every buffer created with the parameters initialised from the seed, and
 * every entry bound. `NnxModel.create` and `NnxGan.create` both come through here.
 */
import { type Backend, WebGpuBackend } from './backend.js';
import { type BackendChoice, chooseBackend, createOnWasm, showNoticeOnce } from './choose-backend.js';
import { adapterName, BufferUsage, describe, requestDevice, throwIfDeviceFailed } from './device.js';
import { initialParameterValues, initialStateValues } from './init.js';
import { bindEntry, compileKernels, type CompiledEntry, type PlannedBuffer } from './pipelines.js';
import { checkSpecLimits, kernelOrigin, storageBytes } from './spec-check.js';
import type { EntrySpec, GanSpec, ModelSpec } from './spec.js';

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

/** What a compiled spec needs on a device: its buffers (parameters initialised) and bound entries. */
export interface OnDevice<E extends string> {
  readonly device: GPUDevice;
  readonly buffers: ReadonlyMap<number, PlannedBuffer>;
  readonly entries: Readonly<Record<E, CompiledEntry>>;
}

/**
 * A spec's buffers and entries on the backend `options.backend` chooses, every parameter and
 * seeded state slot initialised from `seed`: how NnxModel and NnxGan alike are created.
 */
export async function createBackend<S extends ModelSpec | GanSpec, E extends keyof S['entries'] & string>(
  caller: string,
  spec: S,
  checkBuffers: (spec: S) => ReadonlyMap<number, PlannedBuffer['spec']>,
  entryNames: readonly E[],
  seed: number,
  options: CreateModelOptions,
): Promise<Backend<E>> {
  const { kind, fallback } = await chooseBackend(caller, spec, options);
  if (fallback !== undefined)
    (options.onNotice ?? showNoticeOnce)(`nnx: model '${spec.name}' runs on WebGPU: ${fallback}`);
  if (kind === 'wasm') return createOnWasm(caller, spec, checkBuffers, entryNames, seed, options);
  const made = await createOnDevice(caller, spec, checkBuffers, entryNames, seed, options);
  return new WebGpuBackend(made.device, made.buffers, made.entries, adapterName(made.device));
}

/**
 * What `NnxModel.create` and `NnxGan.create` share: checks the spec and the device's limits,
 * compiles every kernel, creates every buffer with the parameters initialised from `seed` and
 * the seed's state slot set (new WebGPU buffers are zero-filled, so other state and the
 * accumulators need no upload), and binds the dispatches of each entry. Errors start with
 * `caller` and name the kernel, buffer or slot at fault; on an error every buffer made is
 * destroyed.
 */
export async function createOnDevice<S extends ModelSpec | GanSpec, E extends keyof S['entries'] & string>(
  caller: string,
  spec: S,
  checkBuffers: (spec: S) => ReadonlyMap<number, PlannedBuffer['spec']>,
  entryNames: readonly E[],
  seed: number,
  options: CreateModelOptions,
): Promise<OnDevice<E>> {
  if (!Number.isSafeInteger(seed)) throw new Error(`${caller}: seed must be an integer, got ${seed}`);
  const bufferSpecs = checkBuffers(spec);
  const device = await requestDevice(options);
  throwIfDeviceFailed(device);
  try {
    checkSpecLimits(spec, device.limits);
  } catch (error) {
    throw new Error(
      `${caller}: model '${spec.name}' does not fit the adapter '${adapterName(device)}': ${describe(error)}`,
      { cause: error },
    );
  }
  const kernels = await compileKernels(device, spec.kernels, (index) => kernelOrigin(spec, index));
  const buffers = await createBuffers(device, [...bufferSpecs.values()], caller);
  try {
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
    return { device, buffers, entries };
  } catch (error) {
    for (const buffer of buffers.values()) buffer.gpu.destroy();
    throw error;
  }
}
