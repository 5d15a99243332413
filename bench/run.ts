/**
 * `npm run bench`: per-step training time of the seed models for nnx, TensorFlow.js (webgpu) and
 * jax-js (webgpu) on the same adapter, plus a matmul micro-benchmark (`--matmul 256,1024`
 * picks its sizes; `--matmul ''` skips it). `--json` prints one line per model. `--only nnx` (or a comma list of nnx, tfjs, jaxjs) runs only those frameworks.
 * `--check` instead runs 20 steps per framework on the fixed batch and prints the loss before and
 * after, to show that each step really trains.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { requestDevice } from '../src/runtime/index.js';
import { checkJaxjs, checkNnx, checkTfjs } from './check.js';
import { describeAdapter, installNodeGpu, stepOptions } from './gpu.js';
import { type BenchModel, CNN, MLP, XOR } from './models.js';
import { timeNnx } from './nnx.js';
import { timeNnxWasm, timeWasmMatmul } from './cpu.js';
import { gflops, timeMatmul } from './matmul.js';
import { tilingFor } from '../src/codegen/wgsl/matmul.js';

const FRAMEWORKS = ['nnx', 'tfjs', 'jaxjs'] as const;
type Framework = (typeof FRAMEWORKS)[number];

/** One framework's result on one model: ms/step, or the error that stopped it. */
type Outcome = { ms: number; note: string } | { error: string };

async function attempt(run: () => Promise<{ ms: number; note: string }>): Promise<Outcome> {
  try {
    return await run();
  } catch (e) {
    return { error: (e instanceof Error ? e.message : String(e)).split('\n')[0]! };
  }
}

const msOf = (o: Outcome | undefined): number | null => (o !== undefined && 'ms' in o ? o.ms : null);
const ratio = (other: number | null, nnx: number | null): number | null =>
  other !== null && nnx !== null ? other / nnx : null;

/** What one child process measured: ms/step and notes, or the error that stopped it. */
type ChildResult =
  | (Outcome & { adapter?: string; dispatches?: number; least_workgroups_over_1mib?: number | null })
  | { error: string };

function measureInChild(framework: Framework | 'nnx-wasm', model: string, threads = 1): ChildResult {
  const script = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [script, '--child', `${framework}:${model}:${threads}`], {
    encoding: 'utf8',
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as ChildResult;
  } catch {
    return {
      error: `the ${framework} process exited with ${r.status}: ${r.stderr.trim().split('\n').pop() ?? ''}`,
    };
  }
}

/** The body of a child process: one framework on one model, one JSON line on stdout. */
async function runChild(spec: string): Promise<void> {
  const [framework, modelName, threadCount] = spec.split(':') as [Framework | 'nnx-wasm', string, string?];
  const model = [XOR, MLP, CNN].find((m) => m.name === modelName)!;
  const opts = stepOptions(model.name);
  if (framework === 'nnx-wasm') {
    const result = await attempt(async () => {
      const threads = Number(threadCount ?? 1);
      const r = await timeNnxWasm(model, opts, threads);
      return { ms: r.ms, note: `${r.kernels} kernels, ${threads} thread${threads > 1 ? 's' : ''}` };
    });
    console.log(JSON.stringify(result));
    process.exit(0);
  }
  await installNodeGpu();
  const result: ChildResult = await attempt(async () => {
    if (framework === 'nnx') {
      const device = await requestDevice({ powerPreference: 'high-performance' });
      const nnx = await timeNnx(model, device, opts);
      return {
        ms: nnx.ms,
        note: `${nnx.dispatches} dispatches, ${nnx.kernels} kernels, fewest workgroups of a kernel over 1 MiB: ${nnx.leastLargeWorkgroups ?? 'none over 1 MiB'}`,
        adapter: describeAdapter(device),
        dispatches: nnx.dispatches,
        least_workgroups_over_1mib: nnx.leastLargeWorkgroups,
      };
    }
    if (framework === 'tfjs') {
      const { timeTfjs } = await import('./tfjs.js');
      const tf = await timeTfjs(model, opts);
      return {
        ms: tf.ms,
        note: tf.idiom === 'minimize' ? 'optimizer.minimize' : 'model.trainOnBatch',
        adapter: tf.adapter,
      };
    }
    const { timeJaxjs } = await import('./jaxjs.js');
    const jx = await timeJaxjs(model, opts);
    return { ms: jx.ms, note: 'jit(step)', adapter: jx.adapter };
  });
  console.log(JSON.stringify(result));
  process.exit(0);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean' },
      only: { type: 'string' },
      models: { type: 'string' },
      check: { type: 'boolean' },
      matmul: { type: 'string' },
      cpu: { type: 'string' },
      child: { type: 'string' },
    },
  });
  if (values.child) return runChild(values.child);
  // One Dawn GPU as navigator.gpu before anything opens a device: nnx's requestDevice prefers it,
  // and TF.js and jax-js look for it; the high-performance adapter is the one both of them request.
  await installNodeGpu();
  const device = await requestDevice({ powerPreference: 'high-performance' });
  const wanted = (values.models ?? 'xor,mlp,cnn').split(',');
  const models: BenchModel[] = [XOR, MLP, CNN].filter((m) => wanted.includes(m.name));
  const only = (values.only ?? FRAMEWORKS.join(',')).split(',');
  const frameworks = FRAMEWORKS.filter((f) => only.includes(f));
  if (values.check) return check(models, frameworks, device);
  const adapters = new Map<Framework, string>([['nnx', describeAdapter(device)]]);
  for (const model of models) {
    const opts = stepOptions(model.name);
    const results = new Map<Framework, Outcome>();
    let dispatches: number | undefined;
    let least: number | null | undefined;
    for (const framework of frameworks) {
      // Each measurement runs in its own process, so no framework's device, threads or leftover
      // work can slow another's (lavapipe's threads are per device).
      const child = measureInChild(framework, model.name);
      if ('ms' in child) {
        if (child.adapter) adapters.set(framework, child.adapter);
        if (child.dispatches !== undefined) dispatches = child.dispatches;
        if (child.least_workgroups_over_1mib !== undefined) least = child.least_workgroups_over_1mib;
      }
      results.set(framework, child);
    }
    const nnxMs = msOf(results.get('nnx'));
    const row = {
      model: model.name,
      nnx_ms: nnxMs,
      tfjs_ms: msOf(results.get('tfjs')),
      jaxjs_ms: msOf(results.get('jaxjs')),
      vs_tfjs: ratio(msOf(results.get('tfjs')), nnxMs),
      vs_jaxjs: ratio(msOf(results.get('jaxjs')), nnxMs),
      ...(dispatches !== undefined ? { dispatches } : {}),
      ...(least !== undefined ? { least_workgroups_over_1mib: least } : {}),
    };
    if (values.json) {
      console.log(JSON.stringify(row));
      // The JSON line carries null; the reason goes to stderr, never silently dropped.
      for (const [f, o] of results) if ('error' in o) console.error(`${model.name} ${f}: ${o.error}`);
      continue;
    }
    console.log(
      `\n${model.name} (batch ${model.batch}; ${opts.steps} steps x ${opts.repeats} repeats, median ms/step)`,
    );
    for (const [f, o] of results) {
      if ('error' in o) {
        console.log(`  ${f.padEnd(6)} ${'error'.padStart(10)}  ${o.error}`);
        continue;
      }
      // vs_<framework> = its ms / nnx's ms: above 1, nnx is faster.
      const r = ratio(o.ms, nnxMs);
      const vs = f === 'nnx' ? '' : `vs_${f} ${r === null ? 'n/a' : r.toFixed(2)}`;
      console.log(`  ${f.padEnd(6)} ${o.ms.toFixed(3).padStart(10)}  ${vs.padEnd(16)} (${o.note})`);
    }
  }
  if (values.cpu !== 'off') await cpuBenchmark(models, values.json === true);
  await matmulBenchmark(
    device,
    (values.matmul ?? '256,512,1024,2048,4096').split(',').filter(Boolean).map(Number),
    values.json === true,
  );
  if (!values.json) {
    const distinct = new Set(adapters.values());
    if (distinct.size === 1)
      console.log(`\nadapter (${[...adapters.keys()].join(', ')}): ${[...distinct][0]}`);
    else console.log(`\nADAPTERS DIFFER: ${[...adapters].map(([f, a]) => `${f}=${a}`).join('; ')}`);
  }
  process.exit(0);
}

/**
 * GFLOP/s of nnx's generated matmul (the tiling its compiler picks) on square sizes. Large sizes
 * are timed once: at 4096 one product is 137 GFLOP, tens of seconds on a CPU adapter.
 */
async function matmulBenchmark(device: GPUDevice, sizes: number[], json: boolean): Promise<void> {
  if (sizes.length === 0) return;
  if (!json) console.log('\nmatmul (f32, n×n·n×n, the tiling nnx picks)');
  for (const n of sizes) {
    const shape = { m: n, n, k: n, transA: false, transB: false };
    const ms = await timeMatmul(device, shape, tilingFor(n, n), n >= 2048 ? 1 : 3);
    const rate = gflops(shape, ms);
    if (json) console.log(JSON.stringify({ matmul: n, ms, gflops: rate }));
    else
      console.log(`  n=${String(n).padEnd(5)} ${ms.toFixed(2).padStart(10)} ms  ${rate.toFixed(2)} GFLOP/s`);
  }
}

/**
 * The CPU rows: nnx's wasm backend per model on 1 and 2 threads, each in its own process, and
 * the wasm matmul's GFLOP/s. jax-js wasm and TF.js wasm are not measured yet (null in the JSON lines).
 */
async function cpuBenchmark(models: BenchModel[], json: boolean): Promise<void> {
  if (!json) console.log('\nCPU (nnx wasm backend, SIMD128; median ms/step)');
  for (const model of models) {
    for (const threads of [1, 2]) {
      const r = measureInChild('nnx-wasm', model.name, threads);
      const ms = 'ms' in r ? r.ms : null;
      if (json) {
        const row = { model: model.name, cpu: true, threads, nnx_wasm_ms: ms };
        console.log(JSON.stringify({ ...row, vs_jaxjs_wasm: null, vs_tfjs_wasm: null }));
        if ('error' in r) console.error(`${model.name} nnx-wasm: ${r.error}`);
      } else {
        const what = 'ms' in r ? `${r.ms.toFixed(3).padStart(10)}  (${r.note})` : `error  ${r.error}`;
        console.log(`  ${model.name.padEnd(6)} ${what}`);
      }
    }
  }
  if (!json) console.log('\nCPU matmul (f32, n×n·n×n, wasm SIMD128 4×8 register tiles)');
  for (const n of [256, 512, 1024, 2048]) {
    for (const threads of [1, 2]) {
      const ms = await timeWasmMatmul(n, n >= 2048 ? 1 : 3, threads);
      const rate = gflops({ m: n, n, k: n, transA: false, transB: false }, ms);
      if (json) console.log(JSON.stringify({ matmul: n, cpu: true, threads, ms, gflops: rate }));
      else
        console.log(
          `  n=${String(n).padEnd(5)} ${threads} thread${threads > 1 ? 's' : ' '} ${ms.toFixed(2).padStart(10)} ms  ${rate.toFixed(2)} GFLOP/s`,
        );
    }
  }
}

async function check(models: BenchModel[], frameworks: Framework[], device: GPUDevice): Promise<void> {
  for (const model of models) {
    for (const framework of frameworks) {
      try {
        const r =
          framework === 'nnx'
            ? await checkNnx(model, device)
            : framework === 'tfjs'
              ? await checkTfjs(model)
              : await checkJaxjs(model);
        const extra = 'tensorsLeaked' in r ? `, ${r.tensorsLeaked} tensors leaked` : '';
        const verdict = r.last < r.first ? 'falls' : 'DOES NOT FALL';
        console.log(
          `${model.name} ${framework.padEnd(6)} loss ${r.first.toFixed(4)} -> ${r.last.toFixed(4)} over ${r.steps} steps: ${verdict}${extra}`,
        );
      } catch (e) {
        console.log(
          `${model.name} ${framework.padEnd(6)} error: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`,
        );
      }
    }
  }
  process.exit(0);
}

await main();
