/**
 * Which backend a model or GAN runs on (`create({ backend })`); src/runtime/create.ts then sets
 * the spec up there.
 */
import type { Backend, BackendKind } from './backend.js';
import { describe, requestDevice, type RequestDeviceOptions } from './device.js';
import { initialParameterValues, initialStateValues } from './init.js';
import type { BufferTable } from './spec-check.js';
import {
  type GanSpec,
  isGanSpec,
  type ModelSpec,
  WASM_MAX_THREADS as MAX_THREADS,
  type WasmModuleSpec,
} from './spec.js';
import { WasmBackend } from './wasm/backend.js';

/** `auto`: WebGPU on a hardware adapter; wasm when there is none, or only a CPU one. */
export type BackendChoice = BackendKind | 'auto';

/** Adapters that are a CPU pretending to be a GPU: the wasm backend is faster there. */
const CPU_ADAPTER = /llvmpipe|lavapipe|swiftshader|software|\bcpu\b/i;

export function isCpuAdapter(device: GPUDevice): boolean {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo & { isFallbackAdapter?: boolean } })
    .adapterInfo;
  if (info === undefined) return false;
  if (info.isFallbackAdapter) return true;
  return CPU_ADAPTER.test([info.description, info.vendor, info.architecture, info.device].join(' '));
}

/** The wasm module of `spec`, or the one-line reason it has none. */
export function wasmModuleOf(spec: ModelSpec | GanSpec): WasmModuleSpec | string {
  if (typeof WebAssembly === 'undefined') return 'this JavaScript engine has no WebAssembly';
  const wasm = spec.wasm;
  if (wasm === undefined)
    return (
      `${isGanSpec(spec) ? 'GAN' : 'model'} '${spec.name}' was compiled without the wasm target; compile it with { wasm: true } ` +
      `(nnxc compile does unless given --target webgpu)`
    );
  if ('unsupported' in wasm) return wasm.unsupported;
  return wasm;
}

/** The backend `auto` or an explicit choice settled on, and why `auto` did not take wasm where it would have. */
export interface BackendPick {
  readonly kind: BackendKind;
  /** Under `auto` on a CPU adapter: the one-line reason the model runs on WebGPU instead of wasm. */
  readonly fallback?: string;
}

/**
 * The backend to create `spec` on; `auto` (the default) when `options.backend` is omitted.
 * `wasm` without a wasm module is an error saying what is missing; `auto` keeps a given device,
 * otherwise opens the WebGPU device and keeps it unless it is a CPU adapter (or there is none),
 * and then takes wasm when the spec can run there and says why not when it cannot.
 */
export async function chooseBackend(
  caller: string,
  spec: ModelSpec | GanSpec,
  options: RequestDeviceOptions & { readonly backend?: BackendChoice },
): Promise<BackendPick> {
  const choice = options.backend ?? 'auto';
  if (choice !== 'webgpu' && choice !== 'wasm' && choice !== 'auto')
    throw new Error(`${caller}: backend must be 'webgpu', 'wasm' or 'auto', got '${String(choice)}'`);
  if (choice === 'webgpu') return { kind: 'webgpu' };
  const wasm = wasmModuleOf(spec);
  if (choice === 'wasm') {
    if (typeof wasm === 'string')
      throw new Error(`${caller}: the wasm backend cannot run this model: ${wasm}`);
    return { kind: 'wasm' };
  }
  if (options.device !== undefined) return { kind: 'webgpu' };
  let device: GPUDevice;
  try {
    device = await requestDevice(options);
  } catch (error) {
    if (typeof wasm !== 'string') return { kind: 'wasm' };
    // Neither backend can run it: WebGPU's own error says how to get an adapter.
    throw new Error(`${caller}: the wasm backend cannot run this model (${wasm}), and ${describe(error)}`, {
      cause: error,
    });
  }
  if (!isCpuAdapter(device)) return { kind: 'webgpu' };
  if (typeof wasm === 'string')
    return { kind: 'webgpu', fallback: `the wasm backend cannot run this model: ${wasm}` };
  return { kind: 'wasm' };
}

const noticesShown = new Set<string>();

/** Says a fallback of `auto` once per process and reason, where no `onNotice` was given. */
export function showNoticeOnce(line: string): void {
  if (noticesShown.has(line)) return;
  noticesShown.add(line);
  console.warn(line);
}
