/**
 * The railroad diagrams of the grammar as one self-contained HTML page, generated from the
 * parser itself so the picture never drifts from the code. Chevrotain's page loads its drawing
 * scripts and stylesheet from a CDN; here they are inlined from the installed package, so the
 * page renders offline. `npm run grammar` writes it to grammar/railroad.html.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createSyntaxDiagramsCode } from './chevrotain.js';
import { grammarProductions } from './index.js';

/** The files of Chevrotain's diagram renderer, in the order the page loads them. */
const SCRIPTS = [
  'vendor/railroad-diagrams.js',
  'src/diagrams_builder.js',
  'src/diagrams_behavior.js',
  'src/main.js',
];

/** Chevrotain's `diagrams/` folder in the installed package. */
function diagramsDir(): string {
  const entry = createRequire(import.meta.url).resolve('chevrotain');
  let dir = dirname(entry);
  while (!readable(join(dir, 'package.json'))) dir = dirname(dir);
  return join(dir, 'diagrams');
}

function readable(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A script's text, safe inside a `<script>` element. */
function inlineScript(text: string): string {
  return `<script>\n${text.replace(/<\/script/gi, '<\\/script')}\n</script>`;
}

/** The HTML page of railroad diagrams, one per grammar rule, with no network fetches. */
export function railroadHtml(): string {
  const base = 'nnx-inline:';
  const page = createSyntaxDiagramsCode(grammarProductions(), {
    resourceBase: base,
    css: `${base}diagrams.css`,
  });
  const dir = diagramsDir();
  let html = page.replace(
    `<link rel='stylesheet' href='${base}diagrams.css'>`,
    `<style>\n${readFileSync(join(dir, 'diagrams.css'), 'utf8')}\n</style>`,
  );
  for (const script of SCRIPTS) {
    html = html.replace(`<script src='${base}${script}'></script>`, () =>
      inlineScript(readFileSync(join(dir, script), 'utf8')),
    );
  }
  if (html.includes(base)) throw new Error('internal: a diagram resource was not inlined');
  return html;
}
