/**
 * Robustness: thousands of seeded random and mutated programs go through the parser and the
 * checker. Every run must end in diagnostics or success (never an exception, never a hang),
 * and every diagnostic must render.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { check } from '../src/compile.js';
import { hasErrors, renderDiagnostics } from '../src/util/diagnostics.js';

/** mulberry32: a small seeded generator, so a failure reproduces from its seed. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}
type Random = ReturnType<typeof generator>;

const EXAMPLES = readdirSync(new URL('../examples', import.meta.url))
  .filter((f) => f.endsWith('.nnx'))
  .map((f) => readFileSync(new URL(`../examples/${f}`, import.meta.url), 'utf8'));

const SNIPPETS = [
  'block B(n: int = 2, act: enum(relu, tanh) = relu)(x) {\n  h = Dense(n, activation: act)(x)\n  return x + h\n}\n',
  'block S(w: int) {\n  repeat 2 { Dense(w) }\n}\n',
  'block Split(x) {\n  return Dense(2)(x), Dense(3)(x)\n}\n',
  'model M(a: [4], b: [4]) -> (y: [4], z: [5]) {\n  let e = B(4)\n  y = e(a) - e(b)\n  p, q = Split()(a)\n  z = concat(p, q, axis: -1)\n}\n',
  'sequential Q(x: [4]) {\n  S(4)\n  repeat 3 { B(4) }\n  Dense(1, activation: sigmoid)\n}\n',
  'model T(x: [T, 4]) -> (y: [T, 4]) {\n  y = relu(x) * 2\n}\n',
  'train Q {\n  data: xor\n  loss: { output: mse }\n  loss_weights: { output: 0.5 }\n  optimizer: Adam(lr: 1e-3)\n  dims: { T: 3 }\n}\n',
  'import "lib.nnx"\n',
];

const TOKENS = [
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  ':',
  ';',
  '=',
  '->',
  '+',
  '-',
  '*',
  '/',
  '#',
  '"',
  'block',
  'repeat',
  'import',
  'let',
  'return',
  'model',
  'sequential',
  'train',
  'x',
  'Dense',
  'B',
  'M',
  'concat',
  'axis',
  '0',
  '1',
  '-1',
  '1000',
  '99999999999',
  '2.5',
  '1e309',
  '\n',
  ' ',
  '"lib.nnx"',
  'relu',
  'int',
  'enum',
];

/** Imported files for `import "lib.nnx"`, including a cycle back to the importer. */
const FILES: Readonly<Record<string, string>> = {
  'lib.nnx': 'import "more.nnx"\nblock L(x) {\n  return relu(x)\n}\n',
  'more.nnx': 'import "lib.nnx"\nblock K(x) {\n  return x\n}\n',
};

function mutate(text: string, rng: Random): string {
  const at = rng.int(text.length + 1);
  switch (rng.int(6)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1 + rng.int(12));
    case 1:
      return text.slice(0, at) + rng.pick(TOKENS) + text.slice(at);
    case 2: {
      const lines = text.split('\n');
      const i = rng.int(lines.length);
      lines.splice(i, 0, lines[rng.int(lines.length)]!);
      return lines.join('\n');
    }
    case 3:
      return text.replace(/\d+/, () => rng.pick(['0', '-3', '1000', '65536', '2.5', '']));
    case 4: {
      const names = [...new Set(text.match(/[A-Za-z_]\w*/g) ?? [])];
      return names.length ? text.replace(rng.pick(names), rng.pick(names)) : text;
    }
    default:
      return text.slice(0, at) + text.slice(rng.int(text.length + 1));
  }
}

/** A program assembled from snippets and example pieces, then mutated a few times. */
function program(rng: Random): string {
  const parts = Array.from({ length: 1 + rng.int(4) }, () =>
    rng.next() < 0.6 ? rng.pick(SNIPPETS) : rng.pick(EXAMPLES),
  );
  let text = parts.join('\n');
  const mutations = rng.int(5);
  for (let i = 0; i < mutations; i++) text = mutate(text, rng);
  return text;
}

describe('robustness', () => {
  it('answers 3000 random and mutated programs with diagnostics or success', () => {
    const rng = generator(20261123);
    let withErrors = 0;
    for (let run = 0; run < 3000; run++) {
      const text = program(rng);
      let outcome: ReturnType<typeof check>;
      try {
        outcome = check(text, { path: 'm.nnx', readFile: (p) => FILES[p] });
        renderDiagnostics({ path: 'm.nnx', text }, outcome.diagnostics, outcome.sources);
      } catch (e) {
        throw new Error(`run ${run} threw on:\n${text}\n${(e as Error).stack}`);
      }
      if (hasErrors(outcome.diagnostics)) withErrors++;
      for (const d of outcome.diagnostics) expect(d.span.start).toBeLessThanOrEqual(d.span.end);
    }
    // Both outcomes occur: the mutations are neither all harmless nor all fatal.
    expect(withErrors).toBeGreaterThan(300);
    expect(withErrors).toBeLessThan(3000);
  });
});
