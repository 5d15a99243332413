/** nnxc devices: the adapter list as text and JSON, `--device` filtering and its usage errors. */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { adapterCreateOptions, adapterRequestOption } from '../../src/cli/devices.js';
import { type AdapterRequest, type AdapterSummary, KEY_LIMITS } from '../../src/runtime/device.js';
import { WASM_MAX_THREADS } from '../../src/runtime/spec.js';
import { nnxc } from './run-in-process.js';

describe('nnxc devices', () => {
  it('lists at least one adapter with its limits and features as JSON', async () => {
    const r = await nnxc(['devices', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const adapters = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(adapters.length).toBeGreaterThan(0);
    const first = adapters[0]!;
    expect(first['requests']).toContain('default');
    expect(typeof first['isFallbackAdapter']).toBe('boolean');
    const limits = first['limits'] as Record<string, number>;
    for (const name of KEY_LIMITS) expect(limits[name]).toBeGreaterThan(0);
    expect(limits['maxStorageBuffersPerShaderStage']).toBeGreaterThanOrEqual(8);
    expect(first['features']).toEqual([...(first['features'] as string[])].sort());
  });

  it('lists the CPU backend after the adapters in JSON too, with its threads', async () => {
    const entries = JSON.parse((await nnxc(['devices', '--json'])).stdout) as Record<string, unknown>[];
    expect(entries.slice(0, -1).every((e) => e['cpu'] === undefined)).toBe(true);
    expect(entries.at(-1)).toEqual({
      cpu: true,
      description: 'WebAssembly backend',
      option: '--backend wasm',
      simd128: true,
      threads: Math.min(availableParallelism(), WASM_MAX_THREADS),
      sharedMemory: true,
    });
    // --device picks an adapter: the CPU backend is not one.
    const picked = JSON.parse((await nnxc(['devices', '--json', '--device', '0'])).stdout) as unknown[];
    expect(picked).toHaveLength(1);
  });

  it('prints each adapter as a block naming its limits and key features', async () => {
    const r = await nnxc(['devices']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\[0\] \S/m);
    expect(r.stdout).toMatch(/^ +vendor: \S+ +architecture: /m);
    expect(r.stdout).toMatch(/fallback adapter: (yes|no)/);
    expect(r.stdout).toMatch(/^ +backend: (vulkan|metal|d3d12|d3d11|opengl|opengles) /m);
    expect(r.stdout).toMatch(/^ +maxStorageBufferBindingSize +[\d,]+ \([\d.]+ [KMG]iB\)$/m);
    expect(r.stdout).toMatch(/^ +maxComputeInvocationsPerWorkgroup +[\d,]+$/m);
    expect(r.stdout).toMatch(/^ +features: .*\(\d+ in all\)$/m);
  });

  it('shows only the adapter a --device request picks', async () => {
    const r = await nnxc(['devices', '--json', '--device', 'low-power']);
    expect(r.code).toBe(0);
    const adapters = JSON.parse(r.stdout) as { requests: string[] }[];
    expect(adapters).toHaveLength(1);
    expect(adapters[0]!.requests).toContain('low-power');
  });

  it('picks an adapter by its index or a part of its name', async () => {
    const all = JSON.parse((await nnxc(['devices', '--json'])).stdout) as { description: string }[];
    const byIndex = await nnxc(['devices', '--json', '--device', '0']);
    expect(byIndex.code).toBe(0);
    expect(JSON.parse(byIndex.stdout)).toEqual([all[0]]);
    const word = all[0]!.description
      .split(/[^A-Za-z]+/)
      .find((w) => w.length > 2)!
      .toUpperCase();
    const byName = await nnxc(['devices', '--json', '--device', word]);
    expect(JSON.parse(byName.stdout)).toEqual([all[0]]);
  });

  it('rejects a --device that matches no adapter, listing the adapters and requests', async () => {
    const r = await nnxc(['devices', '--device', 'no-such-gpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^nnxc: --device 'no-such-gpu' matches no adapter; give an index or name from nnxc devices \(\[0\] .+\) or one of default, high-performance, low-power, fallback\n/,
    );
  });

  it('names an ambiguous --device, and an adapter no request returns', async () => {
    const adapter = (description: string, requests: AdapterRequest[]) =>
      ({ description, vendor: 'acme', architecture: '', device: '', requests }) as unknown as AdapterSummary;
    const two = async () => [adapter('Acme Fast', ['high-performance']), adapter('Acme Slow', ['low-power'])];
    await expect(adapterRequestOption('fast', two)).resolves.toBe('high-performance');
    await expect(adapterRequestOption('acme', two)).rejects.toThrow(
      "--device 'acme' matches several adapters; give an index or name from nnxc devices ([0] Acme Fast, [1] Acme Slow)",
    );
    // One GPU listed once per backend: by name, the listing some request returns is chosen.
    const twice = async () => [adapter('Acme Fast', ['high-performance']), adapter('Acme Fast', [])];
    await expect(adapterRequestOption('acme', twice)).resolves.toBe('high-performance');
    await expect(adapterRequestOption('1', twice)).rejects.toThrow(
      "--device '1': no WebGPU request returns Acme Fast",
    );
    await expect(adapterRequestOption('low-power', two)).resolves.toBe('low-power');
  });

  it('turns a --device request into create options', () => {
    expect(adapterCreateOptions(undefined)).toEqual({});
    expect(adapterCreateOptions('default')).toEqual({});
    expect(adapterCreateOptions('fallback')).toEqual({ forceFallbackAdapter: true });
    expect(adapterCreateOptions('low-power')).toEqual({ powerPreference: 'low-power' });
  });
});
