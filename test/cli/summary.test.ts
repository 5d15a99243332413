/** nnxc summary: the Keras-style table, its sharing column, totals and the compiled facts, for models and GANs. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nnxc, writeFiles } from './run-in-process.js';

describe('nnxc summary', () => {
  it('tabulates the MNIST MLP with its 269,322 parameters and what the compiler made', async () => {
    const r = await nnxc(['summary', 'examples/mnist_mlp.nnx']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('Model: MnistMlp');
    expect(r.stdout).toMatch(/^Layer +Type +Output shape +Params +Shared with +Ops$/m);
    expect(r.stdout).toMatch(/^dense_1 +Dense +\[256\] +200,960 +\(matmul, add, relu\)$/m);
    expect(r.stdout).toMatch(/^dense_3 +Dense +\[10\] +2,570 +\(matmul, add, softmax\)$/m);
    expect(r.stdout).toContain('Total params: 269,322 (1.0 MiB)');
    expect(r.stdout).toContain('\nTargets: target [10] (for output) (what fit() takes by name)\n');
    expect(r.stdout).toMatch(/^Compiled: \d+ kernels; \d+ dispatches per training step \(batch 100\)/m);
    expect(r.stdout).toMatch(/^Peak GPU memory: [\d.]+ MiB in \d+ buffers/m);
  });

  it('names every target of a multi-output model and the output it trains', async () => {
    const r = await nnxc(['summary', 'examples/multi_output.nnx']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      '\nTargets: target/kind [3] (for kind), target/size [1] (for size) (what fit() takes by name)\n',
    );
  });

  it('tabulates both models of a gan block, running statistics as non-trainable, then the module', async () => {
    const r = await nnxc(['summary', 'examples/dcgan_mnist.nnx']);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^Model: \w+$/gm)).toEqual(['Model: Generator', 'Model: Discriminator']);
    expect(r.stdout).toMatch(/^up_sampling2d_1 +UpSampling2D +\[14, 14, 16\] +0 +\(\)$/m);
    // BatchNormalization's moving mean and variance: 2·784 + 2·16 values the optimizer never sees.
    expect(r.stdout).toContain('Non-trainable params: 1,600');
    expect(r.stdout).toMatch(
      /^Compiled: \d+ kernels; \d+ dispatches per discriminator step and \d+ per generator step \(batch 64\), \d+ per generate$/m,
    );
  });

  it('names each op of a layer once, at most six, so attention keeps the table readable', async () => {
    const r = await nnxc(['summary', 'examples/transformer.nnx']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^transformer_block_1\/layer_normalization_1 +LayerNormalization +.* \(mul, sum, div, sub, add, sqrt\)$/m,
    );
    expect(r.stdout).toMatch(
      /^transformer_block_1\/multi_head_attention_1 +MultiHeadAttention .* \((\w+, ){6}…\)$/m,
    );
    const header = r.stdout.split('\n').find((l) => l.startsWith('Layer '))!;
    expect(header.length).toBeLessThan(140);
  });

  it('shows which calls share weights', async () => {
    const dir = writeFiles({
      'twin.nnx': `model Twin(a: [3], b: [3]) -> (y: [1]) {
  let shared = Dense(4, activation: relu)
  y = Dense(1)(shared(a) + shared(b))
}
train Twin { data: xor, loss: mse }
`,
    });
    const r = await nnxc(['summary', join(dir, 'twin.nnx')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^shared #1 +Dense +\[4\] +16 +shared #2 +\(matmul, add, relu\)$/m);
    expect(r.stdout).toMatch(/^shared #2 +Dense +\[4\] +0 +shared #1 +\(matmul, add, relu\)$/m);
  });

  it('lists every layer as Keras does, one row each: Dropout, and a function on its own line', async () => {
    const dir = writeFiles({
      'keras.nnx': `sequential K(x: [784]) {
  Dropout(0.2)
  Dense(64, activation: relu)
  Dropout(0.5)
  Dense(10)
  log_softmax
}
train K { data: mnist, loss: nll }
`,
    });
    const r = await nnxc(['summary', join(dir, 'keras.nnx')]);
    expect(r.code).toBe(0);
    const table = r.stdout
      .split('\n')
      .slice(2, 10)
      .map((l) => l.replace(/ +/g, ' '));
    expect(table).toEqual([
      'Layer Type Output shape Params Shared with Ops',
      expect.stringMatching(/^─+$/),
      'x (input) Input [784] 0',
      'dropout_1 Dropout [784] 0 ()',
      'dense_1 Dense [64] 50,240 (matmul, add, relu)',
      'dropout_2 Dropout [64] 0 ()',
      'dense_2 Dense [10] 650 (matmul, add)',
      'log_softmax_1 log_softmax [10] 0 (reduce_max, sub, exp, sum, log)',
    ]);
    expect(r.stdout).toContain(
      'Total params: 50,890 (198.8 KiB)\nTrainable params: 50,890\nNon-trainable params: 0\n',
    );
  });

  it('counts frozen parameters as non-trainable, like Keras', async () => {
    const dir = writeFiles({
      'frozen.nnx': `sequential F(x: [2]) {
  Dense(4, trainable: false)
  Dense(1)
}
train F { data: xor, loss: mse }
`,
    });
    const r = await nnxc(['summary', join(dir, 'frozen.nnx')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Total params: 17 (68 B)\nTrainable params: 5\nNon-trainable params: 12\n');
  });
});
