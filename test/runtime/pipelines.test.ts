import { describe, expect, it } from 'vitest';
import { bindingAccesses } from '../../src/runtime/pipelines.js';

describe('bindingAccesses', () => {
  it('takes the last `outputs` bindings as read_write', () => {
    expect(bindingAccesses({ name: 'k', wgsl: '', bindings: 3, outputs: 1 })).toEqual([
      'read',
      'read',
      'read_write',
    ]);
  });

  it('reads access modes from the WGSL declarations when outputs is omitted', () => {
    const wgsl = `
      @group(0) @binding(0) var<storage, read_write> a: array<f32>;
      @binding(1) @group(0) var<storage> b: array<f32>;
      @group(0)
      @binding(2) var<storage,read> c: array<f32>;
      @group(0) @binding(3) var<storage, read_write> d: array<f32>;`;
    expect(bindingAccesses({ name: 'k', wgsl, bindings: 5 })).toEqual([
      'read_write',
      'read',
      'read',
      'read_write',
      'read',
    ]);
  });

  it('rejects more outputs than bindings', () => {
    expect(() => bindingAccesses({ name: 'k', wgsl: '', bindings: 2, outputs: 3 })).toThrow(
      "kernel 'k' declares 3 outputs but has 2 bindings",
    );
  });
});
