/**
 * One fuzz program through check → compile → codegen. Returns what went wrong (an escaped
 * exception, a diagnostic outside the file) and the WGSL it generated, which the caller
 * validates on the device in batches.
 */
import { codegenModule, compile, compileGan } from '../../src/compile.js';
import { hasErrors, renderDiagnostics } from '../../src/util/diagnostics.js';
import type { Diagnostic } from '../../src/util/diagnostics.js';

export interface FuzzOutcome {
  readonly problems: string[];
  readonly wgsl: string[];
  /** Whether the program compiled to a module (neither check nor compile reported errors). */
  readonly compiled: boolean;
}

/** Imported files, including a cycle back to the importer. */
const FILES: Readonly<Record<string, string>> = {
  'lib.nnx': 'import "more.nnx"\nblock L(x) {\n  return relu(x)\n}\n',
  'more.nnx': 'import "lib.nnx"\nblock K(x) {\n  return x\n}\n',
};
const readFile = (p: string) => {
  const text = Object.hasOwn(FILES, p) ? FILES[p] : undefined;
  if (text === undefined) throw new Error(`ENOENT: no such file '${p}'`);
  return text;
};

function spanProblems(
  text: string,
  diagnostics: readonly Diagnostic[],
  length: (file?: string) => number,
): string[] {
  const problems: string[] = [];
  for (const d of diagnostics) {
    const max = d.file === undefined ? text.length : length(d.file);
    const { start, end } = d.span;
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= max)) {
      problems.push(`${d.code} "${d.message}" has span ${start}..${end} outside 0..${max}`);
    }
  }
  return problems;
}

export async function runPipeline(text: string): Promise<FuzzOutcome> {
  const problems: string[] = [];
  const wgsl: string[] = [];
  const options = { path: 'm.nnx', readFile, overrides: { batch: 4 } };
  let compiled = false;
  try {
    const kind = /^\s*gan\s/m.test(text) ? 'gan' : 'model';
    const result = kind === 'gan' ? compileGan(text, options) : compile(text, options);
    const sources = result.sources;
    renderDiagnostics({ path: 'm.nnx', text }, result.diagnostics, sources);
    const lengthOf = (file?: string) => sources.get(file ?? '')?.text.length ?? Infinity;
    problems.push(...spanProblems(text, result.diagnostics, lengthOf));
    if (!hasErrors(result.diagnostics) && result.compiled) {
      compiled = true;
      const spec = result.compiled.spec;
      for (const k of spec.kernels) wgsl.push(k.wgsl);
      await codegenModule(spec, 'm.nnx');
    }
  } catch (e) {
    problems.push(`exception: ${(e as Error).stack ?? String(e)}`);
  }
  return { problems, wgsl, compiled };
}
