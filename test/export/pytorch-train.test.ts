/**
 * `nnxc export --to pytorch` end to end: the directory it writes, train.py over 2 processes
 * (DDP, gloo) against one process on the same global batches (and over 3 on 4 samples, which
 * pads with masked samples), nnx-trained weights into train.py and torchrun's result back into
 * nnxc evaluate and initFrom, and a non-empty directory refused.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { compile } from '../../src/compile.js';
import { initFromValues } from '../../src/runtime/init-from.js';
import { decodeSafetensors } from '../../src/runtime/safetensors.js';
import { maxAbsDiff } from './fixtures.js';
import { pythonEnv, runPython } from './torch.js';

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

  it('pads 4 samples over 3 processes with masked samples, not repeats: the weights of one process', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'nnx-pt-')), 'xor');
    expect(await run(['export', 'examples/xor.nnx', '--to', 'pytorch', '-o', dir], io().io)).toBe(0);
    const common = ['--batch', '3', '--epochs', '5'];
    runPython(['train.py', '--workers', '3', ...common, '--rank-weights', join(dir, 'rank')], dir, 180_000);
    runPython(['train.py', ...common, '--out', join(dir, 'one.safetensors')], dir);
    const read = (f: string) => decodeSafetensors(readFileSync(join(dir, f))).tensors;
    const one = read('one.safetensors');
    const ranks = [0, 1, 2].map((r) => read(`rank.${r}.safetensors`));
    for (const [name, t] of one) {
      for (const r of ranks) expect(r.get(name)!.data).toEqual(ranks[0]!.get(name)!.data);
      // Equal within f32 round-off: each sample counted once, as in one process.
      expect(maxAbsDiff(ranks[0]!.get(name)!.data, t.data)).toBeLessThan(1e-6);
    }
  }, 240_000);

  it("starts train.py from nnx-trained weights; torchrun's result is read by nnxc evaluate and initFrom", async () => {
    const root = mkdtempSync(join(tmpdir(), 'nnx-pt-'));
    const dir = join(root, 'iris');
    const nnxWeights = join(root, 'nnx.safetensors');
    const evaluate = async (weights: string) => {
      const cli = io();
      expect(await run(['evaluate', 'examples/iris.nnx', '--weights', weights, '--json'], cli.io)).toBe(0);
      return JSON.parse(cli.out.join('')) as { split: string; loss: number; accuracy: number };
    };
    /** The test-split line train.py prints (torchrun prefixes each line with its rank). */
    const torchTest = (out: string) => {
      const line = out.split('\n').find((l) => l.includes('{"test"'))!;
      return (JSON.parse(line.slice(line.indexOf('{'))) as { test: { loss: number; accuracy: number } }).test;
    };
    expect(
      await run(['train', 'examples/iris.nnx', '--epochs', '5', '--save', nnxWeights, '--json'], io().io),
    ).toBe(0);
    expect(await run(['export', 'examples/iris.nnx', '--to', 'pytorch', '-o', dir], io().io)).toBe(0);

    // train.py reads nnx's file as it is: no epochs, its own test metrics = nnx's, the same bytes out.
    const same = join(root, 'same.safetensors');
    const start = torchTest(
      runPython(['train.py', '--weights', nnxWeights, '--epochs', '0', '--out', same], dir),
    );
    const nnxStart = await evaluate(nnxWeights);
    expect(nnxStart.split).toBe('test');
    expect(start.accuracy).toBe(nnxStart.accuracy);
    expect(Math.abs(start.loss - nnxStart.loss)).toBeLessThan(1e-5);
    const original = decodeSafetensors(readFileSync(nnxWeights)).tensors;
    for (const [name, t] of decodeSafetensors(readFileSync(same)).tensors) {
      expect(t.data).toEqual(original.get(name)!.data);
    }

    // torchrun, 2 processes (gloo): identical ranks; the trained file evaluates in nnx as in torch.
    const trained = join(root, 'trained.safetensors');
    const args = ['--nproc_per_node', '2', '--redirects', '1', '--tee', '1', 'train.py'];
    const rank = join(root, 'rank');
    const out = execFileSync(
      'torchrun',
      [...args, '--weights', nnxWeights, '--epochs', '3', '--out', trained, '--rank-weights', rank],
      { cwd: dir, env: pythonEnv(), encoding: 'utf8', timeout: 180_000 },
    );
    const torchEnd = torchTest(out);
    const nnxEnd = await evaluate(trained);
    console.log(
      `iris: nnx-trained ${nnxStart.accuracy}, after torchrun ${torchEnd.accuracy} (nnx: ${nnxEnd.accuracy})`,
    );
    expect(nnxEnd.accuracy).toBe(torchEnd.accuracy);
    expect(Math.abs(nnxEnd.loss - torchEnd.loss)).toBeLessThan(1e-5);
    const [r0, r1] = [0, 1].map((r) => decodeSafetensors(readFileSync(`${rank}.${r}.safetensors`)).tensors);
    const file = decodeSafetensors(readFileSync(trained));
    for (const [name, t] of file.tensors) {
      expect(r0!.get(name)!.data).toEqual(t.data);
      expect(r1!.get(name)!.data).toEqual(t.data);
    }
    // initFrom takes it by nnx's names, every parameter, unchanged.
    const path = 'examples/iris.nnx';
    const spec = compile(readFileSync(path, 'utf8'), { path }).compiled!.spec;
    const loaded = initFromValues(spec.params, file, 'initFrom');
    expect(loaded.layout).toBe('nnx');
    expect(loaded.kept).toEqual([]);
    for (const [name, v] of loaded.values) expect(v).toEqual(file.tensors.get(name)!.data);
    expect(
      maxAbsDiff(file.tensors.get('dense_1/kernel')!.data, original.get('dense_1/kernel')!.data),
    ).toBeGreaterThan(1e-4);
  }, 300_000);

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
