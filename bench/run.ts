/**
 * `npm run bench`: per-step training time of the seed models for nnx, TensorFlow.js (webgpu) and
 * jax-js (webgpu) on the same adapter, plus a matmul micro-benchmark (`--matmul 256,1024`
 * picks its sizes, for the wasm matmul too up to 2048; `--matmul ''` skips both). Then the CPU rows: nnx's wasm backend on 1 and 2
 * threads, jax-js's wasm backend and TF.js on @tensorflow/tfjs-backend-wasm, and the wasm matmul;
 * `--cpu off` skips them, `--cpu only` runs only them (no GPU is opened). `--json` prints one line
 * per model (and per thread count for the CPU rows). `--only nnx` (or a comma list of nnx, tfjs,
 * jaxjs) runs only those frameworks. `--check` instead runs 20 steps per framework on the fixed
 * batch and prints the loss before and after, to show that each step really trains (with
 * `--cpu only`, on the wasm backends).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { requestDevice } from '../src/runtime/index.js';
import { checkJaxjs, checkNnx, checkTfjs, type LossCheck } from './check.js';
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

/** A CPU measurement: nnx's wasm backend, jax-js's wasm backend or TF.js's wasm backend. */
type CpuFramework = `${Framework}-wasm`;

function measureInChild(framework: Framework | CpuFramework, model: string, threads = 1): ChildResult {
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
  const [framework, modelName, threadCount] = spec.split(':') as [Framework | CpuFramework, string, string?];
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
  if (framework === 'jaxjs-wasm' || framework === 'tfjs-wasm') {
    // No navigator.gpu here: the wasm backends must not find (or wait for) a GPU.
    const result = await attempt(async () => {
      if (framework === 'tfjs-wasm') {
        const { timeTfjs, tfjsIdioms } = await import('./tfjs.js');
        const tf = await timeTfjs(model, opts, tfjsIdioms(model), 'wasm');
        const idiom = tf.idiom === 'minimize' ? 'optimizer.minimize' : 'model.trainOnBatch';
        return { ms: tf.ms, note: `${idiom}; ${tf.adapter}` };
      }
      const { timeJaxjs } = await import('./jaxjs.js');
      const jx = await timeJaxjs(model, opts, 'wasm');
      return { ms: jx.ms, note: `jit(step); ${jx.adapter}` };
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
      'child-check': { type: 'string' },
    },
  });
  if (values.child) return runChild(values.child);
  if (values['child-check']) return runCheckChild(values['child-check']);
  const cpu = values.cpu ?? 'on';
  if (!['on', 'off', 'only'].includes(cpu)) throw new Error(`--cpu takes on, off or only, not '${cpu}'`);
  const wanted = (values.models ?? 'xor,mlp,cnn').split(',');
  const models: BenchModel[] = [XOR, MLP, CNN].filter((m) => wanted.includes(m.name));
  const only = (values.only ?? FRAMEWORKS.join(',')).split(',');
  const frameworks = FRAMEWORKS.filter((f) => only.includes(f));
  // The CPU rows open no GPU: `--cpu only` runs on a machine without WebGPU.
  if (cpu === 'only') {
    if (values.check) return checkCpu(models, frameworks);
    await cpuBenchmark(models, frameworks, cpuMatmulSizes(values.matmul), values.json === true);
    process.exit(0);
  }
  // One Dawn GPU as navigator.gpu before anything opens a device: nnx's requestDevice prefers it,
  // and TF.js and jax-js look for it; the high-performance adapter is the one both of them request.
  await installNodeGpu();
  const device = await requestDevice({ powerPreference: 'high-performance' });
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
  if (cpu === 'on')
    await cpuBenchmark(models, frameworks, cpuMatmulSizes(values.matmul), values.json === true);
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
 * The CPU rows: per model, nnx's wasm backend on 1 and 2 threads, jax-js's wasm backend and TF.js's
 * wasm backend (each in its own process), then the wasm matmul's GFLOP/s. jax-js wasm and TF.js wasm
 * run on one thread (see tfjs.ts for why TF.js's threads do not engage under Node), so the
 * 1-thread row is the like-for-like comparison; the 2-thread row shows what nnx's threads add.
 */
async function cpuBenchmark(
  models: BenchModel[],
  frameworks: Framework[],
  matmulSizes: number[],
  json: boolean,
): Promise<void> {
  if (!json) console.log('\nCPU (wasm backends; median ms/step; vs_<framework> = its ms / nnx ms)');
  for (const model of models) {
    const opts = stepOptions(model.name);
    if (!json)
      console.log(`\n${model.name} (batch ${model.batch}; ${opts.steps} steps x ${opts.repeats} repeats)`);
    const nnx = new Map<number, ChildResult>();
    if (frameworks.includes('nnx'))
      for (const threads of [1, 2]) nnx.set(threads, measureInChild('nnx-wasm', model.name, threads));
    const jaxjs = frameworks.includes('jaxjs') ? measureInChild('jaxjs-wasm', model.name) : undefined;
    const tfjs = frameworks.includes('tfjs') ? measureInChild('tfjs-wasm', model.name) : undefined;
    const others: [CpuFramework, ChildResult | undefined][] = [
      ['jaxjs-wasm', jaxjs],
      ['tfjs-wasm', tfjs],
    ];
    if (json) {
      const errors: Record<string, string> = {};
      for (const [f, r] of [...[...nnx].map(([t, r]) => [`nnx-wasm ${t}t`, r] as const), ...others])
        if (r !== undefined && 'error' in r) errors[f] = r.error;
      for (const threads of nnx.size > 0 ? [...nnx.keys()] : [1]) {
        const nnxMs = msOf(nnx.get(threads));
        const row = {
          model: model.name,
          cpu: true,
          threads,
          nnx_wasm_ms: nnxMs,
          jaxjs_wasm_ms: msOf(jaxjs),
          tfjs_wasm_ms: msOf(tfjs),
          vs_jaxjs_wasm: ratio(msOf(jaxjs), nnxMs),
          vs_tfjs_wasm: ratio(msOf(tfjs), nnxMs),
          // A framework that fails on a model (TF.js wasm has no conv gradient kernel) says why here.
          ...(Object.keys(errors).length > 0 ? { errors } : {}),
        };
        console.log(JSON.stringify(row));
      }
      for (const [f, e] of Object.entries(errors)) console.error(`${model.name} ${f}: ${e}`);
      continue;
    }
    const nnx1 = msOf(nnx.get(1));
    const line = (name: string, r: ChildResult | undefined, vs: boolean) => {
      if (r === undefined) return;
      if ('error' in r) return console.log(`  ${name.padEnd(14)} ${'error'.padStart(10)}  ${r.error}`);
      const q = ratio(r.ms, nnx1);
      const v = vs ? `vs_${name.replace('-', '_')} ${q === null ? 'n/a' : q.toFixed(2)}` : '';
      console.log(`  ${name.padEnd(14)} ${r.ms.toFixed(3).padStart(10)}  ${v.padEnd(22)} (${r.note})`);
    };
    for (const [threads, r] of nnx) line(`nnx-wasm ${threads}t`, r, false);
    for (const [f, r] of others) line(f, r, true);
  }
  if (!json && matmulSizes.length > 0)
    console.log('\nCPU matmul (f32, n×n·n×n, wasm SIMD128 4×8 register tiles)');
  for (const n of matmulSizes) {
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

/** The wasm matmul's sizes: `--matmul`'s up to 2048 (4096 takes minutes on a CPU), by default 256–2048. */
function cpuMatmulSizes(option: string | undefined): number[] {
  if (option === undefined) return [256, 512, 1024, 2048];
  return option
    .split(',')
    .filter(Boolean)
    .map(Number)
    .filter((n) => n <= 2048);
}

/** `--check --cpu only`: the loss check on the wasm backends (nnx one thread, jax-js, TF.js). */
async function checkCpu(models: BenchModel[], frameworks: Framework[]): Promise<void> {
  for (const model of models) {
    for (const framework of frameworks) {
      // Each framework checks in its own process, as it is timed: TF.js loads one backend per process.
      const r = spawnSync(
        process.execPath,
        [fileURLToPath(import.meta.url), '--child-check', `${framework}-wasm:${model.name}`],
        { encoding: 'utf8' },
      );
      const out =
        r.stdout.trim() || `error: the process exited with ${r.status}: ${r.stderr.trim().split('\n').pop()}`;
      console.log(out);
    }
  }
  process.exit(0);
}

/** The body of a `--child-check` process: one framework's loss check on one model, on wasm. */
async function runCheckChild(spec: string): Promise<void> {
  const [framework, modelName] = spec.split(':') as [CpuFramework, string];
  const model = [XOR, MLP, CNN].find((m) => m.name === modelName)!;
  const label = `${model.name} ${framework.padEnd(10)}`;
  try {
    const r =
      framework === 'nnx-wasm'
        ? await checkNnx(model, 'wasm')
        : framework === 'tfjs-wasm'
          ? await checkTfjs(model, 'wasm')
          : await checkJaxjs(model, 'wasm');
    console.log(`${label} ${describeCheck(r)}`);
  } catch (e) {
    console.log(`${label} error: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
  }
  process.exit(0);
}

/** One line for a loss check: first and last loss, whether it fell, tensors leaked (TF.js). */
function describeCheck(r: LossCheck & { tensorsLeaked?: number }): string {
  const extra = r.tensorsLeaked !== undefined ? `, ${r.tensorsLeaked} tensors leaked` : '';
  const verdict = r.last < r.first ? 'falls' : 'DOES NOT FALL';
  return `loss ${r.first.toFixed(4)} -> ${r.last.toFixed(4)} over ${r.steps} steps: ${verdict}${extra}`;
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
        console.log(`${model.name} ${framework.padEnd(6)} ${describeCheck(r)}`);
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
