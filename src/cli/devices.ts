/**
 * `nnxc devices`: the WebGPU adapters this machine offers — name, vendor, architecture, backend
 * when known, the fallback flag, the limits that decide whether a model fits, and the features
 * worth knowing — as text or, with `--json`, as one JSON array.
 */
import { parseArgs } from 'node:util';
import {
  ADAPTER_REQUESTS,
  type AdapterRequest,
  type AdapterSummary,
  KEY_FEATURES,
  KEY_LIMITS,
  listAdapters,
} from '../runtime/device.js';
import type { CreateModelOptions } from '../runtime/index.js';
import { type Io, UsageError, formatBytes } from './io.js';

/** The usage line of `nnxc devices`. */
export const DEVICES_USAGE = `  nnxc devices [--json] [--device default|high-performance|low-power|fallback]
                                       list the WebGPU adapters: limits and features`;

const BYTE_LIMITS = new Set<string>([
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
]);

/** Reads `--device`: one of {@link ADAPTER_REQUESTS}, or undefined when not given. */
export function adapterRequestOption(value: string | undefined): AdapterRequest | undefined {
  if (value === undefined) return undefined;
  if (!(ADAPTER_REQUESTS as readonly string[]).includes(value))
    throw new UsageError(`--device must be one of ${ADAPTER_REQUESTS.join(', ')}, got '${value}'`);
  return value as AdapterRequest;
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
  const name = adapter.description || adapter.device || '(unnamed adapter)';
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
  const { values } = parseArgs({
    args,
    options: { json: { type: 'boolean' }, device: { type: 'string' } },
  });
  const request = adapterRequestOption(values.device);
  const all = await listAdapters();
  const adapters = request ? all.filter((a) => a.requests.includes(request)) : all;
  if (values.json) {
    io.out(JSON.stringify(adapters, null, 2) + '\n');
    return 0;
  }
  io.out(adapters.map(adapterText).join('\n\n') + '\n');
  return 0;
}
