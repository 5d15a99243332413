/**
 * Diagnostics stay bounded and printable whatever the input: a binary file is one error, at
 * most MAX_RENDERED are printed, control bytes never reach the terminal, tabs keep the caret
 * under its column, and a long line is cut around the caret. Recurrent time steps count
 * against the unroll budget.
 */
import { describe, expect, it } from 'vitest';
import { check } from '../../src/compile.js';
import { MAX_RENDERED, error, renderDiagnostics } from '../../src/util/diagnostics.js';

const at = (start: number, end = start + 1) => ({ start, end });

describe('bounded diagnostics', () => {
  it('a binary file is one error at its first NUL byte', () => {
    const text = 'sequential M(\u0000\u0001 garbage )))) \u0000';
    const { diagnostics } = check(text, { path: 'b.nnx' });
    expect(diagnostics.map((d) => [d.code, d.message, d.span.start])).toEqual([
      ['E0001', 'this is a binary file, not .nnx source text', 13],
    ]);
    expect(check('\uFFFD'.repeat(8), { path: 'b.nnx' }).diagnostics[0]!.notes).toEqual([
      { message: 'it holds 8 bytes that are not UTF-8' },
    ]);
  });

  it(`prints at most ${MAX_RENDERED} and counts the rest`, () => {
    const text = 'x\n'.repeat(200);
    const all = Array.from({ length: 120 }, (_, i) => error('E0002', at(2 * i), `bad ${i}`));
    const out = renderDiagnostics({ path: 'm.nnx', text }, all);
    expect(out.match(/: error: /g)).toHaveLength(MAX_RENDERED);
    expect(out.endsWith(`\n\n… and ${120 - MAX_RENDERED} more diagnostics`)).toBe(true);
  });

  it('keeps tabs before the caret and never prints control bytes', () => {
    const text = '\t\tDense(\u001b[31m, x)';
    const d = error('E0001', at(8, 10), "unexpected characters '\u001b['");
    expect(renderDiagnostics({ path: 'm.nnx', text }, [d])).toBe(
      [
        "m.nnx:1:9: error: unexpected characters '\\x1b[' [E0001]",
        '  |',
        '1 | \t\tDense(?[31m, x)',
        '  | \t\t      ^^',
      ].join('\n'),
    );
  });

  it('cuts a long line around the caret', () => {
    const text = 'a'.repeat(5000) + 'BAD' + 'b'.repeat(5000);
    const out = renderDiagnostics({ path: 'm.nnx', text }, [error('E0001', at(5000, 5003), 'bad')]);
    const [, , line, caret] = out.split('\n');
    expect(line!.length).toBeLessThan(200);
    expect(line!.indexOf('BAD')).toBe(caret!.indexOf('^^^'));
  });

  it('counts recurrent time steps against the unroll budget', () => {
    const text = 'sequential R(x: [30000, 3]) {\n  LSTM(4)\n  Dense(1)\n}\n';
    const { diagnostics } = check(text, { path: 'r.nnx' });
    expect(diagnostics.map((d) => [d.code, text.slice(d.span.start, d.span.end), d.message])).toEqual([
      [
        'E0108',
        'LSTM(4)',
        'LSTM over 30000 time steps unrolls the model past 20000 repeat iterations, block instances and time steps',
      ],
    ]);
    expect(
      check(text.replace('30000', '4294967296'), { path: 'r.nnx' }).diagnostics.map((d) => d.code),
    ).toEqual(['E0201']);
  });
});
