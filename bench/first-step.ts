/**
 * How long a new process takes before its first training step, on the wasm backend: `node
 * dist/bench/first-step.js [FILE.nnx …]` (examples/mnist_mlp.nnx and examples/mnist_cnn.nnx by
 * default) runs each file in a fresh Node process, which loads the compiler, compiles the file
 * with the wasm target, creates the model, runs one training step on a batch of zeros and reads
 * a weight back. It prints each phase's end in ms since the process started (so Node's own start
 * is in the first figure). Nothing is cached between processes: wasm modules are compiled anew
 * and the wasm backend has no shader cache. The dataset's load (`nnxc train` also reads MNIST)
 * is timed apart, as the last figure.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Phases {
  readonly file: string;
  /** ms since the process started when each phase ended. */
  readonly loaded: number;
  readonly compiled: number;
  readonly created: number;
  readonly stepped: number;
  /** ms to read the train block's dataset (not part of the above). */
  readonly dataset: number;
}

async function child(file: string): Promise<Phases> {
  const { compile } = await import('../src/compile.js');
  const { NnxModel } = await import('../src/runtime/index.js');
  const { loadDataset } = await import('../src/data/index.js');
  const loaded = performance.now();
  const result = compile(readFileSync(file, 'utf8'), { path: file, wasm: true });
  if (!result.compiled) throw new Error(`${file} does not compile`);
  const { spec } = result.compiled;
  const compiled = performance.now();
  const model = await NnxModel.create(spec, { backend: 'wasm' });
  const created = performance.now();
  const train = spec.entries.train;
  const batch = Object.fromEntries(
    train.inputs.map((slot) => [slot.name, new Float32Array(slot.shape.reduce((a, b) => a * b, 1))]),
  );
  model.trainStep(batch);
  await model.getWeights();
  const stepped = performance.now();
  model.destroy();
  const data = result.train?.data;
  const t0 = performance.now();
  if (data) await loadDataset(data);
  return { file, loaded, compiled, created, stepped, dataset: performance.now() - t0 };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    console.log(JSON.stringify(await child(args[1]!)));
    return;
  }
  const files = args.length > 0 ? args : ['examples/mnist_mlp.nnx', 'examples/mnist_cnn.nnx'];
  const self = fileURLToPath(import.meta.url);
  for (const file of files) {
    const out = execFileSync(process.execPath, [self, '--child', file], { encoding: 'utf8' });
    const p = JSON.parse(out.trim().split('\n').pop()!) as Phases;
    const ms = (v: number) => `${v.toFixed(0)} ms`;
    console.log(
      `${p.file}: compiler loaded ${ms(p.loaded)}, compiled ${ms(p.compiled)}, created ${ms(p.created)}, ` +
        `first step done ${ms(p.stepped)} after the process started; dataset read in ${ms(p.dataset)}`,
    );
  }
}

await main();
