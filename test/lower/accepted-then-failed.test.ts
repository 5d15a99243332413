/**
 * Programs that `check` used to accept (or drop silently) though they were mistakes: each is
 * now a diagnostic at the source, or, for `repeat 0`, a model that exists.
 */
import { describe, expect, it } from 'vitest';
import { check } from '../../src/compile.js';

function codesAt(text: string): { code: string; at: string }[] {
  return check(text, { path: 'm.nnx' }).diagnostics.map((d) => ({
    code: d.code,
    at: text.slice(d.span.start, d.span.end),
  }));
}

describe('check finds what later stages used to trip on', () => {
  it('keeps a model whose body unrolls to nothing', () => {
    const result = check('sequential M(x: [2]) {\n  repeat 0 { Dense(2) }\n}\n', { path: 'm.nnx' });
    expect(result.diagnostics).toEqual([]);
    expect([...result.models.keys()]).toEqual(['M']);
  });

  it('refuses zero and over-large dimensions at the shape', () => {
    expect(codesAt('sequential M(x: [0]) {\n  Dense(1)\n}\n')).toEqual([{ code: 'E0201', at: '[0]' }]);
    expect(codesAt('sequential M(x: [65536, 65536]) {\n  Dense(1)\n}\n')).toEqual([
      { code: 'E0201', at: '[65536, 65536]' },
    ]);
    expect(codesAt('sequential M(x: [8]) {\n  Dense(70000)\n  Dense(70000)\n}\n')).toEqual([
      { code: 'E0201', at: 'Dense(70000)' },
    ]);
  });

  it('refuses a non-finite number', () => {
    const text =
      'sequential M(x: [2]) {\n  Dense(1)\n}\ntrain M {\n  data: xor\n  loss: mse\n  optimizer: SGD(lr: 1e999)\n}\n';
    expect(codesAt(text)).toEqual([{ code: 'E0105', at: '1e999' }]);
  });

  it('refuses a duplicate input and a second let of one name', () => {
    expect(codesAt('model M(x: [2], x: [2]) -> (y: [1]) {\n  y = Dense(1)(x)\n}\n')).toEqual([
      { code: 'E0102', at: 'x' },
    ]);
    const twice = 'model M(x: [2]) -> (y: [1]) {\n  let d = Dense(1)\n  let d = Dense(3)\n  y = d(x)\n}\n';
    const found = check(twice, { path: 'm.nnx' }).diagnostics;
    expect(found.map((d) => d.code)).toEqual(['E0102']);
    expect(found[0]!.span.start).toBe(twice.lastIndexOf('let d') + 4);
  });

  it('says a file is empty', () => {
    expect(codesAt('')).toEqual([{ code: 'W0103', at: '' }]);
    expect(check('', { path: 'm.nnx' }).diagnostics[0]!.message).toBe('the file is empty');
  });
});
