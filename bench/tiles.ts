/**
 * The matmul's two tilings side by side on the current adapter: the register blocks (`cpu`
 * tiles, the default) and the workgroup-memory GPU tiles, on square n×n·n×n products. Usage:
 * `node dist/bench/tiles.js 256,512`. Prints the median ms of one dispatch, GFLOP/s, and the
 * process's CPU seconds over the timed runs (on lavapipe the adapter's threads are this process's).
 */
import { requestDevice } from '../src/runtime/index.js';
import { gpuTilingFor, tilingFor } from '../src/codegen/wgsl/matmul.js';
import { gflops, timeMatmul } from './matmul.js';

const sizes = (process.argv[2] ?? '256,512').split(',').map(Number);
const repeats = Number(process.argv[3] ?? 5);
const device = await requestDevice();
for (const n of sizes) {
  const shape = { m: n, n, k: n, transA: false, transB: false };
  for (const [name, tiling] of [
    ['cpu tiles', tilingFor(n, n)],
    ['gpu tiles', gpuTilingFor(n, n)],
  ] as const) {
    const start = process.cpuUsage();
    const ms = await timeMatmul(device, shape, tiling, repeats);
    const used = process.cpuUsage(start);
    const cpu = (used.user + used.system) / 1e6;
    console.log(
      `n=${n} ${name}: ${ms.toFixed(2)} ms, ${gflops(shape, ms).toFixed(2)} GFLOP/s (CPU ${cpu.toFixed(1)} s for compile + ${repeats + 1} runs)`,
    );
  }
}
process.exit(0);
