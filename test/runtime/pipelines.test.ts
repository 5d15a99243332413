import { describe, expect, it } from 'vitest';
import { bindingAccesses } from '../../src/runtime/pipelines.js';

describe('bindingAccesses', () => {
  it("takes each binding's access from the spec, never from the WGSL", () => {
    // The declarations say otherwise: the spec is what counts.
    const wgsl = '@group(0) @binding(0) var<storage, read_write> a: array<f32>;';
    expect(bindingAccesses({ name: 'k', wgsl, bindings: 2, access: ['read', 'read_write'] })).toEqual([
      'read',
      'read_write',
    ]);
  });

  it('rejects an access list that does not match the binding count', () => {
    expect(() => bindingAccesses({ name: 'k', wgsl: '', bindings: 3, access: ['read'] })).toThrow(
      "kernel 'k' has 3 bindings but says the access of 1",
    );
  });

  it('rejects an access mode other than read and read_write', () => {
    const access = ['write'] as unknown as readonly ('read' | 'read_write')[];
    expect(() => bindingAccesses({ name: 'k', wgsl: '', bindings: 1, access })).toThrow(
      "kernel 'k' gives a binding the access 'write'; expected read or read_write",
    );
  });
});
