#!/bin/sh
# The test command (`npm test`): sets up everything a fresh machine lacks, then runs the tests.
#  1. dependencies (npm ci) when node_modules is missing or older than the lockfile;
#  2. a WebGPU adapter: lavapipe through scripts/setup-webgpu.sh when no Vulkan driver exists;
#     and PyTorch for the export tests through scripts/setup-torch.sh (Debian's python3-torch);
#  3. the build (the CLI tests run the built `nnxc`), then type-checking, then vitest.
#  4. the browser test (test/browser): the digits page in headless Chromium, which
#     scripts/setup-browser.sh installs when missing; `npm run test:browser` runs it alone.
set -eu
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
sh scripts/setup-webgpu.sh
sh scripts/setup-torch.sh
npm run --silent build
npx tsc --noEmit -p tsconfig.json
npx prettier --check --log-level warn src test bench
npx vitest run "$@"
npm run --silent test:browser
