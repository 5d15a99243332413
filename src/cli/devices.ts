/**
 * `nnxc devices`: the WebGPU adapters this machine offers — name, vendor, architecture, backend
 * when known, the fallback flag, the limits that decide whether a model fits, and the features
 * worth knowing — as text or, with `--json`, as one JSON array.
 */
import {
  ADAPTER_REQUESTS,
  type AdapterRequest,
  type AdapterSummary,
  KEY_FEATURES,
  KEY_LIMITS,
  listAdapters,
} from '../runtime/device.js';
import type { BackendChoice } from '../runtime/choose-backend.js';
import { availableParallelism } from 'node:os';
import {
  type CreateModelOptions,
  type ModuleOf,
  type ModuleSpec,
  NO_ADAPTER_MESSAGE,
  createModule,
} from '../runtime/index.js';
import { WASM_MAX_THREADS } from '../runtime/spec.js';
import { type Io, UsageError, UserError, formatBytes } from './io.js';
import { parseCommandArgs } from './args.js';

/** How `--device` is written in usage lines. */
export const DEVICE_CHOICES = 'N|NAME|default|high-performance|low-power|fallback';

/** How `--backend` is written in usage lines. */
export const BACKEND_CHOICES = 'webgpu|wasm|auto';

/** Reads `--backend`: `auto` (the default), WebGPU, or the wasm CPU backend. */
export function backendOption(value: string | undefined): BackendChoice {
  if (value === undefined) return 'auto';
  if (value === 'webgpu' || value === 'wasm' || value === 'auto') return value;
  throw new UsageError(`--backend must be webgpu, wasm or auto, got '${value}'`);
}

/**
 * What every command compiles its model with: the source's path for diagnostics, `--model` and
 * `--set`, and the wasm target unless the command runs on WebGPU only.
 */
export function commandCompileOptions(
  path: string,
  values: { readonly model?: string; readonly set?: readonly string[] },
  backend: BackendChoice,
): { path: string; model: string | undefined; settings: readonly string[]; wasm: boolean } {
  return { path, model: values.model, settings: values.set ?? [], wasm: backend !== 'webgpu' };
}

/**
 * Reads `--threads` for `backend`: an error where threads cannot run (WebGPU, or an engine
 * without SharedArrayBuffer) rather than the runtime's quiet fall back to one thread.
 */
export function threadsOption(value: number | undefined, backend: BackendChoice): number | undefined {
  if (value === undefined) return undefined;
  if (backend === 'webgpu')
    throw new UsageError('--threads is for the wasm backend; give --backend wasm or auto');
  if (value > 1 && typeof SharedArrayBuffer === 'undefined')
    throw new UsageError(
      `--threads ${value} needs SharedArrayBuffer, which this JavaScript engine lacks; ` +
        'run Node.js without --no-harmony-sharedarraybuffer, or give --threads 1',
    );
  return value;
}

/** The first line of {@link NO_ADAPTER_MESSAGE}: how a missing adapter's error starts. */
const NO_ADAPTER = NO_ADAPTER_MESSAGE.split('\n')[0]!;

/**
 * Creates the model or GAN a command runs on the backend `options.backend` names, and the one
 * line that says which backend runs it and, where `auto` kept WebGPU on a CPU adapter, why. No
 * adapter is one line saying how to get one or how to do without.
 */
export async function createForCommand<S extends ModuleSpec>(
  spec: S,
  options: CreateModelOptions,
): Promise<{ model: ModuleOf<S>; backendLine: string }> {
  let fallback = '';
  let model: ModuleOf<S>;
  try {
    model = await createModule(spec, { ...options, onNotice: (line) => (fallback = line) });
  } catch (error) {
    const message = (error as Error).message;
    if (!message.includes(NO_ADAPTER)) throw error;
    // Under auto the runtime has said why wasm could not stand in (choose-backend.ts).
    const wasmReason = /the wasm backend cannot run this model \((.*)\), and /.exec(message)?.[1];
    const missing = wasmReason
      ? `no WebGPU adapter was found, and the wasm backend cannot run this model: ${wasmReason}`
      : 'no WebGPU adapter was found';
    const instead = options.backend === 'webgpu' ? 'run on the CPU with --backend wasm, or ' : '';
    throw new UserError(
      `--backend ${options.backend ?? 'auto'}: ${missing}; ${instead}install a GPU driver (Vulkan, Metal ` +
        "or D3D12) or, on a machine without a GPU, Mesa's lavapipe (as root: sh scripts/setup-webgpu.sh)",
      { cause: error },
    );
  }
  const why = fallback ? ` (${fallback.replace(/^nnx: model '[^']*' runs on WebGPU: /, '')})` : '';
  return {
    model,
    backendLine: `backend: ${model.backend.kind}, ${model.backend.description}${why}`,
  };
}

/** The CPU backend as `nnxc devices --json` lists it, after the adapters: it needs no adapter. */
export interface CpuBackendSummary {
  /** Marks the entry that is not a WebGPU adapter (as bench's CPU rows are marked). */
  readonly cpu: true;
  readonly description: 'WebAssembly backend';
  readonly option: '--backend wasm';
  readonly simd128: boolean;
  /** The most threads `--threads N` runs on: the machine's cores, capped at the backend's limit. */
  readonly threads: number;
  /** Whether this engine has SharedArrayBuffer, without which it runs one thread. */
  readonly sharedMemory: boolean;
}

export function cpuBackendSummary(): CpuBackendSummary {
  return {
    cpu: true,
    description: 'WebAssembly backend',
    option: '--backend wasm',
    simd128: typeof WebAssembly !== 'undefined' && WebAssembly.validate(SIMD_PROBE),
    threads: typeof SharedArrayBuffer === 'undefined' ? 1 : cores(),
    sharedMemory: typeof SharedArrayBuffer !== 'undefined',
  };
}

/** The CPU backend as `nnxc devices` shows it: it needs no adapter. */
export function cpuBackendText(): string {
  const cpu = cpuBackendSummary();
  return [
    `cpu: ${cpu.description} (${cpu.option})`,
    `    SIMD128: ${cpu.simd128 ? 'yes' : 'no'}   threads: up to ${cpu.threads} (--threads N; 1 by default)`,
  ].join('\n');
}

/** The CPU cores the wasm backend can run threads on (the machine's, capped at its limit). */
function cores(): number {
  return Math.min(availableParallelism(), WASM_MAX_THREADS);
}

/** A module with one v128 function: whether the engine validates SIMD128. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

/** The usage line of `nnxc devices`. */
export const DEVICES_USAGE = `  nnxc devices [--json] [--device ${DEVICE_CHOICES}]
                                       list the WebGPU adapters (limits and features) and the CPU backend`;

const BYTE_LIMITS = new Set<string>([
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
]);

/** The name `nnxc devices` shows for an adapter. */
function adapterName(adapter: AdapterSummary): string {
  return adapter.description || adapter.device || '(unnamed adapter)';
}

/**
 * Reads `--device`: a request (`low-power`), or an adapter of `nnxc devices` by its index (`0`)
 * or by a part of its name, vendor or architecture (`llvmpipe`, `nvidia`), turned into the
 * request that returns that adapter. WebGPU offers adapters only through requests, so an
 * adapter that no request returns cannot be chosen, and the error says so.
 */
export async function adapterRequestOption(
  value: string | undefined,
  adapters: () => Promise<readonly AdapterSummary[]> = listAdapters,
): Promise<AdapterRequest | undefined> {
  if (value === undefined) return undefined;
  if ((ADAPTER_REQUESTS as readonly string[]).includes(value)) return value as AdapterRequest;
  const all = await adapters();
  const needle = value.toLowerCase();
  const named = all.filter((a) =>
    [adapterName(a), a.vendor, a.architecture, a.device].some((t) => t.toLowerCase().includes(needle)),
  );
  // One GPU may be listed once per backend; by name, the listing a request returns is the one.
  const requestable = named.filter((a) => a.requests.length > 0);
  const matches = /^\d+$/.test(value)
    ? all.filter((_, i) => i === Number(value))
    : requestable.length > 0
      ? requestable
      : named;
  const listed = all.map((a, i) => `[${i}] ${adapterName(a)}`).join(', ') || 'none';
  if (matches.length !== 1) {
    const problem = matches.length === 0 ? 'matches no adapter' : 'matches several adapters';
    throw new UsageError(
      `--device '${value}' ${problem}; give an index or name from nnxc devices (${listed}) or one of ${ADAPTER_REQUESTS.join(', ')}`,
    );
  }
  const request = matches[0]!.requests[0];
  if (request === undefined)
    throw new UsageError(`--device '${value}': no WebGPU request returns ${adapterName(matches[0]!)}`);
  return request;
}

/** The {@link NnxModel.create} options that ask for the adapter `request` names. */
export function adapterCreateOptions(request: AdapterRequest | undefined): CreateModelOptions {
  if (request === undefined || request === 'default') return {};
  return request === 'fallback' ? { forceFallbackAdapter: true } : { powerPreference: request };
}

function formatLimit(name: string, value: number): string {
  const text = value.toLocaleString('en-US');
  return BYTE_LIMITS.has(name) ? `${text} (${formatBytes(value)})` : text;
}

/** One adapter as an indented block of text. */
export function adapterText(adapter: AdapterSummary, index: number): string {
  const name = adapterName(adapter);
  const known = KEY_FEATURES.filter((f) => adapter.features.includes(f));
  const width = Math.max(...KEY_LIMITS.map((l) => l.length));
  const lines = [
    `[${index}] ${name}`,
    `    vendor: ${adapter.vendor || '?'}   architecture: ${adapter.architecture || '?'}   device: ${adapter.device || '?'}`,
    `    backend: ${adapter.backend ?? 'not reported by WebGPU'}   fallback adapter: ${adapter.isFallbackAdapter ? 'yes' : 'no'}`,
    `    picked by --device ${adapter.requests.length ? adapter.requests.join(', ') : '(none: not what a request returns)'}`,
    ...KEY_LIMITS.map((l) => `    ${l.padEnd(width)}  ${formatLimit(l, adapter.limits[l])}`),
    `    features: ${known.length ? known.join(', ') : 'none of ' + KEY_FEATURES.join(', ')}` +
      ` (${adapter.features.length} in all)`,
  ];
  return lines.join('\n');
}

/** Runs `nnxc devices`. */
export async function devicesCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs(args, {
    command: 'devices',
    usage: DEVICES_USAGE,
    maxPositionals: 0,
    options: { json: { type: 'boolean' }, device: { type: 'string' } },
  });
  let all: AdapterSummary[];
  try {
    all = await listAdapters();
  } catch (error) {
    // No adapter: the CPU backend still runs models.
    if (values.device !== undefined) throw error;
    const why = `no WebGPU adapter: ${(error as Error).message.split('\n')[0]}\n`;
    if (values.json) {
      io.err(`nnxc: ${why}`);
      io.out(JSON.stringify([cpuBackendSummary()], null, 2) + '\n');
    } else io.out(`${cpuBackendText()}\n\n${why}`);
    return 0;
  }
  const request = await adapterRequestOption(values.device, async () => all);
  const adapters = request ? all.filter((a) => a.requests.includes(request)) : all;
  // --device picks among the adapters; the CPU backend is listed only with all of them.
  if (values.json) {
    const entries = values.device === undefined ? [...adapters, cpuBackendSummary()] : adapters;
    io.out(JSON.stringify(entries, null, 2) + '\n');
    return 0;
  }
  const cpu = values.device === undefined ? `\n\n${cpuBackendText()}` : '';
  io.out(adapters.map(adapterText).join('\n\n') + cpu + '\n');
  return 0;
}
