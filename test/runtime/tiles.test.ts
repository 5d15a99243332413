/**
 * Which tiles a model runs in: `auto` picks by the adapter (register blocks on lavapipe), `tiles`
 * or NNX_TILES force one, and a whole training step in the GPU tiles equals the same step in the
 * default tiles and the f32 interpreter. The kernel-level checks are in test/codegen/tiles.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { NnxModel } from '../../src/runtime/index.js';
import type { WebGpuBackend } from '../../src/runtime/backend.js';
import { checkSpec } from '../../src/runtime/spec-check.js';
import type { KernelSpec, ModelSpec } from '../../src/runtime/spec.js';
import { requestedTiles, variantCount, withTiles } from '../../src/runtime/tiles.js';
import { interpretTrainSteps } from '../codegen/step-oracle.js';
import { randomArray, seededRandom } from '../ir/random.js';

// Odd widths and batch: no product is a multiple of the 64- or 32-wide GPU tile, and the
// 45-wide input and 10-wide output are not multiples of 4 (element loads beside vec4 ones).
// SGD with momentum rather than Adam: the optimizer is still fused into the weight-gradient
// products, but lavapipe compiles its shorter epilogue about twice as fast (a cold compile of
// this model with Adam took 88 CPU-s in the default tiles and 37 in the GPU tiles).
const source = `
model Mlp(x: [45]) -> (y: [10]) {
  h = Dense(68, activation: relu)(x)
  y = Dense(10, activation: sigmoid)(h)
}
train Mlp {
  data: xor
  loss: mse
  optimizer: SGD(lr: 0.1, momentum: 0.9)
  batch: 37
}
`;

// Separate kernels (no whole-step ones), so that each matmul is a kernel of its own with tiles.
function compiled(): { spec: ModelSpec; train: ReturnType<typeof compile>['compiled'] } {
  const result = compile(source, { wholeStep: false });
  expect(result.diagnostics).toEqual([]);
  return { spec: result.compiled!.spec, train: result.compiled };
}

/**
 * The weights after training in the GPU tiles equal those of the default tiles and the f32
 * interpreter's (`want`) within 1e-5 relative; returns how many moved from their initial values.
 */
function expectTilesAgree(
  gpu: { before: Map<string, Float32Array>; after: Map<string, Float32Array> },
  cpu: { after: Map<string, Float32Array> },
  want: ReadonlyMap<string, { data: ArrayLike<number> }>,
): number {
  let moved = 0;
  for (const [name, w] of gpu.after) {
    const c = cpu.after.get(name)!;
    const oracle = want.get(name)!.data;
    for (let i = 0; i < w.length; i++) {
      const scale = Math.max(1, Math.abs(oracle[i]!));
      expect(Math.abs(w[i]! - c[i]!)).toBeLessThan(1e-5 * scale);
      expect(Math.abs(w[i]! - oracle[i]!)).toBeLessThan(1e-5 * scale);
      if (w[i] !== gpu.before.get(name)![i]) moved++;
    }
  }
  return moved;
}

const tilesOf = (model: NnxModel) => (model.backend as WebGpuBackend<string>).tiles;

const LIMITS = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeWorkgroupsPerDimension: 65535,
};

describe('choosing the tiles', () => {
  const saved = process.env['NNX_TILES'];
  afterEach(() => {
    if (saved === undefined) delete process.env['NNX_TILES'];
    else process.env['NNX_TILES'] = saved;
  });

  it('every matmul kernel of a model carries GPU tiles; no other kernel does', () => {
    const { spec } = compiled();
    const matmuls = spec.kernels.filter((k) => k.name.startsWith('matmul'));
    expect(matmuls.length).toBeGreaterThan(3);
    expect(variantCount(spec, 'gpu')).toBe(matmuls.length);
    for (const k of matmuls) {
      const [v] = k.variants!;
      expect(v!.wgsl).toMatch(/var<workgroup> tileA: array<vec4<f32>/);
      expect(v!.wgsl).toContain('workgroupBarrier()');
      expect(k.wgsl).not.toContain('workgroupBarrier()');
    }
  });

  it('withTiles swaps each variant in with its grid, and keeps the default where a variant does not fit', () => {
    const { spec } = compiled();
    const gpu = withTiles(spec, 'gpu', LIMITS);
    const index = spec.kernels.findIndex((k) => k.variants !== undefined);
    const variant = spec.kernels[index]!.variants![0]!;
    expect(gpu.kernels[index]!.wgsl).toBe(variant.wgsl);
    const dispatches = gpu.entries.train.dispatches.filter((d) => d.kernel === index);
    expect(dispatches.length).toBeGreaterThan(0);
    for (const d of dispatches) expect(d.workgroups).toEqual(variant.workgroups);
    expect(withTiles(spec, 'cpu', LIMITS)).toBe(spec);
    // An adapter allowing 64 invocations per workgroup cannot run 16×16 or 8×8 tiles.
    const small = withTiles(spec, 'gpu', { ...LIMITS, maxComputeInvocationsPerWorkgroup: 32 });
    expect(small).toBe(spec);
  });

  it('NNX_TILES chooses when the option does not; an unknown value is an error', () => {
    process.env['NNX_TILES'] = 'gpu';
    expect(requestedTiles(undefined, 'create')).toBe('gpu');
    expect(requestedTiles('cpu', 'create')).toBe('cpu');
    process.env['NNX_TILES'] = 'fast';
    expect(() => requestedTiles(undefined, 'create')).toThrow(
      /NNX_TILES must be one of auto, cpu, gpu, measure, got 'fast'/,
    );
    delete process.env['NNX_TILES'];
    expect(requestedTiles(undefined, 'create')).toBe('auto');
    expect(() => requestedTiles('big' as never, 'NnxModel.create')).toThrow(/NnxModel.create: tiles must be/);
  });

  it('checkSpec refuses a variant without a grid or of an unknown tiling', () => {
    const { spec } = compiled();
    const broken = (variant: object): ModelSpec => ({
      ...spec,
      kernels: spec.kernels.map((k, i) =>
        i === 0 ? ({ ...k, variants: [{ ...k.variants![0]!, ...variant }] } as KernelSpec) : k,
      ),
    });
    expect(() => checkSpec(broken({ workgroups: [1, 1] }))).toThrow(/gpu variant lacks its WGSL, its grid/);
    expect(() => checkSpec(broken({ tiles: 'tpu' }))).toThrow(/variant of tiles 'tpu'/);
    expect(() => checkSpec(spec)).not.toThrow();
  });

  it('auto runs the register blocks on lavapipe (a CPU adapter); tiles: gpu forces the GPU tiles', async () => {
    const { spec } = compiled();
    const auto = await NnxModel.create(spec, { backend: 'webgpu' });
    const forced = await NnxModel.create(spec, { backend: 'webgpu', tiles: 'gpu' });
    try {
      const adapter = (auto.backend as WebGpuBackend<string>).device.adapterInfo;
      const cpuLike = adapter.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader/i.test(adapter.description);
      expect(tilesOf(auto)).toBe(cpuLike ? 'cpu' : 'gpu');
      expect(tilesOf(forced)).toBe('gpu');
    } finally {
      auto.destroy();
      forced.destroy();
    }
  });
});

describe('a training step in the GPU tiles', () => {
  it('equals the step in the default tiles, in the measured ones, and the f32 interpreter (the momentum update fused into the weight-gradient products)', async () => {
    const { spec, train } = compiled();
    const rand = seededRandom(3);
    const count = 29; // of a batch of 37: masked padding
    const x = Float32Array.from(randomArray(rand, count * 45));
    const target = Float32Array.from(randomArray(rand, count * 10, 0, 1));
    const steps = 2;
    const run = async (tiles: 'cpu' | 'gpu' | 'measure') => {
      const model = await NnxModel.create(spec, { seed: 4, backend: 'webgpu', tiles });
      expect(tilesOf(model)).toBe(tiles === 'measure' ? 'measured' : tiles);
      const before = await model.getWeights();
      for (let s = 0; s < steps; s++) model.trainStep({ x, target });
      const after = await model.getWeights();
      model.destroy();
      return { before, after };
    };
    const cpu = await run('cpu');
    const gpu = await run('gpu');
    // Measuring runs the products on the new buffers before they are initialised: the step
    // must still start from the seed's weights and zero momentum.
    const measured = await run('measure');
    for (const [name, w] of measured.after) {
      const c = cpu.after.get(name)!;
      for (let i = 0; i < w.length; i++)
        expect(Math.abs(w[i]! - c[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(c[i]!)));
    }
    const want = interpretTrainSteps(train!.optimized.train, gpu.before, { x, target }, count, steps);
    const moved = expectTilesAgree(gpu, cpu, want);
    expect(moved).toBeGreaterThan(1000);
  });
});

// A small CNN: same padding on odd 9×9 images, a stride-2 layer, channels (3, 8, 10) and a
// batch (7) no tile divides (8 channels: some operands gathered by vec4, the others not); SGD,
// so lavapipe compiles a short update.
const cnnSource = `
model Cnn(x: [9, 9, 3]) -> (y: [5]) {
  c = Conv2D(8, 3, padding: same, activation: relu)(x)
  d = Conv2D(10, 3, strides: 2, padding: same, activation: tanh)(c)
  y = Dense(5)(Flatten()(d))
}
train Cnn {
  data: xor
  loss: mse
  optimizer: SGD(lr: 0.05)
  batch: 7
}
`;

describe('a CNN training step in the GPU tiles', () => {
  it('every convolution kernel carries GPU tiles, and the step equals the default tiles and the f32 interpreter', async () => {
    const result = compile(cnnSource, { wholeStep: false });
    expect(result.diagnostics).toEqual([]);
    const { spec } = result.compiled!;
    const convs = spec.kernels.filter((k) => k.name.startsWith('conv2d'));
    // Forward twice, the input gradient of the second layer, both filter gradients.
    expect(new Set(convs.map((k) => k.name.replace(/_\d+$/, ''))).size).toBe(3);
    for (const k of convs) {
      const [v] = k.variants!;
      expect(v!.wgsl).toContain('var<workgroup> tileA');
      expect(v!.workgroupBytes).toBeGreaterThan(0);
    }
    const rand = seededRandom(5);
    const count = 6; // of a batch of 7: masked padding
    const x = Float32Array.from(randomArray(rand, count * 9 * 9 * 3));
    const target = Float32Array.from(randomArray(rand, count * 5, 0, 1));
    const run = async (tiles: 'cpu' | 'gpu') => {
      const model = await NnxModel.create(spec, { seed: 6, backend: 'webgpu', tiles });
      expect(tilesOf(model)).toBe(tiles);
      const before = await model.getWeights();
      model.trainStep({ x, target });
      const after = await model.getWeights();
      model.destroy();
      return { before, after };
    };
    const cpu = await run('cpu');
    const gpu = await run('gpu');
    const want = interpretTrainSteps(result.compiled!.optimized.train, gpu.before, { x, target }, count, 1);
    const moved = expectTilesAgree(gpu, cpu, want);
    expect(moved).toBeGreaterThan(500);
  });
});
