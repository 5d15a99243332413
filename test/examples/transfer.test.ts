/**
 * examples/transfer.nnx: a trunk trained in one network (Digits) initialises the same trunk in
 * another (Clothes), whose train block freezes it; `--set freeze=[]` trains it whole. On the
 * wasm backend (test/backends.ts), the frozen trunk stays equal bit for bit to what was loaded while the new head learns.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import type { NnxModel } from '../../src/runtime/index.js';
import { MODEL_TEST_BACKEND, compileFor, createOn } from '../backends.js';
import { randomArray, seededRandom } from '../ir/random.js';

const TEXT = readFileSync(new URL('../../examples/transfer.nnx', import.meta.url), 'utf8');
const TRUNK = [
  'trunk_1/conv2d_1/kernel',
  'trunk_1/conv2d_1/bias',
  'trunk_1/conv2d_2/kernel',
  'trunk_1/conv2d_2/bias',
];
const HEAD = ['dense_1/kernel', 'dense_1/bias', 'dense_2/kernel', 'dense_2/bias'];

function compiled(model: string, settings: string[] = []) {
  const result = compile(TEXT, { path: 'examples/transfer.nnx', model, settings, overrides: { batch: 5 } });
  expect(result.diagnostics).toEqual([]);
  return result;
}

/**
 * The example's structure at a size the adapter trains in a blink: a trunk model used by two
 * networks, the second freezing it. (Its conv pipelines take long to build on lavapipe.)
 */
const SMALL = `sequential Trunk(x: [6]) {
  Dense(5, activation: relu)
  Dense(4, activation: relu)
}
sequential Digits(x: [6]) {
  Trunk()
  Dense(3, activation: log_softmax)
}
sequential Clothes(x: [6]) {
  Trunk()
  Dense(3, activation: log_softmax)
}
train Digits { data: iris, loss: nll, optimizer: SGD(lr: 0.1, momentum: 0.9), batch: 5 }
train Clothes { data: iris, loss: nll, optimizer: SGD(lr: 0.1, momentum: 0.9), batch: 5, freeze: [trunk_1] }
`;
const SMALL_TRUNK = [
  'trunk_1/dense_1/kernel',
  'trunk_1/dense_1/bias',
  'trunk_1/dense_2/kernel',
  'trunk_1/dense_2/bias',
];
const SMALL_HEAD = ['dense_1/kernel', 'dense_1/bias'];

async function smallModel(name: string, seed: number): Promise<NnxModel> {
  const result = compileFor(MODEL_TEST_BACKEND, SMALL, { model: name });
  expect(result.diagnostics).toEqual([]);
  return createOn(MODEL_TEST_BACKEND, result.compiled!.spec, { seed });
}

/** Seven random samples with class labels: one full batch of five and a partial one. */
function samples(seed: number) {
  const rand = seededRandom(seed);
  const count = 7;
  return {
    count,
    inputs: { x: Float32Array.from(randomArray(rand, count * 6, 0, 1)) },
    targets: { target: Float32Array.from({ length: count }, (_, i) => i % 3) },
  };
}

describe('examples/transfer.nnx', () => {
  it('freezes the trunk in Clothes only, and --set freeze=[] unfreezes it', () => {
    const trained = (m: ReturnType<typeof compiled>) => m.model!.params.map((p) => p.name);
    expect(trained(compiled('Digits'))).toEqual([...TRUNK, ...HEAD]);
    const clothes = compiled('Clothes');
    expect(trained(clothes)).toEqual(HEAD);
    // No optimizer state (SGD momentum's velocity) for the frozen trunk.
    expect(clothes.compiled!.spec.state.filter((s) => s.name.startsWith('trunk_1/'))).toEqual([]);
    expect(trained(compiled('Clothes', ['freeze=[]']))).toEqual([...TRUNK, ...HEAD]);
  });

  it('trains a new head over the loaded trunk, which stays as loaded bit for bit', async () => {
    const digits = await smallModel('Digits', 1);
    await digits.fit(samples(1), { epochs: 1 });
    const base = await digits.saveBytes();
    const trunk = await digits.getWeights();
    digits.destroy();

    const clothes = await smallModel('Clothes', 2);
    const loaded = clothes.initFromBytes(base, { only: ['trunk_1'] });
    expect([...loaded.values.keys()]).toEqual(SMALL_TRUNK);
    expect(loaded.kept).toEqual(SMALL_HEAD);
    const head = await clothes.getWeights();
    await clothes.fit(samples(2), { epochs: 2 });
    const after = await clothes.getWeights();
    clothes.destroy();
    for (const name of SMALL_TRUNK) expect(after.get(name)).toEqual(trunk.get(name));
    for (const name of SMALL_HEAD) expect(after.get(name)).not.toEqual(head.get(name));
  });

  it('names a layer path that selects nothing from the file, and changes nothing', async () => {
    const digits = await smallModel('Digits', 1);
    const base = await digits.saveBytes();
    const clothes = await smallModel('Clothes', 2);
    const before = await clothes.getWeights();
    expect(() => clothes.initFromBytes(base, { only: ['trunk'] })).toThrow(
      "initFrom: 'trunk' holds no tensor of the file (its layers: trunk_1, dense_1); nothing was changed",
    );
    expect(await clothes.getWeights()).toEqual(before);
    digits.destroy();
    clothes.destroy();
  });
});
