/**
 * Source spans from the IR to the kernels: each dispatch of a compiled spec names the .nnx
 * layers it computes (file:line and layer path; gradients as their forward layer's), `--emit
 * plan` prints it, and the runtime's errors about a kernel or dispatch quote it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describePlan } from '../../src/codegen/describe.js';
import { compile, compileGan } from '../../src/compile.js';
import { NnxModel, requestDevice } from '../../src/runtime/index.js';
import { checkSpecLimits, kernelOrigin, type SpecLimits } from '../../src/runtime/spec-check.js';
import type { ModelSpec } from '../../src/runtime/spec.js';

const MLP = `sequential M(x: [3]) {
  Dense(4, activation: relu)
  Dense(2, activation: softmax)
}

train M {
  data: iris
  loss: categorical_crossentropy
  optimizer: SGD(lr: 0.1)
  batch: 8
}
`;

/** Compiled with its kernels apart (`wholeStep`: true makes this small step one kernel). */
function compiled(text: string, files: Readonly<Record<string, string>> = {}, wholeStep = false) {
  const result = compile(text, { path: 'dir/m.nnx', readFile: (p) => files[p], wholeStep });
  expect(result.diagnostics).toEqual([]);
  return result.compiled!;
}

const origins = (spec: ModelSpec, entry: keyof ModelSpec['entries']) =>
  spec.entries[entry].dispatches.map((d) => d.origin);
/** Each distinct origin once, in dispatch order (softmax alone is four kernels of one layer). */
const distinct = (list: readonly (string | undefined)[]) => [...new Set(list)];

describe('every dispatch names the layers it computes', () => {
  const c = compiled(MLP);

  it('a forward kernel: the line and path of its layer', () => {
    expect(distinct(origins(c.spec, 'predict'))).toEqual(['dir/m.nnx:2 dense_1', 'dir/m.nnx:3 dense_2']);
  });

  it('a gradient kernel: its forward layer, marked; an update: the optimizer beside it', () => {
    const train = origins(c.spec, 'train');
    expect(train).toContain('dir/m.nnx:3 dense_2 (gradient), dir/m.nnx:2 dense_1 (gradient)');
    expect(train).toContain('dir/m.nnx:2 dense_1 (gradient), dir/m.nnx:9 optimizer');
    // Every kernel of the step comes from somewhere: a layer, the loss or the optimizer.
    expect(train.every((o) => o !== undefined)).toBe(true);
  });

  it("the loss and the optimizer's kernels: the lines of the train block that write them", () => {
    const train = distinct(origins(c.spec, 'train'));
    // The loss shares its row-block kernel with the softmax: look at each origin's parts.
    const parts = (list: readonly (string | undefined)[]) => list.flatMap((o) => o?.split(', ') ?? []);
    expect(parts(train)).toContain('dir/m.nnx:8 loss');
    expect(parts(train)).toContain('dir/m.nnx:8 loss (gradient)');
    expect(parts(origins(c.spec, 'evaluate'))).toContain('dir/m.nnx:8 loss');
    // Every loss or optimizer kernel names a line; none is a bare `loss` or `optimizer`.
    expect(train.filter((o) => /(^|, )(loss|optimizer)\b/.test(o ?? ''))).toEqual([]);
  });

  it('a default optimizer, or one set on the command line, comes from the train block header', () => {
    const text = MLP.replace('  optimizer: SGD(lr: 0.1)\n', '');
    const origin = (r: ReturnType<typeof compile>) =>
      distinct(origins(r.compiled!.spec, 'train')).filter((o) => o?.includes('optimizer'));
    const plain = compile(text, { path: 'dir/m.nnx', wholeStep: false });
    expect(plain.diagnostics).toEqual([]);
    expect(origin(plain).every((o) => /dir\/m\.nnx:6 optimizer$/.test(o!))).toBe(true);
    const set = compile(MLP, { path: 'dir/m.nnx', settings: ['optimizer=Adam(lr: 0.01)'], wholeStep: false });
    expect(set.diagnostics).toEqual([]);
    expect(origin(set).length).toBeGreaterThan(0);
    expect(origin(set).every((o) => /dir\/m\.nnx:6 optimizer$/.test(o!))).toBe(true);
  });

  it("a GAN's loss, noise and each side's optimizer: the gan block's lines", () => {
    const gan = `sequential G(z: [2]) {
  Dense(3, activation: tanh)
}
sequential D(x: [3]) {
  Dense(1, activation: sigmoid)
}
gan Pair {
  generator: G
  discriminator: D
  data: mnist
  noise: uniform
  d_optimizer: SGD(lr: 0.1)
  batch: 4
}
`;
    const { compiled: c, diagnostics } = compileGan(gan, { path: 'g.nnx', wholeStep: false });
    expect(diagnostics).toEqual([]);
    const of = (entry: 'd_step' | 'g_step'): string[] =>
      distinct(c!.spec.entries[entry].dispatches.flatMap((d) => d.origin!.split(', '))).filter(
        (o) => o !== undefined,
      );
    expect(of('d_step')).toEqual(
      expect.arrayContaining(['g.nnx:11 noise', 'g.nnx:7 loss', 'g.nnx:12 discriminator optimizer']),
    );
    // The generator's optimizer is the default: the block's header line.
    expect(of('g_step')).toEqual(expect.arrayContaining(['g.nnx:11 noise', 'g.nnx:7 generator optimizer']));
    // Each step updates its own side only, and its kernels say so.
    expect(of('d_step').filter((o) => o.endsWith('generator optimizer'))).toEqual([]);
    expect(of('g_step').filter((o) => o.endsWith('discriminator optimizer'))).toEqual([]);
  });

  it('a whole-step kernel: every layer, loss and optimizer line of its steps', () => {
    const whole = compiled(MLP, {}, true).spec;
    expect(origins(whole, 'train')).toEqual([
      'dir/m.nnx:2 dense_1, dir/m.nnx:3 dense_2, dir/m.nnx:8 loss, dir/m.nnx:8 loss (gradient), 3 more',
    ]);
    expect(origins(whole, 'predict')).toEqual(['dir/m.nnx:2 dense_1, dir/m.nnx:3 dense_2']);
  });

  it('--emit plan prints it after each kernel', () => {
    const plan = describePlan(c);
    expect(plan).toMatch(
      /\n {2}matmul_add_relu_\d+: matmul %3, add %4\*?, relu %5\*; .*; from dir\/m\.nnx:2 dense_1\n/,
    );
  });

  it('a layer of an imported block names the imported file and its line', () => {
    const lib = 'block Head(x) {\n  Dense(5, activation: relu)\n}\n';
    const text = `import "lib.nnx"\n\nsequential M(x: [3]) {\n  Head()\n  Dense(2, activation: softmax)\n}\n${MLP.slice(MLP.indexOf('train'))}`;
    const spec = compiled(text, { 'dir/lib.nnx': lib }).spec;
    expect(distinct(origins(spec, 'predict'))).toEqual([
      'dir/lib.nnx:2 head_1/dense_1',
      'dir/m.nnx:5 dense_1',
    ]);
  });
});

describe('runtime errors about a kernel or a dispatch name its layers', () => {
  const spec = compiled(MLP).spec;
  const roomy: SpecLimits = {
    maxStorageBufferBindingSize: 1 << 27,
    maxBufferSize: 1 << 28,
    maxStorageBuffersPerShaderStage: 8,
    maxComputeWorkgroupsPerDimension: 65535,
  };

  it('a dispatch beyond the workgroup limit', () => {
    expect(() => checkSpecLimits(spec, { ...roomy, maxComputeWorkgroupsPerDimension: 0 })).toThrow(
      /^entry 'train' dispatch 0 \(kernel 'matmul_add_relu_\d+'\) \(from dir\/m\.nnx:2 dense_1\) asks for workgroups/,
    );
  });

  it('a kernel with more bindings than the device allows: every layer it serves', () => {
    const widest = Math.max(...spec.kernels.map((k) => k.bindings));
    const index = spec.kernels.findIndex((k) => k.bindings === widest);
    const origin = kernelOrigin(spec, index)!;
    expect(origin).toMatch(/dir\/m\.nnx:\d/);
    expect(() => checkSpecLimits(spec, { ...roomy, maxStorageBuffersPerShaderStage: widest - 1 })).toThrow(
      `kernel '${spec.kernels[index]!.name}' (from ${origin}) uses ${widest} storage buffers`,
    );
  });

  describe('on the adapter', () => {
    let device: GPUDevice;
    beforeAll(async () => {
      device = await requestDevice();
    });
    afterAll(() => device?.destroy());

    it('a WGSL error in a kernel names the layer whose dispatch runs it', async () => {
      const first = spec.entries.predict.dispatches[0]!;
      const kernels = spec.kernels.map((k, i) =>
        i === first.kernel ? { ...k, wgsl: '@compute @workgroup_size(1)\nfn main( {\n}\n' } : k,
      );
      await expect(NnxModel.create({ ...spec, kernels }, { device })).rejects.toThrow(
        /\(kernel \d+\) \(from dir\/m\.nnx:2 dense_1\) has WGSL errors/,
      );
    });
  });
});
