#!/usr/bin/env node
// The nnxc command: runs the compiled CLI (npm run build writes dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('nnxc: the compiler is not built yet; run `npm run build` in the nnx package first.');
  process.exit(2);
}
const { run } = await import(main.href);
process.exit(await run(process.argv.slice(2)));
