/**
 * Checkpoints written before Adam's bias corrections became optimizer state (#16) lack
 * `optimizer/correction_1` and `_2`: a load derives them from the step count, and the resumed run
 * ends bit for bit where an uninterrupted run ends. On the wasm backend (fast, and bit-exact
 * resume is promised per backend); a GAN's two sides each derive theirs from their own step count.
 */
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, compileGan } from '../../src/compile.js';
import {
  NnxModel,
  decodeSafetensors,
  encodeSafetensors,
  type Dataset,
  type ModelSpec,
} from '../../src/runtime/index.js';
import { adamCorrectionAfter, readCheckpoint, STATE_TENSOR_PREFIX } from '../../src/runtime/checkpoint.js';
import { elementCount } from '../../src/runtime/init.js';
import { Rng } from '../../src/runtime/rng.js';

const SOURCE = `
sequential Small(x: [4]) {
  Dense(8, activation: relu)
  Dense(3, activation: softmax)
}
train Small {
  data: iris
  loss: categorical_crossentropy
  optimizer: Adam(lr: 0.01, beta_1: 0.8, beta_2: 0.99)
  batch: 8
  epochs: 4
}
`;

const CORRECTIONS = ['@state/optimizer/correction_1', '@state/optimizer/correction_2'];

let spec: ModelSpec;
const models: NnxModel[] = [];
const dir = mkdtempSync(join(tmpdir(), 'nnx-checkpoint-'));

beforeAll(() => {
  const result = compile(SOURCE, { wasm: true });
  expect(result.diagnostics).toEqual([]);
  spec = result.compiled!.spec;
});
afterAll(() => {
  for (const model of models) model.destroy();
});

async function model(seed: number, backend: 'wasm' | 'webgpu' = 'wasm'): Promise<NnxModel> {
  const created = await NnxModel.create(spec, { seed, backend });
  models.push(created);
  return created;
}

/** 44 random samples: 5 full batches of 8 and a partial one, so 6 steps per epoch. */
function data(): Dataset {
  const rng = new Rng(5);
  const count = 44;
  const x = Float32Array.from({ length: count * 4 }, () => rng.normal());
  const y = new Float32Array(count * 3);
  for (let i = 0; i < count; i++) y[i * 3 + (x[i * 4]! > 0 ? 0 : x[i * 4 + 1]! > 0 ? 1 : 2)] = 1;
  return { count, inputs: { x }, targets: { target: y } };
}

/** Every tensor of a checkpoint as raw bits, by name. */
function bitsOf(bytes: Uint8Array): Map<string, number[]> {
  const file = decodeSafetensors(bytes);
  return new Map([...file.tensors].map(([name, t]) => [name, [...new Uint32Array(t.data.buffer)]]));
}

/** The checkpoint as one written before the corrections were state: the same, without them. */
function withoutCorrections(bytes: Uint8Array): Uint8Array {
  const file = decodeSafetensors(bytes);
  const tensors = new Map([...file.tensors].filter(([name]) => !CORRECTIONS.includes(name)));
  expect(tensors.size).toBe(file.tensors.size - 2);
  return encodeSafetensors(tensors, file.metadata);
}

describe('an Adam checkpoint without its bias corrections', () => {
  it('derives them from the step count bit for bit, and resumes where an uninterrupted run ends', async () => {
    const uninterrupted = await model(3);
    const full = await uninterrupted.fit(data(), { epochs: 4 });

    const path = join(dir, 'old.safetensors');
    await (await model(3)).fit(data(), { epochs: 2, checkpoint: { path } });
    const saved = readFileSync(path);
    const old = withoutCorrections(saved);

    const resumed = await model(77); // other initial weights and state: the checkpoint replaces them
    const state = resumed.loadBytes(old);
    expect(state?.epoch).toBe(2);
    // The derived corrections are the very bits the step had computed after 12 steps.
    const restored = bitsOf(await resumed.saveBytes());
    for (const name of CORRECTIONS) expect(restored.get(name)).toEqual(bitsOf(saved).get(name));
    expect(restored.get('@state/optimizer/step')).toEqual([Math.fround(12)].map(f32Bits));

    const rest = await resumed.fit(data(), { epochs: 4, resume: state });
    expect(rest.epochs).toEqual(full.epochs.slice(2));
    expect(bitsOf(await resumed.saveBytes())).toEqual(bitsOf(await uninterrupted.saveBytes()));
  });

  // On both backends: the WGSL kernel must round as the replay does too (no fused multiply-add).
  // 50 steps on lavapipe, where each checkpoint read is a slow round trip (an f64 replay is off by t = 3).
  it.each([
    ['wasm', 400],
    ['webgpu', 50],
  ] as const)(
    'derives, after each step, the very bits the %s step computed (%i steps)',
    async (backend, steps) => {
      const m = await model(3, backend);
      const { x, y } = {
        x: data().inputs['x']!.subarray(0, 32),
        y: data().targets['target']!.subarray(0, 24),
      };
      const mismatches: string[] = [];
      for (let t = 1; t <= steps; t++) {
        m.trainStep({ x, target: y });
        const file = decodeSafetensors(await m.saveBytes());
        for (const [name, beta] of [
          [CORRECTIONS[0]!, 0.8],
          [CORRECTIONS[1]!, 0.99],
        ] as const) {
          const stepped = file.tensors.get(name)!.data[0]!;
          if (stepped !== adamCorrectionAfter(t, beta)) mismatches.push(`${name} at t=${t}: ${stepped}`);
        }
      }
      expect(mismatches).toEqual([]);
    },
  );

  it('is still refused when the step count is missing too, naming what is missing', async () => {
    const m = await model(3);
    await m.fit(data(), { epochs: 1 });
    const file = decodeSafetensors(withoutCorrections(await m.saveBytes()));
    const tensors = new Map([...file.tensors].filter(([name]) => name !== '@state/optimizer/step'));
    expect(() => m.loadBytes(encodeSafetensors(tensors, file.metadata))).toThrow(
      /'optimizer\/step' is missing; 'optimizer\/correction_1' is missing; 'optimizer\/correction_2' is missing/,
    );
  });
});

describe('a GAN checkpoint without its bias corrections', () => {
  it("derives each side's from that side's step count and β", () => {
    const { compiled, diagnostics } = compileGan(`
sequential G(z: [3]) {
  Dense(4, activation: tanh)
}
sequential D(x: [4]) {
  Dense(1, activation: sigmoid)
}
gan Pair {
  generator: G
  discriminator: D
  data: mnist
  optimizer: Adam(lr: 0.01, beta_1: 0.5)
  batch: 7
}
`);
    expect(diagnostics).toEqual([]);
    const spec = compiled!.spec;
    // The two sides have taken different numbers of steps.
    const steps: Record<string, number> = { generator: 9, discriminator: 18 };
    const tensors = new Map<string, { shape: readonly number[]; data: Float32Array }>();
    for (const p of spec.params)
      tensors.set(p.name, { shape: p.shape, data: new Float32Array(elementCount(p.shape)) });
    for (const slot of spec.state) {
      if (slot.name.includes('optimizer/correction_')) continue;
      const side = slot.name.split('/')[0]!;
      const data = new Float32Array(elementCount(slot.shape));
      if (slot.name.endsWith('optimizer/step')) data[0] = steps[side]!;
      tensors.set(STATE_TENSOR_PREFIX + slot.name, { shape: slot.shape, data });
    }
    const state = readCheckpoint(spec, { tensors, metadata: {} }, 'loadBytes').state!;
    for (const side of ['generator', 'discriminator']) {
      const t = steps[side]!;
      expect(state.get(`${side}/optimizer/correction_1`)).toEqual(
        Float32Array.of(adamCorrectionAfter(t, 0.5)),
      );
      expect(state.get(`${side}/optimizer/correction_2`)).toEqual(
        Float32Array.of(adamCorrectionAfter(t, 0.999)),
      );
    }
    expect(adamCorrectionAfter(9, 0.5)).not.toBe(adamCorrectionAfter(18, 0.5));
  });
});

describe('adamCorrectionAfter', () => {
  it('is 0 before the first step and f32(1 − β) after it', () => {
    expect(adamCorrectionAfter(0, 0.999)).toBe(0);
    expect(adamCorrectionAfter(1, 0.999)).toBe(Math.fround(1 - 0.999));
    expect(adamCorrectionAfter(5, 0)).toBe(1);
  });

  it('stalls below 1 for β2 = 0.999, as the f32 recurrence does (it never reaches 1 - βᵗ = 1)', () => {
    const stalled = adamCorrectionAfter(20_000, 0.999);
    expect(stalled).toBeLessThan(1);
    expect(adamCorrectionAfter(1_000_000, 0.999)).toBe(stalled);
    expect((1 - stalled) * 2 ** 24).toBe(500);
  });
});

function f32Bits(x: number): number {
  return new Uint32Array(Float32Array.of(x).buffer)[0]!;
}
