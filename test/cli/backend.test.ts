/**
 * `--backend` on the command line: iris trained, evaluated and predicted on the wasm backend
 * (weights written on wasm load on WebGPU), and the one-line errors for what the wasm backend
 * cannot give.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { encodeNpy } from '../../src/data/index.js';
import { jsonLines, nnxc, tempDir, writeFiles } from './run-in-process.js';
import { createForCommand } from '../../src/cli/devices.js';
import { compile } from '../../src/compile.js';
import { isCpuAdapter } from '../../src/runtime/choose-backend.js';
import { requestDevice } from '../../src/runtime/index.js';

describe('nnxc --backend', () => {
  it('trains iris on wasm (29 of 30 test flowers), evaluates it there, predicts on wasm and WebGPU', async () => {
    const dir = tempDir();
    const weights = join(dir, 'iris.safetensors');
    const r = await nnxc(['train', 'examples/iris.nnx', '--json', '--save', weights, '--backend', 'wasm']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const final = jsonLines(r.stdout).pop()!;
    expect(final).toMatchObject({ final: true, model: 'Iris', backend: 'wasm', epochs: 100 });
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
    expect(jsonLines(e.stdout)[0]).toMatchObject({ backend: 'wasm', accuracy: final['test_accuracy'] });
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
      expect(p.stdout).toMatch(
        new RegExp(`^backend: ${backend}, .*\n0: setosa .*\n1: versicolor .*\n2: virginica `),
      );
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
    const threads = await nnxc(['train', 'examples/xor.nnx', '--backend', 'webgpu', '--threads', '2']);
    expect(threads.stderr).toContain('--threads is for the wasm backend; give --backend wasm or auto\n');
  });

  it('trains a model with augmentation on --backend wasm, and auto takes wasm for it on a CPU adapter', async () => {
    const dir = writeFiles({
      'shift.nnx': `model C(x: [28, 28, 1]) -> (y: [10]) { y = Dense(10, activation: softmax)(Flatten()(x)) }
train C { data: mnist, loss: sparse_categorical_crossentropy, batch: 8, epochs: 1, augment: [shift(pixels: 1)] }
`,
    });
    const file = join(dir, 'shift.nnx');
    const wasm = await nnxc(['train', file, '--limit', '16', '--backend', 'wasm']);
    expect(wasm.code).toBe(0);
    expect(wasm.stderr).not.toContain('error');
    const small = compile(
      `model C(x: [6, 6, 1]) -> (y: [2]) { y = Dense(2)(Flatten()(Conv2D(2, 3)(x))) }
train C { data: mnist, loss: mse, batch: 2, augment: [shift(pixels: 1)] }
`,
      { wasm: true },
    ).compiled!.spec;
    const { model, backendLine } = await createForCommand(small, { backend: 'auto' });
    model.destroy();
    expect(backendLine).not.toContain('cannot run');
    expect(backendLine).toMatch(
      isCpuAdapter(await requestDevice()) ? /^backend: wasm, / : /^backend: webgpu, /,
    );
  });

  it('refuses --threads 2 where there is no SharedArrayBuffer, saying what is missing', async () => {
    vi.stubGlobal('SharedArrayBuffer', undefined);
    try {
      const r = await nnxc(['train', 'examples/xor.nnx', '--threads', '2']);
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(
        'nnxc: --threads 2 needs SharedArrayBuffer, which this JavaScript engine lacks; run Node.js without --no-harmony-sharedarraybuffer, or give --threads 1',
      );
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('says once which backend runs a model', async () => {
    const xor = await nnxc(['train', 'examples/xor.nnx', '--epochs', '1', '--folds', '2']);
    expect(xor.code).toBe(0);
    const said = xor.stdout.split('\n').filter((l) => l.startsWith('backend: '));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^backend: (wasm, CPU \(WebAssembly SIMD128, 1 thread\)|webgpu, .+)$/);
  });
});
