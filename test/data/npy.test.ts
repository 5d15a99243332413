/** The .npy reader and writer: round trips, NumPy's own header layouts, dtypes, and bad files. */
import { describe, expect, it } from 'vitest';
import { DatasetError, encodeNpy, parseNpy } from '../../src/data/index.js';

/** A .npy file as NumPy writes it, with `header` and raw `data`. */
function npyFile(header: string, data: Uint8Array, version = 1): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  const padded = header.padEnd(Math.ceil((prefix + header.length + 1) / 64) * 64 - prefix - 1) + '\n';
  const bytes = new Uint8Array(prefix + padded.length + data.length);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(bytes.buffer);
  if (version === 1) view.setUint16(8, padded.length, true);
  else view.setUint32(8, padded.length, true);
  bytes.set(new TextEncoder().encode(padded), prefix);
  bytes.set(data, prefix + padded.length);
  return bytes;
}

describe('npy', () => {
  it('round-trips float32 arrays of any rank', () => {
    for (const shape of [[5], [2, 3], [2, 1, 2], []]) {
      const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i - 1.5);
      const parsed = parseNpy(encodeNpy(shape, values), 'x.npy');
      expect(parsed.shape).toEqual(shape);
      expect(parsed.values).toEqual(values);
      expect(parsed.integral).toBe(false);
    }
  });

  it('writes data aligned to 64 bytes, as NumPy does', () => {
    const bytes = encodeNpy([3], new Float32Array(3));
    expect((10 + new DataView(bytes.buffer).getUint16(8, true)) % 64).toBe(0);
  });

  it('reads integer dtypes (class labels), big-endian floats and version 2 headers', () => {
    const labels = parseNpy(
      npyFile(
        "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
        new Uint8Array(new BigInt64Array([2n, 0n, 9n]).buffer),
      ),
      'y.npy',
    );
    expect([...labels.values]).toEqual([2, 0, 9]);
    expect(labels.integral).toBe(true);
    const be = new Uint8Array(8);
    new DataView(be.buffer).setFloat64(0, -0.25, false);
    expect([
      ...parseNpy(npyFile("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", be, 2), 'b.npy')
        .values,
    ]).toEqual([-0.25]);
  });

  it('rejects Fortran order, unknown dtypes, truncation and non-npy files', () => {
    const f4 = (header: string, n: number) => npyFile(header, new Uint8Array(n));
    expect(() =>
      parseNpy(f4("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16), 'a.npy'),
    ).toThrow('a.npy is not a valid .npy file: it is in Fortran order');
    expect(() =>
      parseNpy(f4("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16), 'c.npy'),
    ).toThrow('its header is not understood');
    expect(() =>
      parseNpy(f4("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20), 't.npy'),
    ).toThrow('t.npy is not a valid .npy file: it is truncated: shape (2, 3) needs');
    expect(() => parseNpy(new TextEncoder().encode('a,b\n1,2\n'), 'x.csv')).toThrow(DatasetError);
  });
});
