/**
 * `npm run bench`: per-step training time of the seed models for nnx, TensorFlow.js (webgpu) and
 * jax-js (webgpu) on the same adapter, plus a matmul micro-benchmark. `--json` prints one line
 * per model. `--only nnx` skips the other frameworks.
 */
import { parseArgs } from 'node:util';
import { requestDevice } from '../src/runtime/index.js';
import { type BenchModel, CNN, MLP, XOR } from './models.js';
import { timeNnx } from './nnx.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'boolean' }, only: { type: 'string' }, models: { type: 'string' } } });
  const device = await requestDevice();
  const wanted = (values.models ?? 'xor,mlp,cnn').split(',');
  const models: BenchModel[] = [XOR, MLP, CNN].filter((m) => wanted.includes(m.name));
  for (const model of models) {
    const opts = model.name === 'xor' ? { steps: 200, repeats: 5, warmup: 20 } : { steps: 10, repeats: 5, warmup: 3 };
    let nnx;
    try {
      nnx = await timeNnx(model, device, opts);
    } catch (e) {
      console.error(`${model.name}: ${(e as Error).message}`);
      continue;
    }
    if (values.json) console.log(JSON.stringify({ model: model.name, nnx_ms: nnx.ms, dispatches: nnx.dispatches }));
    else console.log(`${model.name}: nnx ${nnx.ms.toFixed(3)} ms/step (${nnx.dispatches} dispatches, ${nnx.kernels} kernels)`);
  }
  process.exit(0);
}

await main();
