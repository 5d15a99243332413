/** `nnxc fmt FILE [--check]`, through the CLI's `run` with captured output. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';

async function nnxc(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, { out: (s) => (out += s), err: (s) => (err += s), isTTY: false });
  return { code, out, err };
}

describe('nnxc fmt', () => {
  it('--check lists an unformatted file; without it the file is rewritten, then passes', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'nnx-fmt-')), 'm.nnx');
    writeFileSync(path, 'sequential M(x:[2]){Dense(1)}  # one layer\n');
    expect(await nnxc('fmt', path, '--check')).toEqual({ code: 1, out: `${path}: not formatted\n`, err: '' });
    expect(await nnxc('fmt', path)).toEqual({ code: 0, out: `formatted ${path}\n`, err: '' });
    expect(readFileSync(path, 'utf8')).toBe('sequential M(x: [2]) {\n  Dense(1) # one layer\n}\n');
    expect(await nnxc('fmt', '--check', path)).toEqual({ code: 0, out: '', err: '' });
  });

  it('leaves a file with syntax errors alone and prints them', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'nnx-fmt-')), 'bad.nnx');
    writeFileSync(path, 'model (\n');
    const r = await nnxc('fmt', path);
    expect(r.code).toBe(1);
    expect(r.err).toContain('[E0002]');
    expect(readFileSync(path, 'utf8')).toBe('model (\n');
  });
});
