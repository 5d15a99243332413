/**
 * Golden tests: the printed stages of the xor example (forward IR, training-step IR after the
 * passes, every WGSL kernel) and the forward IR of a GAN, compared with committed text. A
 * reviewer reads their diff. A missing golden file fails the test: regenerate with
 * `UPDATE_GOLDEN=1 npx vitest run test/golden` after an intended change, and commit the files.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { printGraph } from '../../src/ir/print.js';
import { nnxc } from '../cli/run-in-process.js';

const dir = new URL('./', import.meta.url);
const updating = process.env['UPDATE_GOLDEN'] === '1';

function golden(name: string, actual: string, update = updating): void {
  const file = new URL(name, dir);
  if (update) writeFileSync(file, actual);
  else if (!existsSync(file))
    throw new Error(`golden file ${name} is missing; write it with UPDATE_GOLDEN=1 and commit it`);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

describe('xor golden files', () => {
  const source = readFileSync(new URL('../../examples/xor.nnx', import.meta.url), 'utf8');
  const result = compile(source);
  it('compiles without diagnostics', () => expect(result.diagnostics).toEqual([]));
  it('forward IR', () => golden('xor.ir.txt', printGraph(result.model!.graph)));
  it('training-step IR (symbolic batch, before the passes)', () =>
    golden('xor.grad.txt', printGraph(result.compiled!.steps.train)));
  it('training-step IR after the passes', () =>
    golden('xor.train.txt', printGraph(result.compiled!.optimized.train)));
  it('WGSL kernels', () =>
    golden(
      'xor.wgsl',
      result.compiled!.spec.kernels.map((k) => `// kernel ${k.name}\n${k.wgsl}`).join('\n'),
    ));
});

describe('--emit ir is the forward IR for models and GANs alike', () => {
  it('prints the model forward graph for a model', async () => {
    const r = await nnxc(['compile', 'examples/xor.nnx', '--emit', 'ir']);
    expect(r.code).toBe(0);
    golden('xor.ir.txt', r.stdout);
  });
  it('prints both models forward graphs, with the symbolic batch, for a gan block', async () => {
    const r = await nnxc(['compile', 'examples/gan_mnist.nnx', '--emit', 'ir']);
    expect(r.code).toBe(0);
    // Forward graphs: no training step's inputs (the noise counter, the mask) and no updates.
    expect(r.stdout).not.toMatch(/noise\/step|update /);
    golden('gan_mnist.ir.txt', r.stdout);
  });
});

describe('a golden test cannot pass without its file', () => {
  it('fails on a missing golden file unless UPDATE_GOLDEN=1', () => {
    expect(() => golden('no-such-golden.txt', 'text', false)).toThrow(
      /golden file no-such-golden.txt is missing/,
    );
    expect(existsSync(new URL('no-such-golden.txt', dir))).toBe(false);
  });
});
