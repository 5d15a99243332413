/**
 * Names of Object.prototype members in each registry role (layer, initializer, optimizer,
 * a call in the learning rate's place): each is a located diagnostic, never a lookup of a built-in.
 */
import { describe, expect, it } from 'vitest';
import { check } from '../../src/compile.js';

const NAMES = ['constructor', '__proto__', 'hasOwnProperty', 'toString', 'valueOf'];

describe('prototype member names in registries', () => {
  it.each(NAMES)('%s as a layer, initializer, optimizer and schedule is an unknown name', (name) => {
    const text = [
      'sequential M(x: [2]) {',
      `  ${name}(3)`,
      `  Dense(1, kernel_initializer: ${name}, activation: sigmoid)`,
      '}',
      'train M {',
      '  data: xor',
      '  loss: mse',
      `  optimizer: ${name}(lr: 0.1)`,
      '}',
      'train M {',
      '  data: xor',
      '  loss: mse',
      `  optimizer: SGD(lr: ${name}(0.1))`,
      '}',
      '',
    ].join('\n');
    const { diagnostics } = check(text, { path: 'm.nnx' });
    const located = diagnostics.map((d) => [d.code, text.slice(d.span.start, d.span.end).startsWith(name)]);
    expect(diagnostics.length).toBeGreaterThanOrEqual(4);
    for (const [code, atName] of located) {
      expect(['E0101', 'E0103', 'E0105']).toContain(code);
      expect(atName).toBe(true);
    }
  });
});
