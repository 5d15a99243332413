/**
 * The generated TypeScript module: it type-checks under strict tsc against the package's
 * runtime entry point, and, imported as an app would, it trains xor on the real adapter.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codegenModule, compile } from '../../src/compile.js';
import { NnxModel } from '../../src/runtime/index.js';
import { nnxc } from '../cli/run-in-process.js';

const root = new URL('../../', import.meta.url).pathname;
const outDir = join(root, 'test/.out');

async function generate(example: string, module: string, source?: string): Promise<string> {
  // With the wasm module, as `nnxc compile` writes it by default.
  const result = compile(source ?? readFileSync(join(root, 'examples', example), 'utf8'), { wasm: true });
  expect(result.diagnostics).toEqual([]);
  const text = await codegenModule(result.compiled!.spec, `examples/${example}`);
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, module);
  writeFileSync(path, text);
  return path;
}

describe('generated module', () => {
  it('is deterministic', async () => {
    const a = readFileSync(await generate('xor.nnx', 'xor_a.ts'), 'utf8');
    const b = readFileSync(await generate('xor.nnx', 'xor_b.ts'), 'utf8');
    expect(a).toBe(b);
    expect(a).toContain(
      "import { NnxModel, typedModel, type CreateModelOptions, type ModelSpec, type TypedModel } from 'nnx/runtime';",
    );
    expect(a).toContain(
      'export interface XorInputs {\n  /** `x`: [2] per sample. */\n  readonly x: Float32Array;\n}',
    );
    expect(a).toContain('Targets: target [1] (for output).');
  });

  it('type-checks with tsc --noEmit (strict), and a misspelt input or target does not', async () => {
    const path = await generate('xor.nnx', 'xor.ts');
    await generate('multi_output.nnx', 'multi_output.ts');
    const app = (input: string, target: string) => `import { Xor } from './xor.js';
import { MultiOutput, type MultiOutputOutputs } from './multi_output.js';
const x = new Float32Array(8);
const model = await Xor.create();
await model.fit({ count: 4, inputs: { ${input}: x }, targets: { ${target}: new Float32Array(4) } });
const p: Float32Array = await model.predict({ ${input}: x });
const heads = await MultiOutput.create();
const both: MultiOutputOutputs = await heads.predict({ x: new Float32Array(6) });
const onCpu = await Xor.create({ backend: 'wasm', threads: 2, seed: 1 });
export const values = [p, both.kind, both.size, onCpu];
`;
    const typeCheck = (name: string, text: string) => {
      writeFileSync(join(outDir, `${name}.ts`), text);
      const tsconfig = join(outDir, `${name}.tsconfig.json`);
      writeFileSync(
        tsconfig,
        JSON.stringify({
          extends: '../../tsconfig.json',
          compilerOptions: { noEmit: true, rootDir: '../..' },
          include: [`./${name}.ts`],
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
    };
    expect(typeCheck('app_ok', app('x', 'target'))).toBe('');
    expect(typeCheck('app_input', app('xx', 'target'))).toMatch(/app_input\.ts\(5,.*'xx' does not exist/);
    expect(typeCheck('app_target', app('x', 'targt'))).toMatch(/app_target\.ts\(5,.*'targt' does not exist/);
    expect(readFileSync(path, 'utf8')).toMatch(/export const Xor = \{/);
    // Model names that are reserved words or the module's own names export under a mangled
    // identifier (the spec keeps the name), and the module still type-checks.
    const hazards = ['class', 'default', 'yield', 'static', 'spec', 'NnxModel', 'ModelSpec', 'Typed'];
    for (const name of hazards) {
      const source = `sequential ${name}(x: [2]) {\n  Dense(1, activation: sigmoid)\n}\ntrain ${name} {\n  data: xor\n  loss: mse\n}\n`;
      await generate('xor.nnx', `hazard_${name}.ts`, source);
    }
    const imports = hazards.map((n, i) => `import * as m${i} from './hazard_${n}.js';`).join('\n');
    const uses = hazards.map((n, i) => `m${i}.${n}_.spec.name, m${i}.default.create`).join(', ');
    expect(typeCheck('app_hazards', `${imports}\nexport const names = [${uses}];\n`)).toBe('');
    for (const name of hazards)
      expect(readFileSync(join(outDir, `hazard_${name}.ts`), 'utf8')).toContain(`name: '${name}'`);
  });

  it('predicts every output of a multi-output model by name', async () => {
    // examples/multi_output.nnx's two heads on a smaller trunk: its 47 kernels take lavapipe 40 s to build.
    const source = `model Heads(x: [6]) -> (kind: [3], size: [1]) {
  kind = Dense(3, activation: softmax)(x)
  size = Dense(1)(x)
}
train Heads {
  data: npy(inputs: "x.npy", targets: "y.npy")
  loss: { kind: categorical_crossentropy, size: mse }
}`;
    const path = await generate('heads.nnx', 'heads_run.ts', source);
    const { Heads } = await import(path);
    const model = await Heads.create({ seed: 1, backend: 'webgpu' });
    const x = Float32Array.from({ length: 5 * 6 }, (_, i) => Math.sin(i));
    const outputs = await model.predict({ x }, 5);
    expect(Object.keys(outputs)).toEqual(['kind', 'size']);
    expect(outputs.kind).toHaveLength(15);
    expect(outputs.size).toHaveLength(5);
    // Each softmax row sums to 1; the regression head is the untyped model's second output.
    for (let i = 0; i < 5; i++)
      expect(outputs.kind[3 * i] + outputs.kind[3 * i + 1] + outputs.kind[3 * i + 2]).toBeCloseTo(1, 5);
    expect(
      Array.from(await model.predictOutputs({ x }, 5).then((o: { size: Float32Array }) => o.size)),
    ).toEqual(Array.from(outputs.size));
    model.destroy();
  });

  it('nnxc compile carries the wasm module: the app runs it on the CPU as compile(…) does, bit for bit', async () => {
    mkdirSync(outDir, { recursive: true });
    const path = join(outDir, 'mnist_mlp_cpu.ts');
    const written = await nnxc(['compile', 'examples/mnist_mlp.nnx', '-o', path]);
    expect(written).toMatchObject({ code: 0, stderr: '' });
    const text = readFileSync(path, 'utf8');
    // The bytes are one base64 string; the offsets are filled many to a line, not one a line.
    expect(text).toMatch(
      /^ {2}wasm: \{\n {4}module: '[A-Za-z0-9+/]+=*',\n {4}memoryBytes: \d+,\n {4}offsets: \[\n {6}\d+, \d+, /m,
    );
    const { MnistMlp } = await import(path);
    const direct = compile(readFileSync(join(root, 'examples/mnist_mlp.nnx'), 'utf8'), { wasm: true });
    expect(MnistMlp.spec.wasm).toEqual(direct.compiled!.spec.wasm);
    const batch = direct.compiled!.spec.entries.train.batch;
    const x = Float32Array.from({ length: batch * 784 }, (_, i) => (Math.sin(i * 0.37) + 1) / 2);
    const target = Float32Array.from({ length: batch * 10 }, (_, i) =>
      i % 10 === (Math.floor(i / 10) * 7) % 10 ? 1 : 0,
    );
    const run = async (model: NnxModel) => {
      const before = await model.predict({ x }, batch);
      model.trainStep({ x, target });
      const after = await model.predict({ x }, batch);
      model.destroy();
      return { before: Array.from(before), after: Array.from(after) };
    };
    const imported = await run(await MnistMlp.create({ backend: 'wasm', seed: 5 }));
    const reference = await run(await NnxModel.create(direct.compiled!.spec, { backend: 'wasm', seed: 5 }));
    expect(imported).toEqual(reference);
    expect(imported.after.every(Number.isFinite)).toBe(true);
    expect(imported.after).not.toEqual(imported.before); // the step trained
    // --target webgpu leaves the module out, and the factory's doc says so.
    const gpuOnly = join(outDir, 'mnist_mlp_gpu.ts');
    expect(
      (await nnxc(['compile', 'examples/mnist_mlp.nnx', '--target', 'webgpu', '-o', gpuOnly])).code,
    ).toBe(0);
    const gpuText = readFileSync(gpuOnly, 'utf8');
    expect(gpuText).not.toMatch(/^ {2}wasm:/m);
    expect(gpuText).toContain('This module has no wasm module: it was compiled with --target webgpu.');
    expect(text.length - gpuText.length).toBeGreaterThan(MnistMlp.spec.wasm.module.length);
    expect((await nnxc(['compile', 'examples/mnist_mlp.nnx', '--target', 'wasm'])).stderr).toContain(
      "--target must be all or webgpu, got 'wasm'",
    );
  });

  it('trains xor to accuracy 1 when imported by an app', async () => {
    const path = await generate('xor_deep.nnx', 'xor_deep.ts');
    const { XorDeep } = await import(path);
    const model = await XorDeep.create({ seed: 3, backend: 'webgpu' }); // the wasm module is run above
    const data = {
      count: 4,
      inputs: { x: Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]) },
      targets: { target: Float32Array.from([0, 1, 1, 0]) },
    };
    const history = await model.fit(data, { epochs: 600 });
    const last = history.epochs[history.epochs.length - 1];
    expect(last.accuracy).toBe(1);
    expect(last.loss).toBeLessThan(history.epochs[0].loss / 4);
    const p: Float32Array = await model.predict({ x: data.inputs.x }, 4);
    expect(Array.from(p, (v) => (v > 0.5 ? 1 : 0))).toEqual([0, 1, 1, 0]);
    // Weights survive a safetensors round trip into a fresh model.
    const bytes = await model.saveBytes();
    const other = await XorDeep.create({ seed: 99, backend: 'webgpu' });
    other.loadBytes(bytes);
    expect(Array.from(await other.predict({ x: data.inputs.x }, 4))).toEqual(Array.from(p));
    model.destroy();
    other.destroy();
  });
});
