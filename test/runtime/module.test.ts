/**
 * createModule: a spec's kind picks its runtime class, and the shared DeviceModule parts (entries
 * run with uploads, setWeights, the one epoch loop with its progress reports) work the same for
 * both kinds. On the wasm backend: no shader JIT.
 */
import { describe, expect, it } from 'vitest';
import { compile, compileGan } from '../../src/compile.js';
import { NnxGan, NnxModel, createModule, type BatchLog } from '../../src/runtime/index.js';

const MODEL = `
sequential M(x: [3]) {
  Dense(2)
}
train M { data: xor, loss: mse, optimizer: SGD(lr: 0.1), batch: 2, epochs: 1 }
`;

const GAN = `
sequential G(z: [2]) {
  Dense(4, activation: tanh)
}
sequential D(x: [4]) {
  Dense(1, activation: sigmoid)
}
gan Pair {
  generator: G
  discriminator: D
  data: mnist
  batch: 4
  epochs: 2
}
`;

describe('createModule', () => {
  it('creates an NnxModel from a model spec and an NnxGan from a GAN spec', async () => {
    const model = compile(MODEL, { wasm: true });
    const gan = compileGan(GAN, { wasm: true });
    expect([model.diagnostics, gan.diagnostics]).toEqual([[], []]);
    const m = await createModule(model.compiled!.spec, { backend: 'wasm' });
    const g = await createModule(gan.compiled!.spec, { backend: 'wasm' });
    try {
      expect(m).toBeInstanceOf(NnxModel);
      expect(g).toBeInstanceOf(NnxGan);
      expect([m.backend.kind, g.backend.kind]).toEqual(['wasm', 'wasm']);
    } finally {
      m.destroy();
      g.destroy();
    }
  });

  it("sets a GAN's weights by name and trains it through the one epoch loop, reporting progress", async () => {
    const { compiled } = compileGan(GAN, { wasm: true });
    const gan = await createModule(compiled!.spec, { backend: 'wasm', seed: 3 });
    try {
      const weights = await gan.getWeights();
      const zeroed = new Map([...weights].map(([name, values]) => [name, new Float32Array(values.length)]));
      gan.setWeights(zeroed);
      for (const values of (await gan.getWeights()).values()) expect(values.every((v) => v === 0)).toBe(true);
      expect(() => gan.setWeights(new Map())).toThrow(/setWeights/);

      const samples = Float32Array.from({ length: 10 * 4 }, (_, i) => (i % 7) / 7);
      const progress: BatchLog[] = [];
      const logs = await gan.fit({ count: 10, samples }, { onProgress: (log) => progress.push(log) });
      expect(logs.map((l) => l.epoch)).toEqual([1, 2]);
      for (const log of logs) expect([log.d_loss, log.g_loss].every(Number.isFinite)).toBe(true);
      // Two full batches of 4 in 10 samples: each epoch reports its end, with the samples trained on.
      expect(progress.map(({ epoch, step, steps, samples }) => [epoch, step, steps, samples])).toEqual([
        [1, 2, 2, 8],
        [2, 2, 2, 8],
      ]);
    } finally {
      gan.destroy();
    }
  });
});
