/**
 * Golden tests: the printed stages of the xor example (forward IR, training-step IR after the
 * passes, every WGSL kernel) compared with committed text. A reviewer reads their diff.
 * Regenerate with `UPDATE_GOLDEN=1 npx vitest run test/golden` after an intended change.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { printGraph } from '../../src/ir/print.js';

const dir = new URL('./', import.meta.url);

function golden(name: string, actual: string): void {
  const file = new URL(name, dir);
  if (process.env['UPDATE_GOLDEN'] || !existsSync(file)) writeFileSync(file, actual);
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
