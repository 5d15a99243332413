/**
 * Per-step values of the running loss and metric sums without a readback inside the step: each
 * step's command buffer also copies the accumulators into a slot of a mappable staging buffer,
 * and the host maps that buffer once per window of steps. Progress bars get a live loss, and a
 * NaN is pinned to the exact step it first appeared in.
 */

import { BufferUsage, MAP_MODE_READ } from './device.js';

/** The accumulator sums after one step of a pass. */
export interface TracedStep {
  /** 1-based step within the pass. */
  readonly step: number;
  /** Each accumulator's running sum after this step, in the spec's accumulator order. */
  readonly sums: readonly number[];
}

/** One window of traced steps: record a copy per step, then read them all with one map. */
export class StepTraceWindow {
  private readonly staging: GPUBuffer;
  private recorded = 0;

  constructor(
    device: GPUDevice,
    private readonly accumulators: readonly GPUBuffer[],
    private readonly firstStep: number,
    capacity: number,
  ) {
    this.staging = device.createBuffer({
      label: 'nnx step trace',
      size: Math.max(4, capacity * accumulators.length * 4),
      usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
    });
  }

  /** Records, after the step's dispatches in `encoder`, the copies of every accumulator. */
  record(encoder: GPUCommandEncoder): void {
    const base = this.recorded * this.accumulators.length * 4;
    this.accumulators.forEach((buffer, i) =>
      encoder.copyBufferToBuffer(buffer, 0, this.staging, base + i * 4, 4),
    );
    this.recorded++;
  }

  /** Maps the staging buffer (after every recorded step has run) and returns each step's sums. */
  async read(): Promise<TracedStep[]> {
    try {
      await this.staging.mapAsync(MAP_MODE_READ);
      const values = new Float32Array(this.staging.getMappedRange().slice(0));
      const width = this.accumulators.length;
      return Array.from({ length: this.recorded }, (_, k) => ({
        step: this.firstStep + k,
        sums: Array.from(values.subarray(k * width, (k + 1) * width)),
      }));
    } finally {
      if (this.staging.mapState === 'mapped') this.staging.unmap();
      this.staging.destroy();
    }
  }
}
