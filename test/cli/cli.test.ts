/**
 * nnxc end to end, through the built binary as a user runs it: exit codes, rendered errors
 * without stack traces, the JSON lines of `train`, and the no-adapter message.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;

function nnxc(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(root, 'bin/nnxc.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 300_000,
  });
  // Dawn's own two "Warning: … artificially reduced …" lines (lavapipe) are dropped by bin/nnxc.js.
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'nnxc-')), name);
  writeFileSync(path, text);
  return path;
}

beforeAll(() => {
  // The binary runs dist/; build it from the current sources.
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
    { cwd: root },
  );
});

describe('nnxc check: bad input is an error at its line and column, exit code 1, no stack trace', () => {
  const cases: [string, string, string][] = [
    [
      'a syntax error',
      'sequential X(x: [2]) {\n  Dense(3 activation: relu)\n}\n',
      ":2:11: error: missing ',' between the arguments of 'Dense': expected ',' or ')', found 'activation'",
    ],
    [
      'an unknown layer',
      'sequential X(x: [2]) {\n  Danse(3)\n}\n',
      ':2:3: error: unknown layer `Danse`; did you mean `Dense`?',
    ],
    [
      'a bad argument',
      'sequential X(x: [2]) {\n  Dense(0)\n}\n',
      ':2:9: error: argument `units` of Dense must be an integer ≥ 1, not the number 0',
    ],
    [
      'a shape mismatch',
      'model X(a: [2], b: [3]) {\n  return a * b\n}\n',
      ':2:12: error: cannot apply `*` to shapes [2] and [3] (per sample)',
    ],
  ];
  for (const [what, text, message] of cases) {
    it(what, () => {
      const file = tempFile('m.nnx', text);
      const r = nnxc(['check', file]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${file}${message}`);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });
  }

  it('accepts the examples', () => {
    for (const ex of ['xor.nnx', 'xor_deep.nnx']) {
      const r = nnxc(['check', `examples/${ex}`]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  });

  it('names a missing file', () => {
    const r = nnxc(['check', 'no/such.nnx']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('nnxc: error: cannot read no/such.nnx: no such file\n');
  });

  it('rejects an unknown command with the usage text and exit code 2', () => {
    const r = nnxc(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });
});

describe('nnxc compile', () => {
  it('--emit ir prints the forward graph', () => {
    const r = nnxc(['compile', 'examples/xor.nnx', '--emit', 'ir']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('%3 = matmul %0, %1 : [B,3]');
  });
  it('--emit grad prints the training step with the optimizer update', () => {
    const r = nnxc(['compile', 'examples/xor.nnx', '--emit', 'grad']);
    expect(r.stdout).toMatch(/update dense_1\/kernel = %\d+ -> %1/);
  });
  it('--emit wgsl prints every kernel', () => {
    // xor's step is one whole-step kernel: its temporaries in workgroup memory.
    const r = nnxc(['compile', 'examples/xor.nnx', '--emit', 'wgsl']);
    expect(r.stdout).toMatch(/^\/\/ kernel whole_step_0$/m);
    expect(r.stdout).toMatch(/^var<workgroup> w\d+: array<f32, \d+>;$/m);
    const mlp = nnxc(['compile', 'examples/mnist_mlp.nnx', '--emit', 'wgsl']);
    expect(mlp.stdout).toMatch(/@compute @workgroup_size\(\d+, \d+\)/);
  });
  it('--emit plan lists the kernels of each entry with their ops, bytes, grids and layers, for models and GANs', () => {
    const model = nnxc(['compile', 'examples/xor.nnx', '--emit', 'plan']);
    expect(model.code).toBe(0);
    expect(model.stdout).toMatch(/^train: \d+ kernels, batch 4, temporaries peak /m);
    expect(model.stdout).toMatch(
      /^ {2}whole_step\w*: .*matmul %\d+.*; reads [\d.]+ \w?B, writes [\d.]+ \w?B; grid 1×1×1 = 1 workgroups; from examples\/xor\.nnx:4 dense_1, examples\/xor\.nnx:5 dense_2, /m,
    );
    // A matmul kernel lists its GPU tiles' grid beside its default one.
    const mlp = nnxc(['compile', 'examples/mnist_mlp.nnx', '--emit', 'plan']);
    expect(mlp.stdout).toMatch(
      /^ {2}matmul\w*: .*; grid \d+×\d+×\d+ = \d+ workgroups; or gpu tiles, grid \d+×\d+×\d+; from examples\/mnist_mlp\.nnx:\d+ dense_\d/m,
    );
    // So do the convolutions, the split filter gradient with its slices in z.
    const cnn = nnxc(['compile', 'examples/mnist_cnn.nnx', '--emit', 'plan']);
    for (const kind of ['conv2d', 'conv2d_input_grad', 'conv2d_filter_grad'])
      expect(cnn.stdout).toMatch(
        new RegExp(
          `^ {2}${kind}_\\d+: .*; grid \\d+×\\d+×\\d+ = \\d+ workgroups; or gpu tiles, grid \\d+×\\d+×\\d+; from `,
          'm',
        ),
      );
    expect(cnn.stdout).toMatch(/^ {2}conv2d_filter_grad_\d+: .*; or gpu tiles, grid \d+×\d+×[2-9]\d*; /m);
    const gan = nnxc(['compile', 'examples/gan_mnist.nnx', '--emit', 'plan']);
    expect(gan.code).toBe(0);
    const entries = gan.stdout.match(/^\w+(?=: \d+ kernels)/gm);
    expect(entries).toEqual(['d_step', 'g_step', 'generate']);
    // The GAN's kernels name the layers of its two models, renamed by side.
    expect(gan.stdout).toMatch(/; from examples\/gan_mnist\.nnx:\d+ generator\/dense_1$/m);
    expect(gan.stdout).toMatch(/; from examples\/gan_mnist\.nnx:\d+ discriminator\/dense_1 \(gradient\)/m);
  });
  it('--emit plan marks kernels reading over 1 MiB that launch fewer workgroups than the adapter runs', () => {
    // The CNN's filter gradients read megabytes in a handful of workgroups: fine for 16 CPU
    // threads only where they launch 16 or more, never on an H100's 2,112.
    const lavapipe = nnxc(['compile', 'examples/mnist_cnn.nnx', '--emit', 'plan']);
    const h100 = nnxc(['compile', 'examples/mnist_cnn.nnx', '--emit', 'plan', '--adapter', 'h100']);
    expect(lavapipe.stdout).toMatch(/^adapter lavapipe: 16 workgroups at once;/);
    expect(h100.stdout).toMatch(/^adapter h100: 2112 workgroups at once;/);
    const marked = (out: string) =>
      out
        .split('\n')
        .filter((l) => l.startsWith('! '))
        .map((l) => {
          const [, read, unit, count] =
            /reads ([\d.]+) (\w+);.* = (\d+) workgroups(?:; or \w+ tiles, grid [\d×]+)*(?:; from .*)?$/.exec(
              l.replace(/, writes [^;]+/, ''),
            )!;
          return { mib: unit === 'MiB' ? Number(read) : 0, count: Number(count) };
        });
    for (const k of marked(lavapipe.stdout)) expect(k.mib > 1 && k.count < 16).toBe(true);
    for (const k of marked(h100.stdout)) expect(k.mib > 1 && k.count < 2112).toBe(true);
    expect(marked(h100.stdout).length).toBeGreaterThan(marked(lavapipe.stdout).length);
    // Split reductions, split-K and split filter gradients (#16) fill the 16 CPU threads.
    expect(marked(lavapipe.stdout)).toEqual([]);
    expect(marked(nnxc(['compile', 'examples/mnist_mlp.nnx', '--emit', 'plan']).stdout)).toEqual([]);
    expect(nnxc(['compile', 'examples/xor.nnx', '--adapter', 'tpu']).stderr).toContain(
      '--adapter must be one of lavapipe, h100',
    );
  });
  it('-o writes the generated module', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'nnxc-')), 'xor.ts');
    const r = nnxc(['compile', 'examples/xor.nnx', '-o', out]);
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain("from 'nnx/runtime'");
  });
});

describe('nnxc train', () => {
  it('prints one JSON line per epoch and a final line, and learns xor', () => {
    const r = nnxc(['train', 'examples/xor_deep.nnx', '--json', '--seed', '1']);
    expect(r.stderr).toBe(''); // Dawn's lavapipe warnings included: bin/nnxc.js drops them
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.length).toBe(1001);
    expect(lines[0]).toMatchObject({ epoch: 1 });
    const final = lines[lines.length - 1];
    expect(final).toMatchObject({ final: true, model: 'XorDeep', accuracy: 1 });
    expect(final.loss).toBeLessThan(lines[0].loss);
  });

  it('without an adapter, trains on the wasm backend under auto and says in one line how to get one for webgpu', () => {
    const noAdapter = { VK_DRIVER_FILES: '/nonexistent/icd.json', VK_ICD_FILENAMES: '/nonexistent/icd.json' };
    const auto = nnxc(['train', 'examples/xor.nnx', '--epochs', '1'], noAdapter);
    // Dawn's Vulkan loader says on stderr that it found no driver; nnxc itself says nothing there.
    expect(auto.stderr).not.toContain('nnxc');
    expect(auto.code).toBe(0);
    expect(auto.stdout).toMatch(/^backend: wasm, CPU \(WebAssembly SIMD128, 1 thread\)\n/);
    const webgpu = nnxc(['train', 'examples/xor.nnx', '--epochs', '1', '--backend', 'webgpu'], noAdapter);
    expect(webgpu.code).toBe(1);
    expect(webgpu.stderr.split('\n').filter((l) => l.startsWith('nnxc'))).toEqual([
      'nnxc: error: --backend webgpu: no WebGPU adapter was found; run on the CPU with --backend wasm, or ' +
        "install a GPU driver (Vulkan, Metal or D3D12) or, on a machine without a GPU, Mesa's lavapipe " +
        '(as root: sh scripts/setup-webgpu.sh)',
    ]);
  });
});
