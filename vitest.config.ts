import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  resolve: {
    // Generated modules import the package's runtime entry point; in tests it is the source.
    alias: { 'nnx/runtime': fileURLToPath(new URL('./src/runtime/index.ts', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts'],
    // The browser tests have their own config and run (test/browser/vitest.config.ts).
    exclude: ['test/browser/**', '**/node_modules/**'],
    // A fresh machine has a cold Mesa shader cache: lavapipe compiles each pipeline with LLVM on
    // its first use, which alone can take minutes for a conv or attention model on 2 cores, and
    // twice that when the machine is busy (the DCGAN and multi-output runs passed 300 s so).
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // One WebGPU device per worker is plenty on a 2-core lavapipe machine.
    fileParallelism: false,
  },
});
