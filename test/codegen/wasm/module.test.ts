/**
 * The wasm module of a whole model: every entry exported, buffers at fixed addresses, and the
 * way a model cannot have one (a plan past 4 GiB), a clear error naming the buffer.
 */
import { describe, expect, it } from 'vitest';
import { layoutBuffers } from '../../../src/codegen/wasm/module.js';

describe('wasm module assembly', () => {
  it('buffers are 16-byte aligned after the header, and one past 4 GiB is named', () => {
    const { offsets, scratch } = layoutBuffers([
      { bytes: 4, label: 'a' },
      { bytes: 20, label: 'b' },
      { bytes: 8, label: 'c' },
    ]);
    expect(offsets).toEqual([64, 80, 112]);
    expect(scratch).toBe(128);
    expect(() =>
      layoutBuffers([
        { bytes: 2 ** 31, label: 'dense/kernel' },
        { bytes: 2 ** 31, label: 'dense_1/kernel' },
      ]),
    ).toThrow(
      "buffer 'dense_1/kernel' (2147483648 bytes) would end at byte 4294967360 of the wasm memory, past its 4 GiB limit; use a smaller batch or model, or --backend webgpu",
    );
  });
});
