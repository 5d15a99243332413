/**
 * Reading GPU buffers back to the host: copy every region into one staging buffer, map it once.
 * Each mapAsync is a full round trip to the GPU, so callers batch what they need into one read.
 */

import type { Backend } from './backend.js';
import { BufferUsage, MAP_MODE_READ } from './device.js';
import { elementCount } from './init.js';
import type { TensorSlot } from './spec.js';

/** A range of a storage buffer to read, as f32 values. */
export interface ReadbackRegion {
  readonly buffer: GPUBuffer;
  /** Bytes to read from the start of the buffer (a multiple of 4). */
  readonly bytes: number;
}

/**
 * A staging buffer laid out for `regions`. Encode its copies into a command encoder (after the
 * work that produces the data), submit, then {@link StagedReadback.read}.
 */
export class StagedReadback {
  private readonly staging: GPUBuffer;
  private readonly offsets: number[];

  constructor(
    device: GPUDevice,
    private readonly regions: readonly ReadbackRegion[],
  ) {
    this.offsets = [];
    let total = 0;
    for (const region of regions) {
      this.offsets.push(total);
      total += region.bytes;
    }
    this.staging = device.createBuffer({
      label: 'nnx readback staging',
      size: Math.max(total, 4),
      usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
    });
  }

  /** Records the copies from each region into the staging buffer. */
  encodeCopies(encoder: GPUCommandEncoder): void {
    this.regions.forEach((region, i) => {
      if (region.bytes > 0) {
        encoder.copyBufferToBuffer(region.buffer, 0, this.staging, this.offsets[i]!, region.bytes);
      }
    });
  }

  /** Maps the staging buffer once, returns a copy of each region, and frees the staging buffer. */
  async read(): Promise<Float32Array[]> {
    try {
      await this.staging.mapAsync(MAP_MODE_READ);
      const mapped = this.staging.getMappedRange();
      return this.regions.map(
        (region, i) => new Float32Array(mapped.slice(this.offsets[i]!, this.offsets[i]! + region.bytes)),
      );
    } finally {
      if (this.staging.mapState === 'mapped') this.staging.unmap();
      this.staging.destroy();
    }
  }
}

/** Reads every region with one command buffer, one submit and one mapAsync. */
export async function readBuffers(
  device: GPUDevice,
  regions: readonly ReadbackRegion[],
): Promise<Float32Array[]> {
  const readback = new StagedReadback(device, regions);
  const encoder = device.createCommandEncoder({ label: 'nnx readback' });
  readback.encodeCopies(encoder);
  device.queue.submit([encoder.finish()]);
  return readback.read();
}

/**
 * Reads each slot's tensor from the buffer its id names, all groups in one round trip; for each
 * group, the values by slot name.
 */
export async function readSlots(
  backend: Backend,
  ...groups: (readonly TensorSlot[])[]
): Promise<Map<string, Float32Array>[]> {
  const slots = groups.flat();
  const values = await backend.read(
    slots.map((slot) => ({ buffer: slot.buffer, bytes: elementCount(slot.shape) * 4 })),
  );
  let next = 0;
  return groups.map((group) => new Map(group.map((slot) => [slot.name, values[next++]!])));
}
