/**
 * A model a named dataset cannot feed is an error of `check`, at `data:` with a note at the
 * output, with the text training would give; and the shapes check assumes are the loaders'.
 */
import { describe, expect, it } from 'vitest';
import { check } from '../../src/compile.js';
import { loadDataset } from '../../src/data/datasets.js';
import { namedDatasetShape } from '../../src/data/named-shapes.js';
import { renderDiagnostics } from '../../src/util/diagnostics.js';

const conv = (loss: string) => `sequential C(x: [28, 28, 1]) {
  Conv2D(8, kernel_size: 3, activation: relu)
  MaxPooling2D(2)
  Dense(10, activation: softmax)
}
train C {
  data: mnist
  loss: ${loss}
}
`;

describe('check fits a model to a named dataset', () => {
  it('a Dense on an un-flattened conv map is an error at data:, noting the output', () => {
    const text = conv('sparse_categorical_crossentropy');
    const { diagnostics } = check(text, { path: 'c.nnx', fitNamedDatasets: true });
    // The Dense on an image also gets its own advice (W0104, add Flatten()); the error is the fit.
    expect(diagnostics.filter((d) => d.severity !== 'error').map((d) => d.code)).toEqual(['W0104']);
    const errors = diagnostics.filter((d) => d.severity === 'error');
    expect(renderDiagnostics({ path: 'c.nnx', text }, errors)).toBe(
      [
        "c.nnx:7:9: error: dataset 'mnist' does not fit C: its labels are 10 classes, but the model's output 'target' has shape [13, 13] per sample (a sparse loss takes one class index per sample) [E0301]",
        '  |',
        '7 |   data: mnist',
        '  |         ^^^^^',
        'c.nnx:4:3: note: the output `output` has shape [13, 13, 10] per sample',
        '  |',
        '4 |   Dense(10, activation: softmax)',
        '  |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^',
      ].join('\n'),
    );
  });

  it('with a dense loss too, and for an input the dataset cannot fill', () => {
    const dense = check(conv('categorical_crossentropy'), {
      path: 'c.nnx',
      fitNamedDatasets: true,
    }).diagnostics;
    expect(dense.filter((d) => d.severity === 'error').map((d) => [d.code, d.message])).toEqual([
      [
        'E0301',
        "dataset 'mnist' does not fit C: its labels are 10 classes, but the model's output 'target' has shape [13, 13, 10] per sample (one-hot targets need shape [10])",
      ],
    ]);
    const input = check(
      'sequential M(x: [3]) {\n  Dense(1, activation: sigmoid)\n}\ntrain M {\n  data: xor\n  loss: mse\n}\n',
      { fitNamedDatasets: true },
    );
    expect(input.diagnostics.map((d) => d.message)).toEqual([
      "dataset 'xor' does not fit M: its inputs have shape [2] per sample, but the model's input 'x' has shape [3]",
    ]);
  });

  it('is off for compile by default: a module fitted by its own fit() names data: xor as a placeholder', () => {
    const diagnostics = check(conv('sparse_categorical_crossentropy')).diagnostics;
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('accepts what fits (flattened maps, [784] for 28×28 images)', () => {
    const flat = conv('sparse_categorical_crossentropy').replace('  Dense(10', '  Flatten()\n  Dense(10');
    expect(check(flat, { fitNamedDatasets: true }).diagnostics).toEqual([]);
    const mlp =
      'sequential M(x: [784]) {\n  Dense(10, activation: softmax)\n}\ntrain M {\n  data: mnist\n  loss: sparse_categorical_crossentropy\n}\n';
    expect(check(mlp, { fitNamedDatasets: true }).diagnostics).toEqual([]);
  });

  it.each(['mnist', 'fashion_mnist', 'iris', 'xor', 'majority', 'far_repeat'])(
    "%s's known shape is what its loader gives",
    { timeout: 60_000 },
    async (name) => {
      const loaded = await loadDataset(name);
      const labels = loaded.train.labels;
      expect(labels.kind).toBe('classes');
      expect(namedDatasetShape(name)).toEqual({
        featureShape: loaded.train.featureShape,
        classes: labels.kind === 'classes' ? labels.classes.length : -1,
      });
    },
  );
});
