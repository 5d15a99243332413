import { describe, expect, it } from 'vitest';
import { F32, FunctionBody, I32, encodeModule, sleb, uleb } from '../../../src/codegen/wasm/encoder.js';

describe('wasm encoder', () => {
  it('writes LEB128 as the core specification gives it', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-64)).toEqual([0x40]);
  });

  it('encodes a module the engine validates and runs: a loop over memory calling an import', async () => {
    // out[i] = exp(a[i]) + 1 for i < n, with a at byte 0 and out at byte 64.
    const f = new FunctionBody([I32]);
    const i = f.local(I32);
    const x = f.local(F32);
    f.forRange(
      i,
      () => f.i32(0), // i starts at 0
      () => f.get(0), // and runs below n
      () => {
        f.get(i).i32(2).op(0x74).loadF32(0).set(x); // a[i], byte address i << 2
        f.get(i).i32(2).op(0x74);
        f.get(x).op(0xbb).call(0).op(0xb6).f32(1).op(0x92).storeF32(64); // f32(exp(f64 x)) + 1
      },
    );
    const bytes = encodeModule({
      imports: [{ name: 'exp', params: [0x7c], results: [0x7c] }],
      memory: { pages: 1, maxPages: 1, shared: false },
      functions: [{ body: f, results: [] }],
      exports: [{ name: 'run', index: 1 }],
    });
    expect(WebAssembly.validate(bytes)).toBe(true);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    const { instance } = await WebAssembly.instantiate(bytes, { env: { exp: Math.exp, memory } });
    const a = new Float32Array(memory.buffer, 0, 5);
    a.set([0, 1, -2, 0.5, 3]);
    (instance.exports.run as (n: number) => void)(5);
    const out = new Float32Array(memory.buffer, 64, 5);
    for (let k = 0; k < 5; k++) expect(out[k]).toBe(Math.fround(Math.fround(Math.exp(a[k]!)) + 1));
  });
});
