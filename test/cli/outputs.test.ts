/**
 * Output paths: a temporary a killed run left beside a checkpoint is removed by the next run on
 * that path, and `--save`, `--checkpoint` and `-o` targets that cannot be written fail before
 * any training or prediction.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/data/index.js';
import { nnxc, writeFiles } from './run-in-process.js';

const XOR =
  'sequential M(x: [2]) {\n  Dense(1, activation: sigmoid)\n}\ntrain M {\n  data: xor\n  loss: mse\n  epochs: 1\n}\n';

/** The pid of a process that has exited: no running process owns it (until the system reuses it). */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

describe('output paths', () => {
  it("removes a killed run's temporaries beside --checkpoint and --save, and keeps a live one's", async () => {
    const dir = writeFiles({ 'm.nnx': XOR });
    const dead = deadPid();
    for (const name of [
      `c.safetensors.tmp-${dead}`,
      `w.safetensors.tmp-${dead}`,
      `c.safetensors.tmp-${process.ppid}`,
    ])
      writeFileSync(join(dir, name), 'partial');
    const r = await nnxc([
      'train',
      join(dir, 'm.nnx'),
      '--checkpoint',
      join(dir, 'c.safetensors'),
      '--save',
      join(dir, 'w.safetensors'),
    ]);
    expect(r.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([
      'c.safetensors',
      `c.safetensors.tmp-${process.ppid}`,
      'm.nnx',
      'w.safetensors',
    ]);
  });

  it.each([
    ['--save', 'missing/w.safetensors', 'the folder {dir}/missing does not exist'],
    ['--checkpoint', 'sub', 'it is a folder'],
  ])('refuses %s %s before training', async (flag, target, why) => {
    const dir = writeFiles({ 'm.nnx': XOR });
    mkdirSync(join(dir, 'sub'));
    const r = await nnxc(['train', join(dir, 'm.nnx'), flag, join(dir, target)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `nnxc: error: cannot write ${flag} ${join(dir, target)}: ${why.replace('{dir}', dir)}\n`,
    );
    expect(r.stdout).not.toMatch(/epoch/);
  });

  it('refuses predict -o into a missing folder before predicting', async () => {
    const dir = writeFiles({ 'm.nnx': XOR });
    const weights = join(dir, 'w.safetensors');
    expect((await nnxc(['train', join(dir, 'm.nnx'), '--save', weights])).code).toBe(0);
    const x = join(dir, 'x.npy');
    writeFileSync(x, encodeNpy([1, 2], Float32Array.from([0, 1])));
    const out = join(dir, 'none', 'p.npy');
    const r = await nnxc(['predict', join(dir, 'm.nnx'), '--weights', weights, '--input', x, '-o', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `nnxc: error: cannot write -o ${out}: the folder ${join(dir, 'none')} does not exist\n`,
    );
    expect(existsSync(out)).toBe(false);
  });
});
