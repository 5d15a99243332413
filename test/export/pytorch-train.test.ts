/**
 * `nnxc export --to pytorch` end to end: the directory it writes, train.py over 2 processes
 * (DDP, gloo) against one process on the same global batches, and a non-empty directory refused.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { decodeSafetensors } from '../../src/runtime/safetensors.js';
import { maxAbsDiff } from './fixtures.js';
import { runPython } from './torch.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), isTTY: false },
    out,
    err,
  };
}

describe('nnxc export --to pytorch', () => {
  it('trains xor in 2 DDP processes to the weights of one process, in both ranks', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'nnx-pt-')), 'xor');
    const cli = io();
    expect(await run(['export', 'examples/xor.nnx', '--to', 'pytorch', '-o', dir], cli.io)).toBe(0);
    expect(cli.out.join('')).toContain('model.py, train.py, weights.safetensors, README.md');
    runPython(
      ['train.py', '--workers', '2', '--epochs', '5', '--rank-weights', join(dir, 'rank')],
      dir,
      180_000,
    );
    runPython(['train.py', '--epochs', '5', '--out', join(dir, 'one.safetensors')], dir);
    const read = (f: string) => decodeSafetensors(readFileSync(join(dir, f))).tensors;
    const [r0, r1, one] = [read('rank.0.safetensors'), read('rank.1.safetensors'), read('one.safetensors')];
    for (const [name, t] of one) {
      expect(r1.get(name)!.data).toEqual(r0.get(name)!.data);
      const diff = maxAbsDiff(r0.get(name)!.data, t.data);
      console.log(`ddp xor ${name}: max |2 processes - 1| = ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(1e-6);
    }
    // The trained file has nnx's names and shapes, so nnx's weights reader takes it.
    expect([...one.keys()]).toEqual(['dense_1/kernel', 'dense_1/bias', 'dense_2/kernel', 'dense_2/bias']);
  }, 240_000);

  it('refuses a directory that holds files, unless --force', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nnx-pt-'));
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const cli = io();
    expect(await run(['export', 'examples/xor.nnx', '--to', 'pytorch', '-o', dir], cli.io)).toBe(1);
    expect(cli.err.join('')).toBe(
      `nnxc: error: ${dir} already holds files (notes.txt); pass --force to write the export over them\n`,
    );
    expect(await run(['export', 'examples/xor.nnx', '--to', 'pytorch', '-o', dir, '--force'], io().io)).toBe(
      0,
    );
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('writes an ONNX file', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'nnx-onnx-')), 'xor.onnx');
    const cli = io();
    expect(await run(['export', 'examples/xor.nnx', '--to', 'onnx', '-o', out], cli.io)).toBe(0);
    expect(cli.out.join('')).toBe(`wrote ${out}: Xor (ONNX opset 17) with its seeded initial weights\n`);
    expect(readFileSync(out).length).toBeGreaterThan(100);
  });
});
