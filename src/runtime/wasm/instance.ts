/**
 * Instantiating a model's wasm module (src/codegen/wasm/module.ts) on its memory: the host
 * functions it imports (the transcendentals, computed in f64 as the reference interpreter does)
 * and the f32 views of each buffer.
 */
import type { WasmModuleSpec } from '../spec.js';
import { relaxedSimdAvailable, useRelaxedMadd } from './relaxed.js';

/**
 * Decodes the base64 module text of a spec. Its multiply-adds become relaxed FMA when `fma`
 * (by default: when the engine validates relaxed SIMD).
 */
export function wasmBytes(
  spec: WasmModuleSpec,
  shared: boolean,
  fma = relaxedSimdAvailable(),
): Uint8Array<ArrayBuffer> {
  const s = atob(spec.module);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  // One module serves both memories: only the import's limits flag differs.
  bytes[spec.memoryFlagOffset] = shared ? 0x03 : 0x01;
  if (fma && spec.maddSites) useRelaxedMadd(bytes, spec.maddSites);
  return bytes;
}

export const MATH_HOST = { exp: Math.exp, log: Math.log, tanh: Math.tanh, sin: Math.sin, cos: Math.cos };

export interface WasmInstance {
  readonly memory: WebAssembly.Memory;
  /** Runs an entry as thread `thread` of `threads`. */
  readonly run: (entry: string, thread: number, threads: number) => void;
  readonly module: WebAssembly.Module;
}

export function newMemory(spec: WasmModuleSpec, shared: boolean): WebAssembly.Memory {
  const pages = spec.memoryBytes / 65536;
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared });
}

/** Compiles and instantiates the module on `memory` (a fresh one when omitted). */
export function instantiateWasm(
  spec: WasmModuleSpec,
  options: { memory?: WebAssembly.Memory; shared?: boolean; module?: WebAssembly.Module; fma?: boolean } = {},
): WasmInstance {
  const shared = options.shared ?? false;
  const memory = options.memory ?? newMemory(spec, shared);
  const module = options.module ?? new WebAssembly.Module(wasmBytes(spec, shared, options.fma));
  const instance = new WebAssembly.Instance(module, { env: { ...MATH_HOST, memory } });
  const exports = instance.exports as Record<string, (thread: number, threads: number) => void>;
  return {
    memory,
    module,
    run: (entry, thread, threads) => {
      const f = exports[entry];
      if (typeof f !== 'function') throw new Error(`internal: the wasm module has no entry '${entry}'`);
      f(thread, threads);
    },
  };
}
