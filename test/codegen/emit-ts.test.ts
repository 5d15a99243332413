/**
 * The generated TypeScript module: it type-checks under strict tsc against the package's
 * runtime entry point, and, imported as an app would, it trains xor on the real adapter.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codegenModule, compile } from '../../src/compile.js';

const root = new URL('../../', import.meta.url).pathname;
const outDir = join(root, 'test/.out');

async function generate(example: string, module: string): Promise<string> {
  const result = compile(readFileSync(join(root, 'examples', example), 'utf8'));
  expect(result.diagnostics).toEqual([]);
  const text = await codegenModule(result.compiled!.spec, `examples/${example}`);
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, module);
  writeFileSync(path, text);
  return path;
}

describe('generated module', () => {
  it('is deterministic', async () => {
    const a = readFileSync(await generate('xor.nnx', 'xor_a.ts'), 'utf8');
    const b = readFileSync(await generate('xor.nnx', 'xor_b.ts'), 'utf8');
    expect(a).toBe(b);
    expect(a).toContain("import { NnxModel, type CreateModelOptions, type ModelSpec } from 'nnx/runtime';");
  });

  it('type-checks with tsc --noEmit (strict)', async () => {
    const path = await generate('xor.nnx', 'xor.ts');
    const tsconfig = join(outDir, 'tsconfig.json');
    writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: '../../tsconfig.json',
        compilerOptions: { noEmit: true, rootDir: '../..' },
        include: ['./xor.ts'],
      }),
    );
    // Throws with tsc's messages when the module does not type-check.
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], {
      encoding: 'utf8',
    });
    expect(readFileSync(path, 'utf8')).toMatch(/export const Xor = \{/);
  });

  it('trains xor to accuracy 1 when imported by an app', async () => {
    const path = await generate('xor_deep.nnx', 'xor_deep.ts');
    const { XorDeep } = await import(path);
    const model = await XorDeep.create({ seed: 3 });
    const data = {
      count: 4,
      inputs: { x: Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]) },
      targets: { target: Float32Array.from([0, 1, 1, 0]) },
    };
    const history = await model.fit(data, { epochs: 600 });
    const last = history.epochs[history.epochs.length - 1];
    expect(last.accuracy).toBe(1);
    expect(last.loss).toBeLessThan(history.epochs[0].loss / 4);
    const p: Float32Array = await model.predict({ x: data.inputs.x }, 4);
    expect(Array.from(p, (v) => (v > 0.5 ? 1 : 0))).toEqual([0, 1, 1, 0]);
    // Weights survive a safetensors round trip into a fresh model.
    const bytes = await model.saveBytes();
    const other = await XorDeep.create({ seed: 99 });
    other.loadBytes(bytes);
    expect(Array.from(await other.predict({ x: data.inputs.x }, 4))).toEqual(Array.from(p));
    model.destroy();
    other.destroy();
  });
});
