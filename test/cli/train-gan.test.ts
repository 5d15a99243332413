/**
 * nnxc on a gan block: `train` alternates the two steps over MNIST digits (on WebGPU, and on
 * wasm with the same losses), prints both losses per epoch and writes an image grid of generated samples every epoch (also for the
 * convolutional example), and resumes from a
 * checkpoint where the uninterrupted run would be; `compile` writes the GAN's module, which
 * type-checks under strict tsc against the runtime's entry point.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import { isCpuAdapter } from '../../src/runtime/choose-backend.js';
import { requestDevice } from '../../src/runtime/index.js';
import { jsonLines, nnxc, writeFiles } from './run-in-process.js';

const TINY = `sequential G(z: [4]) {
  Dense(784, activation: tanh)
  Reshape([28, 28, 1])
}
sequential D(x: [28, 28, 1]) {
  Flatten()
  Dense(1, activation: sigmoid)
}
gan Tiny {
  generator: G
  discriminator: D
  data: mnist
  data_range: [-1, 1]
  batch: 32
  epochs: 2
}
`;

describe('nnxc train on a gan block', () => {
  it('reports a generator whose samples do not fit the discriminator at its line and column', async () => {
    const dir = writeFiles({ 'bad.nnx': TINY.replace('  Reshape([28, 28, 1])\n', '') });
    const r = await nnxc(['train', join(dir, 'bad.nnx')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'bad.nnx:10:18: error: the generator `G` makes samples of shape [784], but the discriminator `D` takes [28,28,1] [E0502]',
    );
  });

  it('trains on 96 digits for two epochs and writes a 3×3 grid of 28×28 samples each epoch', async () => {
    const dir = writeFiles({ 'tiny.nnx': TINY });
    const out = join(dir, 'grids');
    const r = await nnxc([
      'train',
      join(dir, 'tiny.nnx'),
      '--limit',
      '96',
      '--grid',
      '3',
      '--out-dir',
      out,
      '--json',
    ]);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines.map((l) => l['epoch'])).toEqual([1, 2, undefined]);
    for (const l of lines.slice(0, 2)) {
      expect(Number.isFinite(l['d_loss'])).toBe(true);
      expect(Number.isFinite(l['g_loss'])).toBe(true);
    }
    for (const epoch of [1, 2]) {
      const png = pngjs.PNG.sync.read(readFileSync(join(out, `epoch-${epoch}.png`)));
      // Three 28-pixel images and four 2-pixel borders across and down.
      expect([png.width, png.height]).toEqual([3 * 30 + 2, 3 * 30 + 2]);
      const grey = new Set<number>();
      for (let i = 0; i < png.data.length; i += 4) grey.add(png.data[i]!);
      expect(grey.size).toBeGreaterThan(50); // samples, not a blank picture
    }
    expect(lines[2]).toMatchObject({ final: true, model: 'Tiny', epochs: 2 });

    // The same run on the wasm backend (two threads): the same losses within f32 rounding, as
    // the same samples, shuffles and noise go through kernels that sum in another order.
    const wasm = await nnxc([
      'train',
      join(dir, 'tiny.nnx'),
      '--limit',
      '96',
      '--grid',
      '3',
      '--out-dir',
      join(dir, 'wasm-grids'),
      '--json',
      '--backend',
      'wasm',
      '--threads',
      '2',
    ]);
    expect(wasm.stderr).toBe('');
    const onWasm = jsonLines(wasm.stdout);
    expect(onWasm.map((l) => l['epoch'])).toEqual([1, 2, undefined]);
    for (let i = 0; i < 2; i++)
      for (const loss of ['d_loss', 'g_loss'])
        expect(Math.abs((onWasm[i]![loss] as number) - (lines[i]![loss] as number))).toBeLessThan(1e-3);
    expect(readdirSync(join(dir, 'wasm-grids'))).toEqual(['epoch-1.png', 'epoch-2.png']);
  });

  it('says once which backend it runs on: under auto, wasm on a CPU adapter', async () => {
    const dir = writeFiles({ 'tiny.nnx': TINY });
    const r = await nnxc([
      'train',
      join(dir, 'tiny.nnx'),
      '--limit',
      '96',
      '--epochs',
      '1',
      '--out-dir',
      dir,
    ]);
    expect(r.code).toBe(0);
    const said = r.stdout.split('\n').filter((l) => l.startsWith('backend: '));
    const kind = isCpuAdapter(await requestDevice()) ? 'wasm' : 'webgpu';
    expect(said).toEqual([expect.stringMatching(new RegExp(`^backend: ${kind}, \\S`))]);
    // The one progress display of nnxc train, as a model's run prints it.
    expect(r.stdout).toMatch(/^epoch 1\/1 {2}d_loss \d+\.\d{4} {2}g_loss \d+\.\d{4}$/m);
    expect(r.stdout).toMatch(
      /^done in [\d.]+s: epochs 1 {2}d_loss \d+\.\d{4} {2}g_loss \d+\.\d{4} {2}seconds /m,
    );
  });

  it('trains the convolutional examples/dcgan_mnist.nnx (BatchNormalization, Dropout, UpSampling2D) a few steps', async () => {
    const out = join(writeFiles({}), 'grids');
    const r = await nnxc([
      'train',
      'examples/dcgan_mnist.nnx',
      '--limit',
      '128',
      '--epochs',
      '1',
      '--grid',
      '2',
      '--out-dir',
      out,
      '--json',
    ]);
    expect(r.code).toBe(0);
    const [epoch, final] = jsonLines(r.stdout);
    expect(Number.isFinite(epoch!['d_loss'])).toBe(true);
    expect(Number.isFinite(epoch!['g_loss'])).toBe(true);
    expect(final).toMatchObject({ final: true, model: 'Digits', epochs: 1 });
    const png = pngjs.PNG.sync.read(readFileSync(join(out, 'epoch-1.png')));
    expect([png.width, png.height]).toEqual([2 * 30 + 2, 2 * 30 + 2]);
  });

  it('refuses evaluate and predict on a gan block, saying where its samples come from', async () => {
    for (const [command, ...rest] of [['evaluate'], ['predict', '--input', 'x.npy']]) {
      const r = await nnxc([command!, 'examples/gan_mnist.nnx', '--weights', 'w.safetensors', ...rest]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `${command} runs the model of a train block, and examples/gan_mnist.nnx has a gan block instead: ` +
          'nnxc train writes its samples as image grids, and NnxGan.generate makes them in code',
      );
    }
  });

  it('resumes from a checkpoint where the uninterrupted run would be, numbering the grids on', async () => {
    const dir = writeFiles({ 'tiny.nnx': TINY });
    const train = (...args: string[]) =>
      nnxc(['train', join(dir, 'tiny.nnx'), '--limit', '96', '--grid', '2', '--json', ...args]);
    const full = await train(
      '--epochs',
      '3',
      '--out-dir',
      join(dir, 'full'),
      '--save',
      join(dir, 'full.safetensors'),
    );
    expect(full.code).toBe(0);
    const checkpoint = join(dir, 'c.safetensors');
    const first = await train('--epochs', '2', '--out-dir', join(dir, 'first'), '--checkpoint', checkpoint);
    expect(first.code).toBe(0);
    const resumed = await train(
      '--epochs',
      '3',
      '--out-dir',
      join(dir, 'resumed'),
      '--resume',
      checkpoint,
      '--save',
      join(dir, 'resumed.safetensors'),
    );
    expect(resumed.stderr).toBe('');
    const [fullLines, lines] = [jsonLines(full.stdout), jsonLines(resumed.stdout)];
    expect(lines.map((l) => l['epoch'])).toEqual([3, undefined]);
    const losses = ({ d_loss, g_loss }: Record<string, unknown>) => ({ d_loss, g_loss });
    expect(losses(lines[0]!)).toEqual(losses(fullLines[2]!));
    expect(lines[1]).toMatchObject({ final: true, epochs: 3, ...losses(fullLines[3]!) });
    // Weights and optimizer state bit for bit, and the grid of epoch 3 drawn from them.
    expect(readFileSync(join(dir, 'resumed.safetensors'))).toEqual(
      readFileSync(join(dir, 'full.safetensors')),
    );
    expect(readdirSync(join(dir, 'resumed'))).toEqual(['epoch-3.png']);
    expect(readFileSync(join(dir, 'resumed', 'epoch-3.png'))).toEqual(
      readFileSync(join(dir, 'full', 'epoch-3.png')),
    );

    const weightsOnly = await train(
      '--resume',
      join(dir, 'full.safetensors'),
      '--out-dir',
      join(dir, 'again'),
    );
    expect(weightsOnly.code).toBe(1);
    expect(weightsOnly.stderr).toContain('holds weights but no training state; it cannot be resumed from');
    const every = await train('--checkpoint-every', '2');
    expect(every.code).toBe(2);
    expect(every.stderr).toContain('--checkpoint-every needs --checkpoint PATH');
  });

  it('compiles to a module that type-checks with tsc --noEmit (strict)', async () => {
    const root = new URL('../../', import.meta.url).pathname;
    const outDir = join(root, 'test/.out');
    mkdirSync(outDir, { recursive: true });
    const dir = writeFiles({ 'tiny.nnx': TINY });
    const module = join(outDir, 'gan_tiny.ts');
    const r = await nnxc(['compile', join(dir, 'tiny.nnx'), '-o', module]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/dispatches per discriminator \+ generator step/);
    expect(readFileSync(module, 'utf8')).toContain(
      "import { NnxGan, type CreateModelOptions, type GanSpec } from 'nnx/runtime';",
    );
    const tsconfig = join(outDir, 'tsconfig.gan.json');
    writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: '../../tsconfig.json',
        compilerOptions: { noEmit: true, rootDir: '../..' },
        include: ['./gan_tiny.ts'],
      }),
    );
    // Throws with tsc's messages when the module does not type-check.
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], {
      encoding: 'utf8',
    });
  });
});
