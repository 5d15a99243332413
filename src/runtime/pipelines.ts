/**
 * Turning a spec's kernels and dispatches into GPU objects: one compute pipeline per kernel (with
 * WGSL errors reported against the kernel's name and source line), and one bind group per
 * dispatch, created once so that running an entry only encodes and submits.
 */

import { SHADER_STAGE_COMPUTE } from './device.js';
import type { BindingAccess, BufferSpec, EntrySpec, KernelSpec } from './spec.js';
import { fromLayers } from './spec-check.js';

export type { BindingAccess } from './spec.js';

/** A kernel ready to dispatch. */
export interface CompiledKernel {
  readonly name: string;
  readonly access: readonly BindingAccess[];
  readonly layout: GPUBindGroupLayout;
  readonly pipeline: GPUComputePipeline;
}

/** One dispatch of an entry with everything bound. */
export interface BoundDispatch {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: readonly [number, number, number];
}

/** An entry point whose dispatches are ready to encode. */
export interface CompiledEntry {
  /** `train`, `evaluate`, `predict`; a GAN's `discriminator`, `generator`, `generate`. */
  readonly name: string;
  readonly spec: EntrySpec;
  readonly dispatches: readonly BoundDispatch[];
}

/** A storage buffer of the plan together with its spec. */
export interface PlannedBuffer {
  readonly spec: BufferSpec;
  readonly gpu: GPUBuffer;
}

/** The access mode of each binding of `kernel`, checked against its binding count. */
export function bindingAccesses(kernel: KernelSpec): readonly BindingAccess[] {
  const { bindings, access } = kernel;
  if (!Array.isArray(access) || access.length !== bindings) {
    throw new Error(
      `kernel '${kernel.name}' has ${bindings} bindings but says the access of ${Array.isArray(access) ? access.length : 'none'}`,
    );
  }
  for (const a of access) {
    if (a !== 'read' && a !== 'read_write') {
      throw new Error(
        `kernel '${kernel.name}' gives a binding the access '${String(a)}'; expected read or read_write`,
      );
    }
  }
  return access;
}

/** Compiles every kernel; throws an error naming the kernel and quoting WGSL errors. */
export async function compileKernels(
  device: GPUDevice,
  kernels: readonly KernelSpec[],
  originOf: (index: number) => string | undefined = () => undefined,
): Promise<CompiledKernel[]> {
  const results = await Promise.allSettled(
    kernels.map((kernel, index) => compileKernel(device, kernel, index, fromLayers(originOf(index)))),
  );
  // Report the first broken kernel in spec order, not whichever compile finished first.
  const failed = results.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<CompiledKernel>).value);
}

/** `from` names the kernel's layers in its errors (` (from mnist_mlp.nnx:3 dense_1)`), or is empty. */
async function compileKernel(
  device: GPUDevice,
  kernel: KernelSpec,
  index: number,
  from: string,
): Promise<CompiledKernel> {
  const label = `nnx kernel ${index} '${kernel.name}'`;
  // The scope keeps a broken shader from also surfacing as an uncaptured device error.
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label, code: kernel.wgsl });
  const moduleError = device.popErrorScope();
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((message) => message.type === 'error');
  const scopeError = await moduleError;
  if (errors.length > 0 || scopeError !== null) {
    throw new Error(
      `kernel '${kernel.name}' (kernel ${index})${from} has WGSL errors:\n` +
        (errors.length > 0
          ? errors.map((e) => formatCompilationMessage(e, kernel.wgsl)).join('\n')
          : scopeError!.message),
    );
  }
  const access = bindingAccesses(kernel);
  const layout = device.createBindGroupLayout({
    label,
    entries: access.map((mode, binding) => ({
      binding,
      visibility: SHADER_STAGE_COMPUTE,
      buffer: { type: mode === 'read_write' ? 'storage' : 'read-only-storage' },
    })),
  });
  try {
    const pipeline = await device.createComputePipelineAsync({
      label,
      layout: device.createPipelineLayout({ label, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    return { name: kernel.name, access, layout, pipeline };
  } catch (error) {
    throw new Error(
      `kernel '${kernel.name}' (kernel ${index})${from} could not be made into a compute pipeline ` +
        `(it needs entry point 'main' and ${kernel.bindings} storage bindings in @group(0)): ` +
        (error as Error).message.trim(),
      { cause: error },
    );
  }
}

/** `line:column: message`, then the offending source line with a caret under the column. */
function formatCompilationMessage(message: GPUCompilationMessage, source: string): string {
  const head = `  ${message.lineNum}:${message.linePos}: ${message.message}`;
  const line = source.split('\n')[message.lineNum - 1];
  if (line === undefined || message.lineNum === 0) return head;
  const caret = ' '.repeat(Math.max(0, message.linePos - 1)) + '^';
  return `${head}\n    ${line}\n    ${caret}`;
}

/**
 * Binds each dispatch of `entry` to its kernel and buffers (binding i is `dispatch.buffers[i]`).
 * Throws when a dispatch binds a buffer twice with one of the bindings writable, which WebGPU
 * rejects within one dispatch.
 */
export function bindEntry(
  device: GPUDevice,
  name: string,
  entry: EntrySpec,
  kernels: readonly CompiledKernel[],
  buffers: ReadonlyMap<number, PlannedBuffer>,
): CompiledEntry {
  const dispatches = entry.dispatches.map((dispatch, index): BoundDispatch => {
    const kernel = kernels[dispatch.kernel]!;
    const owner = `entry '${name}' dispatch ${index}${fromLayers(dispatch.origin)}`;
    checkNoWritableAlias(dispatch.buffers, kernel, buffers, owner);
    const bindGroup = device.createBindGroup({
      label: `nnx ${name} dispatch ${index} (${kernel.name})`,
      layout: kernel.layout,
      entries: dispatch.buffers.map((id, binding) => ({
        binding,
        resource: { buffer: buffers.get(id)!.gpu },
      })),
    });
    return { pipeline: kernel.pipeline, bindGroup, workgroups: dispatch.workgroups };
  });
  return { name, spec: entry, dispatches };
}

function checkNoWritableAlias(
  ids: readonly number[],
  kernel: CompiledKernel,
  buffers: ReadonlyMap<number, PlannedBuffer>,
  owner: string,
): void {
  ids.forEach((id, binding) => {
    const first = ids.indexOf(id);
    if (first === binding) return;
    if (kernel.access[first] === 'read_write' || kernel.access[binding] === 'read_write') {
      const label = buffers.get(id)!.spec.label;
      throw new Error(
        `${owner} (kernel '${kernel.name}') binds buffer ${id} ('${label}') to bindings ${first} and ` +
          `${binding}, at least one writable; WebGPU forbids that within one dispatch`,
      );
    }
  });
}

/** Records all dispatches of `entry` into one compute pass of `encoder`. */
export function encodeEntry(encoder: GPUCommandEncoder, entry: CompiledEntry): void {
  const pass = encoder.beginComputePass({ label: `nnx ${entry.name}` });
  let current: GPUComputePipeline | undefined;
  for (const dispatch of entry.dispatches) {
    if (dispatch.pipeline !== current) {
      pass.setPipeline(dispatch.pipeline);
      current = dispatch.pipeline;
    }
    pass.setBindGroup(0, dispatch.bindGroup);
    pass.dispatchWorkgroups(...dispatch.workgroups);
  }
  pass.end();
}
