/**
 * The wasm module of a whole model: every entry exported, buffers at fixed addresses, and the
 * two ways a model cannot have one (an op the target lacks, a plan past 4 GiB), each a clear error.
 */
import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../../src/codegen/plan.js';
import { KernelTable, lowerEntry } from '../../../src/codegen/spec.js';
import { WasmUnsupportedError } from '../../../src/codegen/wasm/index.js';
import { buildWasmModule, layoutBuffers } from '../../../src/codegen/wasm/module.js';
import { GraphBuilder } from '../../../src/ir/builder.js';

describe('wasm module assembly', () => {
  it('a kernel rooted at an op the wasm target lacks is an error naming the op', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'data', [2, 5, 5, 2]);
    const moves = b.input('m', 'data', [2, 3]);
    b.output('y', b.unary('relu', b.emit('image_shift', [x, moves], { adjoint: false })), 'prediction');
    const pool = new BufferPool();
    const lowered = lowerEntry('run', b.build(), 1, pool, new KernelTable());
    expect(() => buildWasmModule(pool.buffers, [{ name: 'run', ...lowered }])).toThrow(WasmUnsupportedError);
    expect(() => buildWasmModule(pool.buffers, [{ name: 'run', ...lowered }])).toThrow(
      "the wasm backend does not support the op 'image_shift' yet; run this model with --backend webgpu",
    );
  });

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
