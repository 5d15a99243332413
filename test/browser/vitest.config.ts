import { defineConfig } from 'vitest/config';

/** The browser tests (`npm run test:browser`): the digits page in headless Chromium. */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/browser/**/*.test.ts'],
    globalSetup: ['test/browser/serve-page.ts'],
    // One Chromium at a time; the page trains on a CPU WebGPU adapter.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
