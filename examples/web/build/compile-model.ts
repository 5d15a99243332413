/**
 * Compiles the page's `.nnx` model into the TypeScript module the page imports, the same module
 * `nnxc compile model.nnx -o model.ts` writes. Runs inside Vite's config (in Node), through the
 * compiler's library entry point.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { codegenModule, compile, hasErrors, renderDiagnostics } from '../../../src/index.js';

/**
 * Compiles `sourcePath` and writes the generated module to `outPath`, only when its text changed
 * (so a dev server does not reload for nothing). Throws the rendered diagnostics when the source
 * does not compile. `repoRoot` makes the source path in the module's header relative.
 */
export async function compileModelModule(
  sourcePath: string,
  outPath: string,
  repoRoot: string,
): Promise<void> {
  const file = { path: relative(repoRoot, sourcePath), text: await readFile(sourcePath, 'utf8') };
  // With the wasm target too: a browser without WebGPU runs the same plan on the CPU.
  const result = compile(file.text, { wasm: true });
  if (hasErrors(result.diagnostics) || result.compiled === undefined) {
    throw new Error(`${file.path} does not compile:\n${renderDiagnostics(file, result.diagnostics)}`);
  }
  const text = await codegenModule(result.compiled.spec, file.path);
  const previous = await readFile(outPath, 'utf8').catch(() => undefined);
  if (previous === text) return;
  await mkdir(dirname(outPath), { recursive: true });
  await writeFile(outPath, text);
}
