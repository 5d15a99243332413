/** What the layer tests share: a source lowered to its (only) model, and its rendered errors. */
import { expect } from 'vitest';
import { check } from '../../../src/compile.js';
import type { ModelIR } from '../../../src/lower/lower.js';
import { renderDiagnostics } from '../../../src/util/diagnostics.js';

/** The first model of `text`, which must check without diagnostics. */
export function lower(text: string): ModelIR {
  const { models, diagnostics } = check(text);
  expect(diagnostics).toEqual([]);
  return [...models.values()][0]!;
}

/** Every diagnostic of `text`, rendered as the CLI prints them (file `m.nnx`). */
export function errorsOf(text: string): string {
  return renderDiagnostics({ path: 'm.nnx', text }, check(text).diagnostics);
}
