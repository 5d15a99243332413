#!/bin/sh
# The quick start (`npm run quickstart`): installs what is missing, builds nnxc, and trains the
# XOR example on the WebGPU adapter (lavapipe when the machine has no GPU).
set -eu
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
sh scripts/setup-webgpu.sh
npm run --silent build
node bin/nnxc.js train examples/xor.nnx "$@"
