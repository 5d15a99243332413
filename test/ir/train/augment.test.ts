/**
 * Data augmentation: the augmented batch the GPU and the wasm backend compute equals a plain
 * transcription of the documented transforms with the same random draws (hash, salt, counter),
 * wasm's bit for bit the interpreter's in f32, draws are
 * reproducible and change with the step and the seed, and only the training graph augments.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { check, compile } from '../../../src/compile.js';
import { renderDiagnostics } from '../../../src/util/diagnostics.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { type Graph, inputsOf, sizeOf } from '../../../src/ir/graph.js';
import { interpret } from '../../../src/ir/interpret.js';
import { bitsToUnit, randomBits } from '../../../src/ir/ops/random.js';
import { printGraph } from '../../../src/ir/print.js';
import type { Augmentation } from '../../../src/bind/augment.js';
import { augmentInput, augmentationSalt } from '../../../src/ir/train/augment.js';
import { runGraphOnGpu } from '../../gpu.js';
import { runGraphOnWasm } from '../../wasm.js';
import { randomArray, seededRandom } from '../random.js';

/** A batch of 9 images of 5×6 with 2 channels: sizes that divide nothing. */
const SHAPE = [9, 5, 6, 2] as const;
const [N, H, W, C] = SHAPE;

function augmentGraph(augmentations: readonly Augmentation[]): Graph {
  const b = new GraphBuilder();
  const x = b.input('x', 'data', SHAPE);
  // Data inputs: the test writes them (in a model they are state on the GPU).
  const counter = b.input('step', 'data', []);
  const seed = b.input('seed', 'data', []);
  b.output('y', augmentInput(b, x, 'x', augmentations, { counter, seed }), 'prediction');
  return b.build();
}

async function onGpu(augmentations: readonly Augmentation[], x: Float32Array, step: number, seed = 0) {
  const values = new Map([
    ['x', x],
    ['step', Float32Array.of(step)],
    ['seed', Float32Array.of(seed)],
  ]);
  return (await runGraphOnGpu(augmentGraph(augmentations), values)).get('y')!;
}

/** The uniform number element `i` of one transform's stream draws at counter `step`. */
const unit = (a: Augmentation, index: number, stream: string, step: number, i: number) =>
  bitsToUnit(randomBits(augmentationSalt('x', index, a, stream), step, i));

/** Image `n` moved as image_shift documents: out(h, w) = x(h − dy, f(w) − dx), zeros outside. */
function moveImage(x: Float64Array, n: number, dy: number, dx: number, flip: boolean): void {
  const image = x.slice(n * H * W * C, (n + 1) * H * W * C);
  for (let h = 0; h < H; h++)
    for (let w = 0; w < W; w++) {
      const sh = h - dy;
      const sw = (flip ? W - 1 - w : w) - dx;
      for (let c = 0; c < C; c++) {
        const inside = sh >= 0 && sh < H && sw >= 0 && sw < W;
        x[((n * H + h) * W + w) * C + c] = inside ? image[(sh * W + sw) * C + c]! : 0;
      }
    }
}

/** The documented transforms, written out directly (f64, but f32 products where the GPU rounds). */
function reference(augmentations: readonly Augmentation[], input: Float32Array, step: number): Float64Array {
  const x = Float64Array.from(input);
  augmentations.forEach((a, index) => {
    for (let n = 0; n < N; n++) {
      if (a.kind === 'invert' && unit(a, index, 'coin', step, n) < a.p)
        for (let i = n * H * W * C; i < (n + 1) * H * W * C; i++) x[i] = Math.fround(1 - x[i]!);
      if (a.kind === 'flip' && unit(a, index, 'coin', step, n) < a.p) moveImage(x, n, 0, 0, true);
      if (a.kind === 'shift' || a.kind === 'crop') {
        const range = a.kind === 'shift' ? a.pixels : a.padding;
        const offset = (i: number) =>
          Math.min(Math.floor(Math.fround(unit(a, index, 'offsets', step, i) * (2 * range + 1))), 2 * range) -
          range;
        moveImage(x, n, offset(2 * n), offset(2 * n + 1), false);
      }
    }
    if (a.kind === 'noise')
      for (let i = 0; i < x.length; i++) {
        const radius = Math.sqrt(-2 * Math.log(1 - unit(a, index, 'radius', step, i)));
        x[i] = x[i]! + a.stddev * radius * Math.cos(2 * Math.PI * unit(a, index, 'angle', step, i));
      }
  });
  return x;
}

const images = () => Float32Array.from(randomArray(seededRandom(3), sizeOf([...SHAPE]), 0, 1));

function expectClose(got: Float32Array, want: Float64Array, tolerance: number) {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++)
    expect(Math.abs(got[i]! - want[i]!), `element ${i}`).toBeLessThanOrEqual(tolerance);
}

const TRANSFORMS: readonly [string, Augmentation, number][] = [
  ['invert(p: 0.5)', { kind: 'invert', p: 0.5, seed: 0 }, 0],
  ['flip(p: 0.5)', { kind: 'flip', p: 0.5, seed: 0 }, 0],
  ['shift(pixels: 2)', { kind: 'shift', pixels: 2, seed: 0 }, 0],
  ['crop(padding: 4), more than half the image', { kind: 'crop', padding: 4, seed: 3 }, 0],
  // Box–Muller in f32 on the GPU against f64 here.
  ['noise(stddev: 0.1)', { kind: 'noise', stddev: 0.1, seed: 0 }, 2e-6],
];

describe('the augmented batch on the GPU equals the reference transform with the same draws', () => {
  const x = images();
  for (const [name, a, tolerance] of TRANSFORMS)
    it(name, async () => {
      const got = await onGpu([a], x, 7);
      expectClose(got, reference([a], x, 7), tolerance);
      // Not the identity, and (but for noise) not every image changed the same way.
      const changed = Array.from({ length: N }, (_, n) =>
        got.subarray(n * H * W * C, (n + 1) * H * W * C).some((v, i) => v !== x[n * H * W * C + i]),
      );
      expect(changed.some(Boolean)).toBe(true);
      if (a.kind === 'invert' || a.kind === 'flip') expect(changed.every(Boolean)).toBe(false);
    });

  it('all five in a row, applied in order', async () => {
    const chain = TRANSFORMS.map(([, a]) => a);
    expectClose(await onGpu(chain, x, 11), reference(chain, x, 11), 2e-6);
  });

  it('p: 0 leaves every image alone and p: 1 inverts every one', async () => {
    expect(Array.from(await onGpu([{ kind: 'invert', p: 0, seed: 0 }], x, 1))).toEqual(Array.from(x));
    const all = await onGpu([{ kind: 'invert', p: 1, seed: 0 }], x, 1);
    expect(Array.from(all)).toEqual(Array.from(x, (v) => Math.fround(1 - v)));
  });
});

describe('the augmented batch on wasm equals the reference transform, and the interpreter bit for bit', () => {
  const x = images();
  const values = (step: number) =>
    new Map([
      ['x', x],
      ['step', Float32Array.of(step)],
      ['seed', Float32Array.of(2)],
    ]);
  const chain = TRANSFORMS.map(([, a]) => a);
  for (const [name, a, tolerance] of [...TRANSFORMS, ['all five in a row', chain, 2e-6] as const]) {
    const list = Array.isArray(a) ? a : [a as Augmentation];
    it(name, () => {
      const g = augmentGraph(list);
      const got = runGraphOnWasm(g, values(7)).get('y')!;
      const tensors = new Map(
        [...values(7)].map(([k, v]) => [k, { shape: k === 'x' ? [...SHAPE] : [], data: v }]),
      );
      const want = interpret(g, tensors, { dtype: 'f32' })[g.outputs[0]!.node]!.data;
      if (tolerance === 0) expect(Array.from(got)).toEqual(Array.from(want));
      else expectClose(got, Float64Array.from(want), tolerance);
      expect(Array.from(got)).not.toEqual(Array.from(x));
    });
  }
  it('the same draws as the documented transform at seed 0', () => {
    for (const [, a, tolerance] of TRANSFORMS) {
      const got = runGraphOnWasm(
        augmentGraph([a]),
        new Map([...values(9), ['seed', Float32Array.of(0)]]),
      ).get('y')!;
      expectClose(got, reference([a], x, 9), tolerance);
    }
  });
});

describe('augmentation draws', () => {
  const x = images();
  const chain: Augmentation[] = [
    { kind: 'flip', p: 0.5, seed: 0 },
    { kind: 'shift', pixels: 1, seed: 0 },
    { kind: 'noise', stddev: 0.05, seed: 0 },
  ];
  it('are the same for the same step and seed, and differ with the step and the seed', async () => {
    const first = await onGpu(chain, x, 4);
    expect(Array.from(await onGpu(chain, x, 4))).toEqual(Array.from(first));
    expect(Array.from(await onGpu(chain, x, 5))).not.toEqual(Array.from(first));
    const reseeded = chain.map((a) => ({ ...a, seed: 1 }));
    expect(Array.from(await onGpu(reseeded, x, 4))).not.toEqual(Array.from(first));
    // The model's seed moves every transform's stream: the same draws as salts xor-ed with it.
    const modelSeeded = await onGpu(chain, x, 4, 3);
    expect(Array.from(modelSeeded)).not.toEqual(Array.from(first));
    const flip = chain[0]!;
    for (let n = 0; n < N; n++) {
      const flipped = bitsToUnit(randomBits((augmentationSalt('x', 0, flip, 'coin') ^ 3) >>> 0, 4, n)) < 0.5;
      const unmoved = bitsToUnit(randomBits(augmentationSalt('x', 0, flip, 'coin'), 4, n)) < 0.5;
      if (flipped !== unmoved) return; // one sample whose coin the seed turned is enough
    }
    throw new Error('seed 3 turned no flip coin of 9');
  });

  it('have the documented distributions (interpreter, 2,000 images)', () => {
    const b = new GraphBuilder();
    const big = b.input('x', 'data', [2000, 3, 3, 1]);
    const counter = b.input('step', 'data', []); // data: the test writes them
    const seed = b.input('seed', 'data', []);
    const shift: Augmentation = { kind: 'shift', pixels: 1, seed: 0 };
    const noise: Augmentation = { kind: 'noise', stddev: 0.5, seed: 0 };
    b.output('shifted', augmentInput(b, big, 'x', [shift], { counter, seed }), 'prediction');
    b.output('noisy', augmentInput(b, big, 'x', [noise], { counter, seed }), 'prediction');
    const g = b.build();
    // A single 1 in the centre of each 3×3 image shows where the shift moved it.
    const centre = new Float64Array(2000 * 9).map((_, i) => (i % 9 === 4 ? 1 : 0));
    const values = interpret(
      g,
      new Map([
        ['x', { shape: [2000, 3, 3, 1], data: centre }],
        ['step', { shape: [], data: Float64Array.of(2) }],
        ['seed', { shape: [], data: Float64Array.of(0) }],
      ]),
    );
    const landed = new Array(9).fill(0);
    const shifted = values[g.outputs[0]!.node]!.data;
    for (let n = 0; n < 2000; n++) landed[shifted.subarray(n * 9, n * 9 + 9).indexOf(1)]++;
    // dy, dx uniform over {−1, 0, 1}: each of the 9 places about 2000/9 ≈ 222 times.
    for (const count of landed) expect(Math.abs(count - 2000 / 9)).toBeLessThan(60);
    const z = Array.from(values[g.outputs[1]!.node]!.data, (v, i) => v - centre[i]!);
    const mean = z.reduce((s, v) => s + v, 0) / z.length;
    const std = Math.sqrt(z.reduce((s, v) => s + (v - mean) ** 2, 0) / z.length);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(std - 0.5)).toBeLessThan(0.02);
  });
});

const MODEL = (augment: string) => `sequential M(x: [6, 5, 1]) {
  Conv2D(2, 3)
  Flatten()
  Dropout(0.2)
  Dense(3, activation: softmax)
}
train M {
  data: xor
  loss: categorical_crossentropy
  batch: 4
  ${augment}
}
`;

describe('augmentation in the compiled model', () => {
  const plain = compile(MODEL(''));
  const augmented = compile(
    MODEL('augment: [invert(p: 0.5), flip(p: 0.5), crop(padding: 2), noise(stddev: 0.1)]'),
  );
  it('changes the training graph only: evaluate and predict read the data as it is', () => {
    expect(augmented.diagnostics).toEqual([]);
    const steps = augmented.compiled!.steps;
    const ops = (g: Graph) => g.nodes.map((n) => n.op);
    expect(ops(steps.train)).toContain('image_shift');
    expect(ops(plain.compiled!.steps.train)).not.toContain('image_shift');
    for (const entry of ['evaluate', 'predict'] as const) {
      expect(printGraph(steps[entry])).toBe(printGraph(plain.compiled!.steps[entry]));
      expect(ops(steps[entry])).not.toContain('random_uniform');
    }
  });

  it('shares the step counter with Dropout: one counter, incremented once per step', () => {
    const train = augmented.compiled!.steps.train;
    const counters = inputsOf(train, 'state').filter((n) => n.params.name === 'random/step');
    expect(counters).toHaveLength(1);
    expect(train.outputs.filter((o) => o.target === counters[0]!.id)).toHaveLength(1);
  });

  it('gives a model without random layers a step counter', () => {
    const { compiled } = compile(MODEL('augment: [shift(pixels: 1)]').replace('Dropout(0.2)', ''));
    const train = compiled!.steps.train;
    expect(inputsOf(train, 'state').some((n) => n.params.name === 'random/step')).toBe(true);
    expect(train.outputs.some((o) => o.name === 'random/step' && o.role === 'update')).toBe(true);
  });
});

describe('examples/mnist_cnn_invert.nnx', () => {
  const read = (file: string) => readFileSync(new URL(`../../../examples/${file}`, import.meta.url), 'utf8');
  const invert = compile(read('mnist_cnn_invert.nnx'));
  it('is examples/mnist_cnn.nnx with inverted digits mixed into training', () => {
    expect(invert.diagnostics).toEqual([]);
    const base = compile(read('mnist_cnn.nnx'));
    expect(printGraph(invert.compiled!.steps.predict)).toBe(printGraph(base.compiled!.steps.predict));
    expect(invert.train!.augment).toMatchObject([{ kind: 'invert', p: 0.5, seed: 0 }]);
    // Its nodes point at the transform in the train block.
    const text = read('mnist_cnn_invert.nnx');
    const random = invert.compiled!.steps.train.nodes.find((n) => n.op === 'random_uniform')!;
    expect(text.slice(random.span!.start, random.span!.end)).toBe('invert(p: 0.5)');
  });

  it('trains without augmentation with --set augment=[]', () => {
    const plain = compile(read('mnist_cnn_invert.nnx'), { settings: ['augment=[]'] });
    expect(plain.diagnostics).toEqual([]);
    const ops = plain.compiled!.steps.train.nodes.map((n) => n.op);
    expect(ops).not.toContain('random_uniform');
    expect(invert.compiled!.steps.train.nodes.map((n) => n.op)).toContain('random_uniform');
  });
});

describe('augment errors point at the transform', () => {
  const errors = (augment: string, input = '[6, 5, 1]') => {
    const text = `sequential M(x: ${input}) {\n  Flatten()\n}\ntrain M { data: xor, loss: mse, augment: ${augment} }\n`;
    const result = check(text, { path: 'm.nnx' });
    return renderDiagnostics({ path: 'm.nnx', text }, result.diagnostics, result.sources)
      .split('\n')
      .filter((line) => line.startsWith('m.nnx:'));
  };
  it('unknown arguments, values out of range, and a list that is not of transforms', () => {
    expect(errors('[flip(prob: 0.5)]')).toEqual(['m.nnx:4:48: error: flip has no argument `prob` [E0103]']);
    expect(errors('[invert(p: 1.5), noise()]')).toEqual([
      'm.nnx:4:53: error: argument `p` of invert must be a number ≤ 1, not the number 1.5 [E0105]',
      'm.nnx:4:59: error: noise needs the argument `stddev` [E0104]',
    ]);
    expect(errors('[2]')).toEqual([
      'm.nnx:4:43: error: an augmentation is a transform such as `flip(p: 0.5)` [E0601]',
    ]);
  });
  it('flat inputs take invert and noise but not pixel moves', () => {
    expect(errors('[invert(p: 0.5), noise(stddev: 0.1)]', '[30]')).toEqual([]);
    expect(errors('[invert, crop(padding: 2)]', '[30]')).toEqual([
      'm.nnx:4:51: error: crop needs an image input [H, W, C], but input `x` is [30] [E0602]',
    ]);
    expect(errors('[crop(padding: 5)]')).toEqual([
      'm.nnx:4:43: error: crop by up to 5 pixels does not fit input `x` of 6×5 pixels [E0603]',
    ]);
  });
});
