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
import type { CreateModelOptions } from '../runtime/index.js';
import { WASM_MAX_THREADS } from '../runtime/spec.js';
import { type Io, UsageError, formatBytes } from './io.js';
import { parseCommandArgs } from './args.js';

/** How `--device` is written in usage lines. */
export const DEVICE_CHOICES = 'N|NAME|default|high-performance|low-power|fallback';

/** How `--backend` is written in usage lines. */
export const BACKEND_CHOICES = 'webgpu|wasm|auto';

/** Reads `--backend`: WebGPU (the default), the wasm CPU backend, or `auto`. */
export function backendOption(value: string | undefined): BackendChoice | undefined {
  if (value === undefined) return undefined;
  if (value === 'webgpu' || value === 'wasm' || value === 'auto') return value;
  throw new UsageError(`--backend must be webgpu, wasm or auto, got '${value}'`);
}

/** The CPU backend as `nnxc devices` shows it: it needs no adapter. */
export function cpuBackendText(): string {
  const simd = typeof WebAssembly !== 'undefined' && WebAssembly.validate(SIMD_PROBE);
  return [
    'cpu: WebAssembly backend (--backend wasm)',
    `    SIMD128: ${simd ? 'yes' : 'no'}   threads: up to ${cores()} (--threads N; 1 by default)`,
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
    if (values.json || values.device !== undefined) throw error;
    io.out(`${cpuBackendText()}\n\nno WebGPU adapter: ${(error as Error).message.split('\n')[0]}\n`);
    return 0;
  }
  const request = await adapterRequestOption(values.device, async () => all);
  const adapters = request ? all.filter((a) => a.requests.includes(request)) : all;
  if (values.json) {
    io.out(JSON.stringify(adapters, null, 2) + '\n');
    return 0;
  }
  const cpu = values.device === undefined ? `\n\n${cpuBackendText()}` : '';
  io.out(adapters.map(adapterText).join('\n\n') + cpu + '\n');
  return 0;
}
