/**
 * Names of Object.prototype's members, used where a vocabulary name goes, are unknown names
 * with a located diagnostic, never an entry found through the prototype (a crash later).
 */
import { describe, expect, it } from 'vitest';
import { check } from '../../src/compile.js';
import { hasErrors, renderDiagnostics } from '../../src/util/diagnostics.js';

const NAMES = ['constructor', '__proto__', 'hasOwnProperty', 'toString', 'valueOf', 'isPrototypeOf'];

/** Each role a vocabulary name plays, with `@` where the name goes. */
const ROLES: Record<string, string> = {
  layer: 'sequential M(x: [2]) {\n  @(3)\n}\n',
  initializer: 'sequential M(x: [2]) {\n  Dense(1, init: @)\n}\n',
  activation: 'sequential M(x: [2]) {\n  Dense(1, activation: @)\n}\n',
  regularizer: 'sequential M(x: [2]) {\n  Dense(1, kernel_regularizer: @(0.1))\n}\n',
  'parameter type': 'block B(n: @)(x) {\n  return x\n}\nsequential M(x: [2]) {\n  B(1)\n}\n',
  optimizer:
    'sequential M(x: [2]) {\n  Dense(1)\n}\ntrain M {\n  data: xor\n  loss: mse\n  optimizer: @(lr: 0.1)\n}\n',
  schedule:
    'sequential M(x: [2]) {\n  Dense(1)\n}\ntrain M {\n  data: xor\n  loss: mse\n  optimizer: SGD(lr: 0.1, schedule: @(step_size: 1))\n}\n',
  loss: 'sequential M(x: [2]) {\n  Dense(1)\n}\ntrain M {\n  data: xor\n  loss: @\n}\n',
  metric: 'sequential M(x: [2]) {\n  Dense(1)\n}\ntrain M {\n  data: xor\n  loss: mse\n  metrics: [@]\n}\n',
  dataset: 'sequential M(x: [2]) {\n  Dense(1)\n}\ntrain M {\n  data: @\n  loss: mse\n}\n',
  augmentation:
    'sequential M(x: [2]) {\n  Dense(1)\n}\ntrain M {\n  data: xor\n  loss: mse\n  augment: [@(p: 0.5)]\n}\n',
};

describe('Object.prototype names in vocabulary roles', () => {
  for (const [role, template] of Object.entries(ROLES)) {
    it(`are unknown as a ${role}, at their column`, () => {
      for (const name of NAMES) {
        const text = template.replace('@', name);
        const result = check(text, { path: 'm.nnx' });
        expect(hasErrors(result.diagnostics), `${role} ${name}`).toBe(true);
        const rendered = renderDiagnostics({ path: 'm.nnx', text }, result.diagnostics);
        expect(rendered, `${role} ${name}`).toContain(name);
        const offset = text.indexOf(name);
        expect(
          result.diagnostics.some((d) => d.span.start <= offset && offset < d.span.end),
          `${role} ${name}: no diagnostic at the name\n${rendered}`,
        ).toBe(true);
      }
    });
  }
});
