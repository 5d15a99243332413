import { describe, expect, it } from 'vitest';
import { checkSpec, checkSpecLimits, type SpecLimits } from '../../src/runtime/spec-check.js';
import { tinySpec } from './tiny-model.js';

const roomyLimits: SpecLimits = {
  maxStorageBufferBindingSize: 1 << 27,
  maxBufferSize: 1 << 28,
  maxStorageBuffersPerShaderStage: 8,
  maxComputeWorkgroupsPerDimension: 65535,
};

describe('checkSpec', () => {
  it('accepts the tiny spec and returns its buffers by id', () => {
    expect(checkSpec(tinySpec()).get(0)!.label).toBe('w');
  });

  it('names a slot that does not fit its buffer', () => {
    const spec = tinySpec();
    const params = [{ ...spec.params[0]!, shape: [38] }];
    expect(() => checkSpec({ ...spec, params })).toThrow(
      "parameter 'w' of shape [38] needs 152 bytes, but its buffer 0 ('w') has 148",
    );
  });

  it('names a dispatch whose buffer count differs from its kernel', () => {
    const spec = tinySpec();
    const evaluate = {
      ...spec.entries.evaluate,
      dispatches: [{ ...spec.entries.evaluate.dispatches[0]!, buffers: [8, 9] }],
    };
    expect(() => checkSpec({ ...spec, entries: { ...spec.entries, evaluate } })).toThrow(
      "entry 'evaluate' dispatch 0 binds 2 buffers to kernel 'metrics', which has 7 bindings",
    );
  });

  it('names an entry slot whose first dim is not the batch', () => {
    const spec = tinySpec();
    const predict = {
      ...spec.entries.predict,
      inputs: [{ ...spec.entries.predict.inputs[0]!, shape: [2, 37] }],
    };
    expect(() => checkSpec({ ...spec, entries: { ...spec.entries, predict } })).toThrow(
      "entry 'predict' slot 'x' has shape [2,37], whose first dim should be the batch size 3",
    );
  });

  it('rejects duplicate buffer ids', () => {
    const spec = tinySpec();
    expect(() => checkSpec({ ...spec, buffers: [...spec.buffers, spec.buffers[0]!] })).toThrow(
      'buffer id 0 is used by two buffers',
    );
  });
});

describe('checkSpecLimits', () => {
  it('accepts a spec within the limits', () => {
    expect(() => checkSpecLimits(tinySpec(), roomyLimits)).not.toThrow();
  });

  it('names a kernel with too many storage buffers, with the need and the limit', () => {
    expect(() => checkSpecLimits(tinySpec(), { ...roomyLimits, maxStorageBuffersPerShaderStage: 6 })).toThrow(
      "kernel 'metrics' uses 7 storage buffers, more than this device allows per shader stage (maxStorageBuffersPerShaderStage 6)",
    );
  });

  it('names a buffer larger than one binding', () => {
    expect(() => checkSpecLimits(tinySpec(), { ...roomyLimits, maxStorageBufferBindingSize: 512 })).toThrow(
      "buffer 1 ('train/x') needs 740 bytes, more than this device can bind as one storage buffer " +
        '(maxStorageBufferBindingSize 512, maxBufferSize 268435456)',
    );
  });

  it('names a dispatch with too many workgroups', () => {
    expect(() =>
      checkSpecLimits(tinySpec(), { ...roomyLimits, maxComputeWorkgroupsPerDimension: 1 }),
    ).toThrow(
      "entry 'predict' dispatch 0 (kernel 'predict') asks for workgroups [2,1,1], beyond this device's maxComputeWorkgroupsPerDimension 1",
    );
  });
});
