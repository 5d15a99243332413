/**
 * What the targets cannot express is a located diagnostic, never a wrong file: the PyTorch
 * export of a train block whose augmentation moves pixels (image_shift, no torch rule), and the
 * ONNX export of a graph with a random draw (iris' train-mode graph: Dropout; no inference graph
 * of the layer library draws, so this is the one way to reach that check).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { exportOnnx } from '../../src/export/onnx.js';
import { initialWeights } from '../../src/export/weights.js';
import { compileExample } from './fixtures.js';

describe('export diagnostics', () => {
  it('PyTorch: a flip augmentation is an error at its entry, and nothing is written', async () => {
    const root = mkdtempSync(join(tmpdir(), 'nnx-diag-'));
    const source = readFileSync('examples/mnist_cnn_invert.nnx', 'utf8').replace(
      'augment: [invert(p: 0.5)]',
      'augment: [flip(p: 0.5)]',
    );
    const file = join(root, 'flip.nnx');
    writeFileSync(file, source);
    const err: string[] = [];
    const io = { out: () => {}, err: (s: string) => void err.push(s), isTTY: false };
    const out = join(root, 'pt');
    expect(await run(['export', file, '--to', 'pytorch', '-o', out], io)).toBe(1);
    const line = source.split('\n').findIndex((l) => l.includes('flip(p: 0.5)')) + 1;
    expect(err.join('')).toBe(
      `${file}:${line}:13: error: layer \`augment\` computes \`image_shift\`, which the PyTorch export cannot express [E0701]\n` +
        `   |\n${line} |   augment: [flip(p: 0.5)]\n   |             ^^^^^^^^^^^^\n`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('ONNX: a random draw is an error at its layer, and no bytes', () => {
    const example = compileExample('iris');
    const exported = exportOnnx(example.model.training!, initialWeights(example.compiled));
    expect(exported.bytes).toBeUndefined();
    expect(exported.diagnostics.map((d) => d.message)).toEqual([
      'layer `dropout_1` computes `random_uniform`, which the ONNX export cannot express',
    ]);
    const span = exported.diagnostics[0]!.span;
    expect(readFileSync('examples/iris.nnx', 'utf8').slice(span.start, span.end)).toBe('Dropout(0.2)');
  });
});
