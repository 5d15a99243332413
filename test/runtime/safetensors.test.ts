import { describe, expect, it } from 'vitest';
import {
  decodeSafetensors,
  encodeSafetensors,
  SafetensorsError,
  type SafetensorsTensor,
} from '../../src/runtime/safetensors.js';

/** A file with `header` (an object, or raw text) and `data`; `declaredLength` overrides the prefix. */
function rawFile(
  header: object | string,
  data: Uint8Array = new Uint8Array(),
  declaredLength?: number,
): Uint8Array {
  const text = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const file = new Uint8Array(8 + text.length + data.length);
  new DataView(file.buffer).setBigUint64(0, BigInt(declaredLength ?? text.length), true);
  file.set(text, 8);
  file.set(data, 8 + text.length);
  return file;
}

function f32Bytes(values: readonly number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

const tensors = new Map<string, SafetensorsTensor>([
  ['dense/kernel', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 4, 5e-8, -6e20]) }],
  ['dense/bias', { shape: [3], data: Float32Array.from([0.25, 3.4e38, -0]) }],
  ['scalar', { shape: [], data: Float32Array.from([7]) }],
  ['empty', { shape: [0, 4], data: new Float32Array(0) }],
]);

describe('encodeSafetensors / decodeSafetensors', () => {
  it('round-trips tensors, shapes and metadata', () => {
    const bytes = encodeSafetensors(tensors, { nnx_model: 'm' });
    const decoded = decodeSafetensors(bytes);
    expect(decoded.metadata).toEqual({ nnx_model: 'm' });
    expect([...decoded.tensors.keys()]).toEqual(['dense/kernel', 'dense/bias', 'scalar', 'empty']);
    for (const [name, tensor] of tensors) {
      expect(decoded.tensors.get(name)!.shape).toEqual(tensor.shape);
      expect(decoded.tensors.get(name)!.data).toEqual(tensor.data);
    }
  });

  it('writes a little-endian length and a space-padded header aligned to 8 bytes', () => {
    const bytes = encodeSafetensors(tensors);
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
    expect(header).toMatch(/^\{.*\} *$/);
    expect(JSON.parse(header)['dense/bias']).toEqual({ dtype: 'F32', shape: [3], data_offsets: [24, 36] });
    expect(bytes.length).toBe(8 + headerLength + 4 * (6 + 3 + 1));
  });

  it('reads a file written by another tool: unpadded header, data out of order, at an unaligned offset', () => {
    const header = {
      b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    };
    const file = rawFile(header, f32Bytes([1, 2, 3]));
    const unaligned = new Uint8Array(file.length + 1);
    unaligned.set(file, 1);
    const decoded = decodeSafetensors(unaligned.subarray(1));
    expect([...decoded.tensors.keys()]).toEqual(['a', 'b']);
    expect(decoded.tensors.get('a')!.data).toEqual(Float32Array.from([1, 2]));
    expect(decoded.tensors.get('b')!.data).toEqual(Float32Array.from([3]));
    expect(decoded.metadata).toEqual({});
  });

  it('copies the data out of a pooled Node Buffer', () => {
    const bytes = encodeSafetensors(tensors);
    const pooled = Buffer.from(bytes); // small Buffers share Node's pool, at a non-zero offset
    expect(decodeSafetensors(pooled).tensors.get('dense/kernel')!.data).toEqual(
      tensors.get('dense/kernel')!.data,
    );
  });

  it('refuses to encode a tensor whose data does not fit its shape', () => {
    const bad = new Map([['w', { shape: [2, 2], data: new Float32Array(3) }]]);
    expect(() => encodeSafetensors(bad)).toThrow("tensor 'w' has 3 values but its shape [2,2] needs 4");
  });
});

describe('decodeSafetensors rejects corrupt files', () => {
  const ok = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };

  const cases: [string, Uint8Array, string | RegExp][] = [
    [
      'a file shorter than the length prefix',
      new Uint8Array(5),
      'safetensors file is truncated: 5 bytes, too short for the 8-byte header length',
    ],
    [
      'a header longer than the file',
      rawFile(ok, f32Bytes([1, 2]), 1000),
      /safetensors file is truncated: the header declares 1000 bytes but only \d+ follow the length/,
    ],
    [
      'an absurd header length',
      rawFile(ok, new Uint8Array(), 2 ** 40),
      /header length 1099511627776 exceeds the 100000000-byte limit/,
    ],
    ['header text that is not JSON', rawFile('{"w": {'), /^safetensors header is not valid JSON: /],
    ['a header that is not an object', rawFile('[1, 2]'), "safetensors header does not start with '{'"],
    [
      'a dtype other than F32',
      rawFile({ w: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)),
      `safetensors tensor 'w': dtype "F16" is not supported; nnx reads only F32`,
    ],
    [
      'offsets past the end of the data',
      rawFile(ok, f32Bytes([1])),
      "safetensors tensor 'w': data_offsets [0, 8] lie outside the 4-byte data section",
    ],
    [
      'offsets in the wrong order',
      rawFile({ w: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, f32Bytes([1, 2, 3])),
      "safetensors tensor 'w': data_offsets [8, 4] lie outside the 12-byte data section",
    ],
    [
      'offsets that are not a pair of integers',
      rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 'x'] } }, f32Bytes([1, 2])),
      `safetensors tensor 'w': data_offsets [0,"x"] is not a pair of non-negative integers`,
    ],
    [
      'offsets whose span does not fit the shape',
      rawFile({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32Bytes([1, 2])),
      "safetensors tensor 'w': data_offsets [0, 8] span 8 bytes but shape [3] of F32 needs 12",
    ],
    [
      'a malformed shape',
      rawFile({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 8] } }, f32Bytes([1, 2])),
      "safetensors tensor 'w': shape [-1] is not a list of non-negative integers",
    ],
    [
      'overlapping tensors',
      rawFile(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
        },
        f32Bytes([1, 2, 3]),
      ),
      "safetensors tensors 'a' [0, 8] and 'b' [4, 12] overlap",
    ],
    [
      'a tensor entry that is not an object',
      rawFile({ w: 3 }),
      "safetensors tensor 'w': its header entry is not an object",
    ],
    [
      'non-string metadata',
      rawFile({ __metadata__: { epochs: 3 } }),
      "safetensors __metadata__ entry 'epochs' is not a string",
    ],
  ];

  it.each(cases)('%s', (_, bytes, message) => {
    let thrown: unknown;
    try {
      decodeSafetensors(bytes);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SafetensorsError);
    if (typeof message === 'string') expect((thrown as Error).message).toBe(message);
    else expect((thrown as Error).message).toMatch(message);
  });

  it('refuses what the reference implementation refuses: bytes after the data, a gap, a BOM', () => {
    const one = { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } };
    expect(() => decodeSafetensors(rawFile(one, f32Bytes([1, 2])), 'w.safetensors')).toThrow(
      new SafetensorsError(
        'w.safetensors: safetensors file has 4 bytes after the data its tensors declare (4 of 8)',
      ),
    );
    const gap = { a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } };
    expect(() => decodeSafetensors(rawFile(gap, f32Bytes([1, 2])))).toThrow(
      "safetensors tensor 'a' starts at byte 4 of the data section, not at 0 where the previous one ends",
    );
    expect(() =>
      decodeSafetensors(rawFile(`\ufeff${JSON.stringify(one)}`, f32Bytes([1])), 'bom.safetensors'),
    ).toThrow(
      "bom.safetensors: safetensors header does not start with '{' (it starts with a UTF-8 byte-order mark)",
    );
    expect(() => decodeSafetensors(rawFile(` ${JSON.stringify(one)}`, f32Bytes([1])))).toThrow(
      "safetensors header does not start with '{'",
    );
  });

  it('refuses NaN and infinite weights, naming the tensor and the file', () => {
    const two = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    expect(() => decodeSafetensors(rawFile(two, f32Bytes([1, Number.NaN])), 'nan.safetensors')).toThrow(
      "nan.safetensors: safetensors tensor 'w' holds NaN at index 1; weights must be finite",
    );
    expect(() => decodeSafetensors(rawFile(two, f32Bytes([-Infinity, 0])))).toThrow(
      "safetensors tensor 'w' holds -Infinity at index 0",
    );
  });

  it('names the file in every error when given its path, and never prints undefined', () => {
    const files = [
      new Uint8Array(3),
      rawFile('{"a": 1}'),
      rawFile('nope'),
      rawFile({}, new Uint8Array(), 1 << 30),
    ];
    for (const bytes of files) {
      const error = (() => {
        try {
          decodeSafetensors(bytes, 'bad.safetensors');
        } catch (e) {
          return e as Error;
        }
      })();
      expect(error).toBeInstanceOf(SafetensorsError);
      expect(error!.message).toMatch(/^bad\.safetensors: safetensors /);
      expect(error!.message).not.toContain('undefined');
    }
  });
});
