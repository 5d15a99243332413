// `npm run fuzz -- --count N [--seed S]`: the seeded fuzzer of test/fuzz for a long run.
// Failures are grouped by kind; each one prints its seed and program.
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const value = (flag, fallback) => {
  const i = args.indexOf(flag);
  if (i < 0) return fallback;
  const v = args[i + 1];
  if (!/^\d+$/.test(v ?? '')) {
    console.error(`${flag} needs a whole number, got ${v ?? 'nothing'}`);
    process.exit(2);
  }
  return v;
};
const unknown = args.filter((a, i) => a.startsWith('--') && a !== '--count' && a !== '--seed' && i >= 0);
if (unknown.length) {
  console.error(`unknown option ${unknown[0]}; usage: npm run fuzz -- --count N [--seed S]`);
  process.exit(2);
}
const env = {
  ...process.env,
  NNX_FUZZ_COUNT: value('--count', '10000'),
  NNX_FUZZ_SEED: value('--seed', '1'),
  NNX_FUZZ_SUMMARY: '1',
};
const run = spawnSync('npx', ['vitest', 'run', 'test/fuzz/fuzz.test.ts'], { stdio: 'inherit', env });
process.exit(run.status ?? 1);
