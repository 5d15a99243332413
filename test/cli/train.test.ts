/**
 * nnxc train on real datasets with small budgets (iris in full): the test-set accuracy in the final JSON line,
 * plain progress lines, a dataset that does not fit as a diagnostic at `data:`, CSV files with a
 * validation split, and checkpoints resumed from the command line.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { wantsColour } from '../../src/cli/progress.js';
import { encodeNpy } from '../../src/data/index.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/runtime/index.js';
import { jsonLines, nnxc, pointsCsv, tempDir, writeFiles } from './run-in-process.js';

const POINTS = (extra = '') => `sequential Points(p: [2]) {
  Dense(8, activation: relu)
  Dense(2, activation: softmax)
}

train Points {
  data: csv("points.csv", label: "side")
  loss: categorical_crossentropy
  optimizer: Adam(lr: 0.05)
  metrics: [accuracy]
  batch: 16
  epochs: 4${extra}
}
`;

describe('nnxc train', () => {
  it('trains the MNIST MLP on 600 digits and reports test_accuracy in the final JSON line', async () => {
    const r = await nnxc(['train', 'examples/mnist_mlp.nnx', '--limit', '600', '--epochs', '2', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines.map((l) => l['epoch'])).toEqual([1, 2, undefined]);
    const final = lines[2]!;
    expect(final).toMatchObject({ final: true, model: 'MnistMlp', epochs: 2 });
    // 12 Adam steps already beat chance (10%) by far on held-out digits.
    expect(final['test_accuracy']).toBeGreaterThan(0.5);
    expect(final['test_loss']).toBeLessThan(2);
    expect(final['loss']).toBeLessThan(lines[0]!['loss'] as number);
  });

  it('reproduces the iris result in full (29 of 30 test flowers), then predicts from centimetres', async () => {
    const dir = tempDir();
    const weights = join(dir, 'iris.safetensors');
    const r = await nnxc(['train', 'examples/iris.nnx', '--json', '--save', weights]);
    expect(r.code).toBe(0);
    const final = jsonLines(r.stdout).pop()!;
    expect(final).toMatchObject({ final: true, model: 'Iris', epochs: 100 });
    expect(final['test_accuracy']).toBeGreaterThanOrEqual(29 / 30);
    // Fisher's first flower of each species, as measured: the Normalization layer's statistics
    // travel in the weights, so predict needs no preprocessing.
    const flowers = Float32Array.from([5.1, 3.5, 1.4, 0.2, 7.0, 3.2, 4.7, 1.4, 6.3, 3.3, 6.0, 2.5]);
    writeFileSync(join(dir, 'flowers.npy'), encodeNpy([3, 4], flowers));
    const p = await nnxc([
      'predict',
      'examples/iris.nnx',
      '--weights',
      weights,
      '--input',
      join(dir, 'flowers.npy'),
    ]);
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(/^backend: \w+, .*\n0: setosa .*\n1: versicolor .*\n2: virginica /);
  });

  it('prints plain lines when stdout is not a terminal', async () => {
    const dir = writeFiles({ 'points.csv': pointsCsv(64), 'points.nnx': POINTS() });
    const r = await nnxc(['train', join(dir, 'points.nnx')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^epoch 1\/4 {2}loss \d\.\d{4} {2}accuracy \d\.\d{4}$/m);
    expect(r.stdout).toMatch(/^done in (?:\d+m)?[\d.]+s: epochs 4 {2}loss/m);
    expect(r.stdout).not.toContain('\x1b');
  });

  it('draws a bar sized to the terminal and keeps every epoch line, validation included', async () => {
    const dir = writeFiles({
      'points.csv': pointsCsv(400),
      'points.nnx': POINTS('\n  validation_split: 0.2'),
    });
    for (const columns of [60, 80, 200]) {
      const r = await nnxc(['train', join(dir, 'points.nnx'), '--batch', '4'], true, { columns });
      expect(r.code).toBe(0);
      // What stays on the screen: each line after its last redraw (`\r\x1b[2K` clears it).
      const screen = r.stdout.split('\n').map((line) => line.split('\r\x1b[2K').at(-1)!);
      for (let epoch = 1; epoch <= 4; epoch++)
        expect(screen).toContainEqual(
          expect.stringMatching(
            new RegExp(`^epoch ${epoch}/4  loss \\S+  accuracy \\S+  val_loss \\S+  val_accuracy \\S+  `),
          ),
        );
      expect(screen).toContainEqual(expect.stringMatching(/^done in [\d.]+s: /));
      // Every redrawn bar fits in the terminal, so it never wraps.
      const bars = r.stdout.split('\r\x1b[2K').filter((d) => /^epoch \d\/4 [█░]+ /.test(d));
      expect(bars.length, `${columns} columns`).toBeGreaterThan(0);
      for (const bar of bars) expect(bar.length).toBeLessThan(columns);
      expect(r.stdout).not.toContain('\x1b[3');
    }
  });

  it('colours the bar only when told the terminal wants colour', async () => {
    const dir = writeFiles({ 'points.csv': pointsCsv(64), 'points.nnx': POINTS() });
    const r = await nnxc(['train', join(dir, 'points.nnx')], true, { columns: 100, colour: true });
    expect(r.stdout).toMatch(/\x1b\[1mepoch 1\/4\x1b\[0m/);
    expect(wantsColour(true, {})).toBe(true);
    expect(wantsColour(true, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColour(true, { NO_COLOR: '' })).toBe(true);
    expect(wantsColour(false, {})).toBe(false);
  });

  it('says the trained weights are discarded when no --save is given', async () => {
    const dir = writeFiles({ 'points.csv': pointsCsv(64), 'points.nnx': POINTS() });
    const r = await nnxc(['train', join(dir, 'points.nnx')]);
    expect(r.stdout).toMatch(
      /\nnote: the trained weights were not kept; --save W\.safetensors keeps them\n$/,
    );
    const saved = await nnxc(['train', join(dir, 'points.nnx'), '--save', join(dir, 'w.safetensors')]);
    expect(saved.stdout).not.toContain('note:');
  });

  it('holds out validation_split of a CSV file and reports val_ metrics', async () => {
    const dir = writeFiles({
      'points.csv': pointsCsv(100),
      'points.nnx': POINTS('\n  validation_split: 0.2'),
    });
    const r = await nnxc(['train', join(dir, 'points.nnx'), '--json']);
    expect(r.stderr).toBe('');
    const epochs = jsonLines(r.stdout).filter((l) => l['epoch'] !== undefined);
    expect(epochs).toHaveLength(4);
    expect(Object.keys(epochs[0]!).sort()).toEqual(['accuracy', 'epoch', 'loss', 'val_accuracy', 'val_loss']);
    expect(epochs[3]!['val_accuracy']).toBeGreaterThan(0.7);
  });

  it('cross-validates with --folds: a model per fold, then test metrics over every sample', async () => {
    const dir = writeFiles({ 'points.csv': pointsCsv(50), 'points.nnx': POINTS() });
    const file = join(dir, 'points.nnx');
    const r = await nnxc(['train', file, '--folds', '3', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    const epochs = lines.filter((l) => l['epoch'] !== undefined);
    expect(epochs.map((l) => l['fold'])).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
    const folds = lines.filter((l) => l['fold'] !== undefined && l['epoch'] === undefined);
    expect(folds.map((l) => l['fold'])).toEqual([1, 2, 3]);
    const final = lines[lines.length - 1]!;
    expect(final).toMatchObject({ final: true, model: 'Points', folds: 3, test_samples: 50 });
    // 50 points dealt into 3 folds: tests of 17, 17 and 16 points, weighted by size.
    const accuracies = folds.map((l) => l['test_accuracy'] as number);
    const correct = [17, 17, 16].map((n, i) => Math.round(accuracies[i]! * n));
    expect(final['test_accuracy']).toBeCloseTo(correct.reduce((a, b) => a + b) / 50, 10);
    expect(final['test_accuracy']).toBeGreaterThan(0.6);
    expect(final['test_accuracy_fold_std']).toBeGreaterThanOrEqual(0);

    const plain = await nnxc(['train', file, '--folds', '2']);
    expect(plain.stdout).toMatch(/^fold 2\/2 {2}epoch 4\/4 {2}loss/m);
    expect(plain.stdout).toMatch(/^fold 1\/2 {2}done in (?:\d+m)?[\d.]+s: .*test_accuracy/m);
    expect(plain.stdout).toMatch(/^done in (?:\d+m)?[\d.]+s: folds 2 {2}test_samples 50 {2}test_loss/m);

    const saving = await nnxc(['train', file, '--folds', '2', '--save', join(dir, 'w.safetensors')]);
    expect(saving.code).toBe(2);
    expect(saving.stderr).toContain(
      '--folds trains a model per fold and keeps none of them; --save needs a single run',
    );
    const tooMany = await nnxc(['train', file, '--folds', '60']);
    expect(tooMany.code).toBe(1);
    expect(tooMany.stderr).toContain('60 folds need at least 60 samples; csv(points.csv) has 50');
  });

  it('resumes from a checkpoint where the uninterrupted run would be', async () => {
    const dir = writeFiles({ 'points.csv': pointsCsv(64), 'points.nnx': POINTS() });
    const file = join(dir, 'points.nnx');
    const checkpoint = join(dir, 'c.safetensors');
    const full = jsonLines((await nnxc(['train', file, '--json'])).stdout);
    const first = await nnxc(['train', file, '--json', '--epochs', '2', '--checkpoint', checkpoint]);
    expect(first.code).toBe(0);
    expect(existsSync(checkpoint)).toBe(true);
    const resumed = await nnxc(['train', file, '--json', '--resume', checkpoint]);
    expect(resumed.stderr).toBe('');
    const lines = jsonLines(resumed.stdout);
    expect(lines.map((l) => l['epoch'])).toEqual([3, 4, undefined]);
    expect(lines[1]).toEqual(full[3]);
  });

  it('initialises from --init-from, keeps a frozen layer as loaded, and names a misfit', async () => {
    const frozen = POINTS().replace(
      'Dense(8, activation: relu)',
      'Dense(8, activation: relu, trainable: false)',
    );
    const dir = writeFiles({ 'points.csv': pointsCsv(64), 'points.nnx': POINTS(), 'frozen.nnx': frozen });
    const [base, tuned] = [join(dir, 'base.safetensors'), join(dir, 'tuned.safetensors')];
    expect((await nnxc(['train', join(dir, 'points.nnx'), '--save', base])).code).toBe(0);
    const r = await nnxc([
      'train',
      join(dir, 'frozen.nnx'),
      '--init-from',
      base,
      '--save',
      tuned,
      '--seed',
      '7',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`initialised 4 parameters from ${base} (nnx layout)\n`);
    const [before, after] = [base, tuned].map((f) => decodeSafetensors(readFileSync(f)).tensors);
    expect(after!.get('dense_1/kernel')!.data).toEqual(before!.get('dense_1/kernel')!.data);
    expect(after!.get('dense_2/kernel')!.data).not.toEqual(before!.get('dense_2/kernel')!.data);

    const torch = join(dir, 'torch.safetensors');
    writeFileSync(
      torch,
      encodeSafetensors(new Map([['0.weight', { shape: [8, 3], data: new Float32Array(24) }]])),
    );
    const bad = await nnxc(['train', join(dir, 'points.nnx'), '--init-from', torch]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      `nnxc: error: ${torch}: initFrom: PyTorch tensor '0.weight' has shape [8,3] (transposed from [out, in]: [3,8]) ` +
        "but 'dense_1/kernel' is [2,8]; nothing was changed\n",
    );
  });

  it('feeds a two-input model from a pairs array split along its second axis', async () => {
    const count = 48;
    const pairs = Float32Array.from({ length: count * 2 * 4 }, (_, i) => Math.sin(i * 0.7));
    const same = Float32Array.from({ length: count }, (_, i) => (i % 2 === 0 ? 1 : 0)); // even pairs: twins
    for (let i = 0; i < count; i += 2) pairs.copyWithin((i * 2 + 1) * 4, i * 2 * 4, (i * 2 + 1) * 4);
    const dir = writeFiles({
      'pairs.npy': encodeNpy([count, 2, 4], pairs),
      'same.npy': encodeNpy([count], same),
      'twin.nnx': `model Twin(left: [4], right: [4]) -> (same: [1]) {
  let encoder = Dense(8, activation: tanh)
  same = Dense(1, activation: sigmoid)(abs(encoder(left) - encoder(right)))
}
train Twin {
  data: npy(inputs: "pairs.npy", targets: "same.npy")
  loss: binary_crossentropy
  optimizer: Adam(lr: 0.02)
  metrics: [accuracy]
  batch: 16
  epochs: 3
}
`,
    });
    const r = await nnxc(['train', join(dir, 'twin.nnx'), '--json']);
    expect(r.stderr).toBe('');
    const lines = jsonLines(r.stdout);
    expect(lines.map((l) => l['epoch'])).toEqual([1, 2, 3, undefined]);
    expect(lines[3]!['loss']).toBeLessThan(lines[0]!['loss'] as number);
  });

  it('reports a dataset that does not fit the model at its data: field, naming both shapes', async () => {
    const dir = writeFiles({
      'm.nnx':
        'sequential M(x: [100]) {\n  Dense(10, activation: softmax)\n}\ntrain M {\n  loss: categorical_crossentropy\n  data: mnist\n}\n',
    });
    const r = await nnxc(['train', join(dir, 'm.nnx')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `m.nnx:6:9: error: dataset 'mnist' does not fit M: its inputs have shape [28, 28] per sample, but the model's input 'x' has shape [100] [E0301]`,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports a missing CSV file and a missing label column as diagnostics', async () => {
    const dir = writeFiles({ 'points.nnx': POINTS(), 'other.csv': 'a,b\n1,2\n' });
    const missing = await nnxc(['train', join(dir, 'points.nnx')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`error: cannot read CSV file ${join(dir, 'points.csv')}: no such file`);
    const wrongColumn = await nnxc([
      'train',
      join(dir, 'points.nnx'),
      '--set',
      'data=csv("other.csv", label: "side")',
    ]);
    expect(wrongColumn.code).toBe(1);
    expect(wrongColumn.stderr).toContain(
      `<command line>:1:12: error: ${join(dir, 'other.csv')} has no column 'side'; its columns are: a, b [E0301]`,
    );
  });
});
