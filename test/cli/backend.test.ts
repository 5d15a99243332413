/**
 * `--backend` on the command line: iris trained, evaluated and predicted on the wasm backend
 * (weights written on wasm load on WebGPU), and the one-line errors for what the wasm backend
 * cannot give.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/data/index.js';
import { jsonLines, nnxc, tempDir } from './run-in-process.js';

describe('nnxc --backend', () => {
  it('trains iris on wasm (29 of 30 test flowers), evaluates it there, predicts on wasm and WebGPU', async () => {
    const dir = tempDir();
    const weights = join(dir, 'iris.safetensors');
    const r = await nnxc(['train', 'examples/iris.nnx', '--json', '--save', weights, '--backend', 'wasm']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const final = jsonLines(r.stdout).pop()!;
    expect(final).toMatchObject({ final: true, model: 'Iris', epochs: 100 });
    expect(final['test_accuracy']).toBeGreaterThanOrEqual(29 / 30);
    const e = await nnxc([
      'evaluate',
      'examples/iris.nnx',
      '--weights',
      weights,
      '--json',
      '--backend',
      'wasm',
    ]);
    expect(e.code).toBe(0);
    expect(jsonLines(e.stdout)[0]!['accuracy']).toBe(final['test_accuracy']);
    const flowers = Float32Array.from([5.1, 3.5, 1.4, 0.2, 7.0, 3.2, 4.7, 1.4, 6.3, 3.3, 6.0, 2.5]);
    writeFileSync(join(dir, 'flowers.npy'), encodeNpy([3, 4], flowers));
    for (const backend of ['wasm', 'webgpu']) {
      const p = await nnxc([
        'predict',
        'examples/iris.nnx',
        '--weights',
        weights,
        '--input',
        join(dir, 'flowers.npy'),
        '--backend',
        backend,
      ]);
      expect(p.code).toBe(0);
      expect(p.stdout).toMatch(/^0: setosa .*\n1: versicolor .*\n2: virginica /);
    }
  });

  it('nnxc devices lists the CPU backend after the adapters', async () => {
    const r = await nnxc(['devices']);
    expect(r.code).toBe(0);
    const cores = Math.min(availableParallelism(), 16);
    expect(r.stdout).toContain(
      `cpu: WebAssembly backend (--backend wasm)\n    SIMD128: yes   threads: up to ${cores} (--threads N; 1 by default)`,
    );
  });

  it('says what it cannot do in one line', async () => {
    const bad = await nnxc(['train', 'examples/xor.nnx', '--backend', 'cpu']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("--backend must be webgpu, wasm or auto, got 'cpu'");
    const threads = await nnxc(['train', 'examples/xor.nnx', '--threads', '2']);
    expect(threads.stderr).toContain('--threads is for the wasm backend; give --backend wasm or auto too');
  });
});
