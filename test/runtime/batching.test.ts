import { describe, expect, it } from 'vitest';
import { BatchAssembler, batchFromRecord } from '../../src/runtime/batching.js';
import type { EntrySpec } from '../../src/runtime/spec.js';

// Batches of 3 samples of 2 values, a target of 1 value, and a mask.
const entry: EntrySpec = {
  batch: 3,
  inputs: [
    { name: 'x', role: 'input', shape: [3, 2], buffer: 0 },
    { name: 'y', role: 'target', shape: [3, 1], buffer: 1 },
    { name: 'mask', role: 'mask', shape: [3], buffer: 2 },
  ],
  outputs: [],
  dispatches: [],
};

const data = {
  count: 4,
  inputs: { x: Float32Array.from([0, 1, 10, 11, 20, 21, 30, 31]) },
  targets: { y: Float32Array.from([0, 1, 2, 3]) },
};

function uploads(batch: ReturnType<BatchAssembler['assemble']>): Record<string, number[]> {
  return Object.fromEntries(batch.uploads.map((upload) => [upload.slot.name, [...upload.data]]));
}

describe('BatchAssembler', () => {
  it('cuts a dataset into batches and pads and masks the last one', () => {
    const batches = new BatchAssembler(entry, data, 'fit');
    expect(batches.steps).toBe(2);
    expect(uploads(batches.assemble(0))).toEqual({
      x: [0, 1, 10, 11, 20, 21],
      y: [0, 1, 2],
      mask: [1, 1, 1],
    });
    const last = batches.assemble(1);
    expect(last.realSamples).toBe(1);
    expect(uploads(last)).toEqual({ x: [30, 31, 0, 0, 0, 0], y: [3, 0, 0], mask: [1, 0, 0] });
  });

  it('visits samples in the given order', () => {
    const batches = new BatchAssembler(entry, data, 'fit');
    const order = Uint32Array.from([3, 1, 0, 2]);
    expect(uploads(batches.assemble(0, order))).toEqual({
      x: [30, 31, 10, 11, 0, 1],
      y: [3, 1, 0],
      mask: [1, 1, 1],
    });
    expect(uploads(batches.assemble(1, order))).toEqual({
      x: [20, 21, 0, 0, 0, 0],
      y: [2, 0, 0],
      mask: [1, 0, 0],
    });
  });

  it('names missing, unknown and mis-sized arrays', () => {
    expect(() => new BatchAssembler(entry, { ...data, inputs: { z: data.inputs.x } }, 'fit')).toThrow(
      "fit: missing input 'x', unknown input 'z' (the model's inputs are: 'x')",
    );
    expect(
      () => new BatchAssembler(entry, { ...data, targets: { y: new Float32Array(3) } }, 'evaluate'),
    ).toThrow("evaluate: dataset target 'y' has 3 values, but 4 samples of shape [1] need 4");
    expect(() => new BatchAssembler(entry, { ...data, count: 0 }, 'fit')).toThrow(
      'fit: dataset count must be a positive integer, got 0',
    );
  });

  it('finds an input named like an Object.prototype member missing, not inherited', () => {
    const named: EntrySpec = {
      ...entry,
      inputs: entry.inputs.map((slot) => (slot.name === 'x' ? { ...slot, name: 'toString' } : slot)),
    };
    expect(() => new BatchAssembler(named, { ...data, inputs: {} }, 'fit')).toThrow(
      "fit: missing input 'toString'",
    );
    expect(() => batchFromRecord(named, { y: Float32Array.from([5]) }, 'trainStep')).toThrow(
      "trainStep: missing input 'toString'",
    );
  });
});

describe('batchFromRecord', () => {
  it('pads fewer samples than the batch and fills the mask', () => {
    const batch = batchFromRecord(
      entry,
      { x: Float32Array.from([1, 2]), y: Float32Array.from([5]) },
      'trainStep',
    );
    expect(batch.realSamples).toBe(1);
    expect(uploads(batch)).toEqual({ x: [1, 2, 0, 0, 0, 0], y: [5, 0, 0], mask: [1, 0, 0] });
  });

  it('uses a mask the caller gives', () => {
    const batch = batchFromRecord(
      entry,
      { x: new Float32Array(6), y: new Float32Array(3), mask: Float32Array.from([1, 0, 1]) },
      'trainStep',
    );
    expect(uploads(batch)['mask']).toEqual([1, 0, 1]);
  });

  it('rejects more samples than the batch', () => {
    expect(() =>
      batchFromRecord(entry, { x: new Float32Array(8), y: new Float32Array(4) }, 'trainStep'),
    ).toThrow(
      "trainStep: input 'x' has 8 values, which is not a whole number of samples of shape [2] between 1 and the batch size 3",
    );
  });
});
