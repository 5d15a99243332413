/** The railroad diagrams: generated from the parser, self-contained, and committed up to date. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { railroadHtml } from '../../src/parser/railroad.js';

describe('railroad diagrams', () => {
  const html = railroadHtml();

  it('draw every rule with the renderer inlined: the page fetches nothing', () => {
    expect(html).toContain('<!DOCTYPE html>');
    expect(html).toContain('"name": "blockDef"');
    expect(html).toContain('drawDiagramsFromSerializedGrammar');
    // URLs remain only in comments and XML namespaces; nothing is loaded from them.
    expect(html).not.toMatch(/<script[^>]*\ssrc=|<link\b|@import|url\(\s*['"]?https?:|fetch\(/);
  });

  it('grammar/railroad.html is the current grammar (run `npm run grammar` after changing the parser)', () => {
    const committed = readFileSync(new URL('../../grammar/railroad.html', import.meta.url), 'utf8');
    expect(committed === html, 'grammar/railroad.html is stale: run `npm run grammar`').toBe(true);
  });
});
