/** nnxc graph: DOT with clusters for block instances and links between shared calls; SVG by Graphviz. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nnxc, tempDir, writeFiles } from './run-in-process.js';

const SIAMESE = `block Encoder(width: int)(x) {
  h = Dense(width, activation: relu)(x)
  return Dense(width, activation: tanh)(h)
}
model Siamese(left: [8], right: [8]) -> (same: [1]) {
  let encoder = Encoder(16)
  d = abs(encoder(left) - encoder(right))
  same = Dense(1, activation: sigmoid)(d)
}
`;

const RESIDUAL = `block Residual(width: int)(x) {
  h = Dense(width, activation: relu)(x)
  h = Dense(width)(h)
  return relu(x + h)
}
block Tower(width: int, depth: int) {
  Dense(width, activation: relu)
  repeat depth { Residual(width) }
}
sequential ResidualXor(x: [2]) {
  Tower(8, 3)
  Dense(1, activation: sigmoid)
}
`;

const sources = writeFiles({ 'siamese.nnx': SIAMESE, 'residual.nnx': RESIDUAL });

describe('nnxc graph', () => {
  it('writes DOT with the shared encoder linked and its block instance as a cluster', async () => {
    const out = join(tempDir(), 'siamese.dot');
    const r = await nnxc(['graph', join(sources, 'siamese.nnx'), '-o', out]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`wrote ${out}: 5 layer calls, 9 edges\n`);
    const dot = readFileSync(out, 'utf8');
    expect(dot).toMatch(/^digraph "Siamese" \{/);
    expect(dot).toMatch(/subgraph cluster_0 \{\n\s+label=<<b>encoder<\/b>>/);
    expect(dot.match(/shares weights/g)).toHaveLength(2);
    expect(dot).toMatch(/n0 \[shape=oval.*<b>left<\/b>/);
  });

  it('lays the graph out as SVG with Graphviz', async () => {
    const out = join(tempDir(), 'residual.svg');
    const r = await nnxc(['graph', join(sources, 'residual.nnx'), '-o', out]);
    expect(r.code).toBe(0);
    const svg = readFileSync(out, 'utf8');
    expect(svg).toContain('<svg');
    expect(svg).toContain('residual_3');
    expect(svg.match(/class="cluster"/g)).toHaveLength(4); // tower_1 and its three residual blocks
  });

  it('refuses an output that is neither .svg nor .dot', async () => {
    const r = await nnxc(['graph', 'examples/xor.nnx', '-o', 'x.png']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("-o must name a .svg or .dot file, got 'x.png'");
  });
});
