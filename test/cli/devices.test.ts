/** nnxc devices: the adapter list as text and JSON, `--device` filtering and its usage errors. */
import { describe, expect, it } from 'vitest';
import { adapterCreateOptions } from '../../src/cli/devices.js';
import { KEY_LIMITS } from '../../src/runtime/device.js';
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

  it('rejects an unknown --device with the choices', async () => {
    const r = await nnxc(['devices', '--device', 'gpu0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "nnxc: --device must be one of default, high-performance, low-power, fallback, got 'gpu0'",
    );
  });

  it('turns a --device request into create options', () => {
    expect(adapterCreateOptions(undefined)).toEqual({});
    expect(adapterCreateOptions('default')).toEqual({});
    expect(adapterCreateOptions('fallback')).toEqual({ forceFallbackAdapter: true });
    expect(adapterCreateOptions('low-power')).toEqual({ powerPreference: 'low-power' });
  });
});
