#!/usr/bin/env node
// The nnxc command: runs the compiled CLI (npm run build writes dist/).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('nnxc: the compiler is not built yet; run `npm run build` in the nnx package first.');
  process.exit(2);
}

// Dawn prints two warnings from native code on adapters that report huge dynamic-buffer limits
// (lavapipe among them) in every process that opens a device; they are harmless and nothing in
// JavaScript can silence them. Commands that open a device run in a child whose stderr drops
// exactly those two lines (NNX_DEBUG keeps them); stdout stays the terminal, so the progress bar
// and colour still see it.
const DAWN_LIMIT_WARNING =
  /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/;
const OPENS_DEVICE = new Set(['train', 'evaluate', 'predict', 'devices', 'export']);
const args = process.argv.slice(2);

if (OPENS_DEVICE.has(args[0]) && !process.env.NNXC_STDERR_FILTERED && !process.env.NNX_DEBUG) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env: { ...process.env, NNXC_STDERR_FILTERED: '1' },
  });
  let pending = '';
  const forward = (line) => {
    if (!DAWN_LIMIT_WARNING.test(line)) process.stderr.write(line + '\n');
  };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop();
    lines.forEach(forward);
  });
  // Ctrl-C reaches the child itself (same process group): wait for it to end its own way.
  process.on('SIGINT', () => undefined);
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('close', (code, signal) => {
    if (pending) process.stderr.write(pending);
    if (!signal) return void (process.exitCode = code ?? 1);
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  });
} else {
  const { run } = await import(main.href);
  process.exit(await run(args));
}
