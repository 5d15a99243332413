/**
 * Checks a ModelSpec before any GPU object exists: that it is internally consistent (every id
 * points somewhere, every slot fits its buffer) and that it fits the device's limits. A spec that
 * passes can be executed; one that fails gets an error naming the kernel, buffer or slot.
 */

import { elementCount } from './init.js';
import type { BufferSpec, EntrySpec, GanSpec, KernelSpec, ModelSpec, TensorSlot, Tiles } from './spec.js';

/** The ModelSpec format version this runtime executes. */
export const SUPPORTED_SPEC_VERSION = 1;

/** The names of a spec's entry points. */
export type EntryName = keyof ModelSpec['entries'];
export const ENTRY_NAMES: readonly EntryName[] = ['train', 'evaluate', 'predict'];

/** The device limits a spec must fit. */
export type SpecLimits = Pick<
  GPUSupportedLimits,
  | 'maxStorageBufferBindingSize'
  | 'maxBufferSize'
  | 'maxStorageBuffersPerShaderStage'
  | 'maxComputeWorkgroupsPerDimension'
>;

/** Buffer ids to their specs; also the proof that ids are unique. */
export type BufferTable = ReadonlyMap<number, BufferSpec>;

/** Throws unless `spec` is internally consistent; returns its buffers by id. */
export function checkSpec(spec: ModelSpec): BufferTable {
  if (spec.version !== SUPPORTED_SPEC_VERSION) {
    throw new Error(
      `ModelSpec '${spec.name}' has format version ${String(spec.version)}, but this runtime ` +
        `executes version ${SUPPORTED_SPEC_VERSION}; recompile the model with a matching nnxc`,
    );
  }
  const buffers = bufferTable(spec);
  for (const param of spec.params) checkSlot(buffers, param, `parameter '${param.name}'`);
  for (const slot of spec.state) checkSlot(buffers, slot, `state tensor '${slot.name}'`);
  for (const accumulator of spec.accumulators) {
    checkBufferId(buffers, accumulator.buffer, `accumulator '${accumulator.name}'`);
  }
  checkBufferId(buffers, spec.sampleCount, 'the sample counter (sampleCount)');
  for (const name of ENTRY_NAMES) checkEntry(spec.kernels, buffers, name, spec.entries[name]);
  checkVariants(spec.kernels);
  return buffers;
}

/** Throws unless a GAN's spec is internally consistent; returns its buffers by id. */
export function checkGanSpec(spec: GanSpec): BufferTable {
  if (spec.version !== SUPPORTED_SPEC_VERSION || spec.kind !== 'gan') {
    throw new Error(
      `GanSpec '${spec.name}' has format version ${String(spec.version)} (kind ${String(spec.kind)}), but ` +
        `this runtime executes version ${SUPPORTED_SPEC_VERSION} of kind 'gan'; recompile it with a matching nnxc`,
    );
  }
  const buffers = bufferTable(spec);
  for (const param of spec.params) checkSlot(buffers, param, `parameter '${param.name}'`);
  for (const slot of spec.state) checkSlot(buffers, slot, `state tensor '${slot.name}'`);
  for (const [step, { loss, count }] of Object.entries(spec.accumulators)) {
    checkBufferId(buffers, loss, `the ${step} loss accumulator`);
    checkBufferId(buffers, count, `the ${step} sample counter`);
  }
  for (const [name, entry] of Object.entries(spec.entries)) checkEntry(spec.kernels, buffers, name, entry);
  checkVariants(spec.kernels);
  return buffers;
}

function bufferTable(spec: Pick<ModelSpec, 'buffers'>): Map<number, BufferSpec> {
  const buffers = new Map<number, BufferSpec>();
  for (const buffer of spec.buffers) {
    if (buffers.has(buffer.id)) throw new Error(`buffer id ${buffer.id} is used by two buffers`);
    if (!(Number.isSafeInteger(buffer.bytes) && buffer.bytes >= 0)) {
      throw new Error(`buffer ${buffer.id} ('${buffer.label}') has an invalid size of ${buffer.bytes} bytes`);
    }
    buffers.set(buffer.id, buffer);
  }
  return buffers;
}

function checkBufferId(buffers: BufferTable, id: number, owner: string): BufferSpec {
  const buffer = buffers.get(id);
  if (buffer === undefined)
    throw new Error(`${owner} refers to buffer ${id}, which the spec does not define`);
  return buffer;
}

function checkSlot(buffers: BufferTable, slot: TensorSlot, owner: string): void {
  const buffer = checkBufferId(buffers, slot.buffer, owner);
  if (!slot.shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
    throw new Error(`${owner} has an invalid shape [${slot.shape}]`);
  }
  const needed = elementCount(slot.shape) * 4;
  if (needed > buffer.bytes) {
    throw new Error(
      `${owner} of shape [${slot.shape}] needs ${needed} bytes, but its buffer ${buffer.id} ` +
        `('${buffer.label}') has ${buffer.bytes}`,
    );
  }
}

function checkEntry(
  kernels: readonly KernelSpec[],
  buffers: BufferTable,
  name: string,
  entry: EntrySpec,
): void {
  if (!(Number.isSafeInteger(entry.batch) && entry.batch > 0)) {
    throw new Error(`entry '${name}' has an invalid batch size ${entry.batch}`);
  }
  const slots: readonly TensorSlot[] = [...entry.inputs, ...entry.outputs];
  for (const slot of slots) {
    const owner = `entry '${name}' slot '${slot.name}'`;
    checkSlot(buffers, slot, owner);
    if (slot.shape[0] !== entry.batch) {
      throw new Error(
        `${owner} has shape [${slot.shape}], whose first dim should be the batch size ${entry.batch}`,
      );
    }
  }
  if (entry.inputs.filter((input) => input.role === 'mask').length > 1) {
    throw new Error(`entry '${name}' has more than one mask input`);
  }
  entry.dispatches.forEach((dispatch, index) => {
    const owner = `entry '${name}' dispatch ${index}`;
    const kernel = kernels[dispatch.kernel];
    if (kernel === undefined)
      throw new Error(`${owner} runs kernel ${dispatch.kernel}, which the spec does not define`);
    if (dispatch.buffers.length !== kernel.bindings) {
      throw new Error(
        `${owner} binds ${dispatch.buffers.length} buffers to kernel '${kernel.name}', which has ${kernel.bindings} bindings`,
      );
    }
    for (const id of dispatch.buffers) checkBufferId(buffers, id, `${owner} (kernel '${kernel.name}')`);
  });
}

const VARIANT_TILES: readonly string[] = ['cpu', 'gpu'] satisfies Tiles[];

/** Throws unless every kernel variant names a known tiling once and has WGSL, a grid and its needs. */
function checkVariants(kernels: readonly KernelSpec[]): void {
  for (const kernel of kernels) {
    if (kernel.variants === undefined) continue;
    const owner = `kernel '${kernel.name}'`;
    if (!Array.isArray(kernel.variants)) throw new Error(`${owner} has variants that are not a list`);
    const seen = new Set<string>();
    for (const v of kernel.variants) {
      if (!VARIANT_TILES.includes(v.tiles) || seen.has(v.tiles))
        throw new Error(
          `${owner} has a variant of tiles '${String(v.tiles)}' (expected cpu or gpu, each once)`,
        );
      seen.add(v.tiles);
      const grid = Array.isArray(v.workgroups) && v.workgroups.length === 3;
      if (
        typeof v.wgsl !== 'string' ||
        !grid ||
        ![...v.workgroups, v.invocations, v.workgroupBytes].every(isCount)
      )
        throw new Error(
          `${owner}'s ${v.tiles} variant lacks its WGSL, its grid [x, y, z] or its workgroup needs`,
        );
    }
  }
}

/** Throws unless every buffer, kernel and dispatch of `spec` fits within `limits`. */
export function checkSpecLimits(spec: ModelSpec | GanSpec, limits: SpecLimits): void {
  const maxBufferBytes = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  for (const buffer of spec.buffers) {
    if (storageBytes(buffer) > maxBufferBytes) {
      throw new Error(
        `buffer ${buffer.id} ('${buffer.label}') needs ${buffer.bytes} bytes, more than this device ` +
          `can bind as one storage buffer (maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}, ` +
          `maxBufferSize ${limits.maxBufferSize})`,
      );
    }
  }
  spec.kernels.forEach((kernel, index) => {
    if (kernel.bindings > limits.maxStorageBuffersPerShaderStage) {
      throw new Error(
        `kernel '${kernel.name}'${fromLayers(kernelOrigin(spec, index))} uses ${kernel.bindings} storage buffers, ` +
          `more than this device allows per shader stage (maxStorageBuffersPerShaderStage ${limits.maxStorageBuffersPerShaderStage})`,
      );
    }
  });
  for (const [name, entry] of Object.entries(spec.entries) as [string, EntrySpec][]) {
    entry.dispatches.forEach((dispatch, index) => {
      const owner = `entry '${name}' dispatch ${index} (kernel '${spec.kernels[dispatch.kernel]!.name}')${fromLayers(dispatch.origin)}`;
      if (!dispatch.workgroups.every(isCount)) {
        throw new Error(`${owner} has invalid workgroup counts [${dispatch.workgroups}]`);
      }
      if (Math.max(...dispatch.workgroups) > limits.maxComputeWorkgroupsPerDimension) {
        throw new Error(
          `${owner} asks for workgroups [${dispatch.workgroups}], beyond this device's ` +
            `maxComputeWorkgroupsPerDimension ${limits.maxComputeWorkgroupsPerDimension}`,
        );
      }
    });
  }
}

/**
 * Where kernel `index` comes from in the .nnx source: the origins of the dispatches that run it
 * (one kernel's WGSL can serve several layers), or undefined for a spec compiled without them.
 */
export function kernelOrigin(spec: Pick<ModelSpec | GanSpec, 'entries'>, index: number): string | undefined {
  const origins = new Set<string>();
  for (const entry of Object.values(spec.entries) as EntrySpec[])
    for (const d of entry.dispatches) if (d.kernel === index && d.origin) origins.add(d.origin);
  return origins.size > 0 ? [...origins].join('; ') : undefined;
}

/** ` (from mnist_mlp.nnx:3 dense_1)`, or nothing when the origin is unknown. */
export function fromLayers(origin: string | undefined): string {
  return origin === undefined ? '' : ` (from ${origin})`;
}

function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** The size a buffer is created with: at least 4 bytes, rounded up to a multiple of 4. */
export function storageBytes(buffer: BufferSpec): number {
  return Math.max(4, Math.ceil(buffer.bytes / 4) * 4);
}
