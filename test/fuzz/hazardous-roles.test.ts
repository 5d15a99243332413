/**
 * Hazardous names in every role a name can play (model, input, output, layer, let, block,
 * block parameter, gan): each program compiles, its generated module type-checks under strict
 * tsc (one run over all of them), and a model whose input is named like a slot the step uses
 * itself (`target`, `output`, `mask`, `loss`) trains and predicts exactly as the same model
 * with its input named `x`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codegenModule, compile, compileGan } from '../../src/compile.js';
import { NnxModel } from '../../src/runtime/index.js';
import { HAZARDOUS_NAMES } from './programs.js';

const root = new URL('../../', import.meta.url).pathname;
const outDir = join(root, 'test/.out/hazard-roles');

/** The fuzzer's names plus the names the step, the spec and the module use themselves. */
const NAMES = [
  ...HAZARDOUS_NAMES,
  ...['loss', 'inputs', 'targets', 'count', 'batch', 'metric', 'optimizer', 'random', 'step'],
  ...['Float32Array', 'typedModel', 'TypedModel', 'yield', 'await', 'prototype'],
];

const xorTrain = (model: string) => `train ${model} {\n  data: xor\n  loss: mse\n}\n`;
const dense = 'Dense(1, activation: sigmoid)';

const ROLES: Readonly<Record<string, (n: string) => string>> = {
  model: (n) => `sequential ${n}(x: [2]) {\n  ${dense}\n}\n${xorTrain(n)}`,
  input: (n) => `sequential M(${n}: [2]) {\n  ${dense}\n}\n${xorTrain('M')}`,
  output: (n) => `model M(x: [2]) -> (${n}: [1]) {\n  ${n} = ${dense}(x)\n}\n${xorTrain('M')}`,
  'one of two outputs': (n) =>
    `model M(x: [2]) -> (${n}: [1], other: [1]) {\n  ${n} = ${dense}(x)\n  other = Dense(1)(x)\n}\n` +
    `train M {\n  data: npy(inputs: "x.npy", targets: "y.npy")\n  loss: mse\n}\n`,
  layer: (n) =>
    `model M(x: [2]) -> (y: [1]) {\n  ${n} = Dense(3, activation: relu)(x)\n  y = ${dense}(${n})\n}\n${xorTrain('M')}`,
  let: (n) => `model M(x: [2]) -> (y: [1]) {\n  let ${n} = ${dense}\n  y = ${n}(x)\n}\n${xorTrain('M')}`,
  block: (n) =>
    `block ${n}(w: int) {\n  Dense(w, activation: relu)\n}\nsequential M(x: [2]) {\n  ${n}(3)\n  ${dense}\n}\n${xorTrain('M')}`,
  'block parameter': (n) =>
    `block B(${n}: int) {\n  Dense(${n}, activation: relu)\n}\nsequential M(x: [2]) {\n  B(3)\n  ${dense}\n}\n${xorTrain('M')}`,
  gan: (n) =>
    `sequential G(z: [4]) {\n  Dense(784, activation: tanh)\n}\nsequential D(x: [784]) {\n  ${dense}\n}\n` +
    `gan ${n} {\n  generator: G\n  discriminator: D\n  noise: normal\n  data: mnist\n  loss: binary_crossentropy\n  batch: 8\n}\n`,
};

function typeCheck(files: readonly string[]): string {
  const tsconfig = join(outDir, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: '../../../tsconfig.json',
      compilerOptions: { noEmit: true, rootDir: '../../..' },
      include: files.map((f) => `./${f}`),
    }),
  );
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], {
      encoding: 'utf8',
    });
    return '';
  } catch (e) {
    return (e as { stdout: string }).stdout;
  }
}

describe('hazardous names in every role', () => {
  it(
    'compile, and every generated module type-checks (with an app using each)',
    { timeout: 300_000 },
    async () => {
      mkdirSync(outDir, { recursive: true });
      const files: string[] = [];
      const byInputName = new Map<string, number>();
      const problems: string[] = [];
      for (const [role, make] of Object.entries(ROLES)) {
        for (const name of NAMES) {
          const text = make(name);
          const result =
            role === 'gan' ? compileGan(text, { path: 'm.nnx' }) : compile(text, { path: 'm.nnx' });
          if (!result.compiled) {
            problems.push(`${role} ${name}: ${result.diagnostics.map((d) => d.message).join('; ')}`);
            continue;
          }
          const file = `${role.replaceAll(' ', '_')}_${files.length}.ts`;
          writeFileSync(join(outDir, file), await codegenModule(result.compiled.spec, `${role} ${name}.nnx`));
          if (role === 'input') byInputName.set(name, files.length);
          files.push(file);
        }
      }
      expect(problems).toEqual([]);
      // The app reads each module's spec and default export, and feeds an input-role model by its
      // hazardous input name (computed, so that `__proto__` is an own key).
      const app = [
        ...files.map((f, i) => `import * as m${i} from './${f.replace(/\.ts$/, '.js')}';`),
        `export const specs = [${files.map((_, i) => `m${i}.spec.name, m${i}.default.create`).join(', ')}];`,
        ...[...byInputName].map(([name, i]) => {
          const x = `{ [${JSON.stringify(name)}]: new Float32Array(8) }`;
          return `export const use${i} = async () => {\n  const model = await m${i}.default.create();\n  await model.fit({ count: 4, inputs: ${x}, targets: { target: new Float32Array(4) } });\n  return model.predict(${x});\n};`;
        }),
      ].join('\n');
      writeFileSync(join(outDir, 'app.ts'), app);
      expect(typeCheck([...files, 'app.ts'])).toBe('');
    },
  );

  it.each(['target', 'output', 'mask', 'loss'])(
    'an input named %s trains and predicts as an input named x does',
    { timeout: 120_000 },
    async (name) => {
      const run = async (input: string) => {
        const { compiled, diagnostics } = compile(ROLES.input!(input), { overrides: { batch: 2 } });
        expect(diagnostics).toEqual([]);
        const model = await NnxModel.create(compiled!.spec, { seed: 5, backend: 'webgpu' });
        const x = Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]);
        const data = {
          count: 4,
          inputs: { [input]: x },
          targets: { target: Float32Array.from([0, 1, 1, 0]) },
        };
        const history = await model.fit(data, { epochs: 3 });
        const predicted = await model.predict({ [input]: x }, 4);
        model.destroy();
        return { losses: history.epochs.map((e) => e.loss), predicted: Array.from(predicted) };
      };
      const reference = await run('x');
      const hazard = await run(name);
      expect(hazard.losses.every(Number.isFinite)).toBe(true);
      expect(hazard).toEqual(reference);
    },
  );
});
