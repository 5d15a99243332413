/**
 * Chevrotain's values, loaded from the one-file bundle its package ships (lib/chevrotain.mjs).
 * The package's entry point imports lodash-es as hundreds of small modules: on this project's
 * 2-core machine importing it took 0.41 s of the compiler's 0.57 s start, the bundle 0.09 s,
 * and every `nnxc` command and first training step waits for it. The `exports` map hides the
 * bundle, so it is found beside the entry point Node resolves; where it is missing (another
 * layout), the entry point itself is loaded. Types come from the package as usual.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

type Chevrotain = typeof import('chevrotain');

async function loadChevrotain(): Promise<Chevrotain> {
  const entry = createRequire(import.meta.url).resolve('chevrotain'); // …/chevrotain/lib/src/api.js
  const bundle = join(dirname(entry), '..', 'chevrotain.mjs');
  if (existsSync(bundle)) return (await import(pathToFileURL(bundle).href)) as Chevrotain;
  return import('chevrotain');
}

const chevrotain = await loadChevrotain();

export const { CstParser, EOF, Lexer, createSyntaxDiagramsCode, createToken, tokenMatcher } = chevrotain;
