import { create } from 'webgpu';
import { describe, expect, it } from 'vitest';
import { WebGpuBackend } from '../../src/runtime/backend.js';
import {
  NO_ADAPTER_MESSAGE,
  requestAdapterOrThrow,
  requestDevice,
  throwIfDeviceFailed,
  watchDeviceFailures,
} from '../../src/runtime/device.js';

async function freshDevice(): Promise<GPUDevice> {
  const adapter = await requestAdapterOrThrow(create([]));
  return adapter.requestDevice();
}

describe('requestDevice', () => {
  it('explains how to get an adapter when there is none', async () => {
    const noAdapter = { requestAdapter: async () => null } as unknown as GPU;
    await expect(requestAdapterOrThrow(noAdapter)).rejects.toThrow(NO_ADAPTER_MESSAGE);
    expect(NO_ADAPTER_MESSAGE).toMatch(/No WebGPU adapter was found/);
    expect(NO_ADAPTER_MESSAGE).toMatch(/mesa-vulkan-drivers >= 23/);
    expect(NO_ADAPTER_MESSAGE).toMatch(/libvulkan1/);
    expect(NO_ADAPTER_MESSAGE).toMatch(/sh scripts\/setup-webgpu.sh/);
    expect(NO_ADAPTER_MESSAGE).toMatch(/Vulkan, Metal or D3D12/);
  });

  it('keeps the cause when requestAdapter itself fails', async () => {
    const failing = { requestAdapter: async () => Promise.reject(new Error('no ICD')) } as unknown as GPU;
    await expect(requestAdapterOrThrow(failing)).rejects.toThrow(
      /No WebGPU adapter was found[^]*requestAdapter failed: no ICD/,
    );
  });

  it('shares one device per process and passes a given device through', async () => {
    const shared = await requestDevice();
    expect(await requestDevice()).toBe(shared);
    expect(shared.limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(8);
    const own = await freshDevice();
    expect(await requestDevice({ device: own })).toBe(own);
    own.destroy();
  });
});

describe('device failures', () => {
  it('records an uncaptured error and throws it at the next check', async () => {
    const device = await freshDevice();
    watchDeviceFailures(device);
    expect(() => throwIfDeviceFailed(device)).not.toThrow();
    device.createBuffer({ size: 4, usage: 0 }); // usage 0 is invalid
    await device.queue.onSubmittedWorkDone();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(() => throwIfDeviceFailed(device)).toThrow(/^WebGPU validation error: /);
    device.destroy();
  });

  it('records the loss of the device', async () => {
    const device = await freshDevice();
    watchDeviceFailures(device);
    device.destroy();
    await device.lost;
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(() => throwIfDeviceFailed(device)).toThrow(/^WebGPU device was lost \(destroyed\)/);
  });

  it("a backend's fence rejects with the loss of its device, not only a later check", async () => {
    const device = await freshDevice();
    watchDeviceFailures(device);
    const backend = new WebGpuBackend(device, new Map(), {}, 'test');
    await expect(backend.fence()).resolves.toBeUndefined();
    device.destroy();
    await device.lost;
    await new Promise((resolve) => setTimeout(resolve, 0));
    await expect(backend.fence()).rejects.toThrow(/^WebGPU device was lost \(destroyed\)/);
  });
});
