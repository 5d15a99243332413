/**
 * The digits page: `npm run web` serves it, `npm run web:build` bundles it into
 * examples/web/dist. Before either, the model is compiled to examples/web/generated/model.ts and
 * a slice of MNIST is cut into examples/web/public/mnist/ (both ignored by git, rebuilt here).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { compileModelModule } from './build/compile-model.js';
import { writeMnistSlice } from './build/mnist-slice.js';

const pageRoot = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const modelSource = fileURLToPath(new URL('./digits.nnx', import.meta.url));
const generatedModule = fileURLToPath(new URL('./generated/model.ts', import.meta.url));

/** Recompiles the model when its .nnx file changes under the dev server; Vite then reloads. */
function recompileOnChange(): Plugin {
  return {
    name: 'nnx-recompile-model',
    configureServer(server) {
      server.watcher.add(modelSource);
      server.watcher.on('change', (path) => {
        if (path !== modelSource) return;
        compileModelModule(modelSource, generatedModule, repoRoot).catch((error: Error) =>
          server.config.logger.error(error.message),
        );
      });
    },
  };
}

export default defineConfig(async () => {
  await Promise.all([
    compileModelModule(modelSource, generatedModule, repoRoot),
    // 10,000 training digits train the page's MLP to ~90% in a minute on a CPU adapter.
    writeMnistSlice(`${pageRoot}public/mnist`, { train: 10_000, test: 1_000 }),
  ]);
  return {
    root: pageRoot,
    // The runtime from source, as the tests use it; no Node shims or polyfills are configured.
    resolve: { alias: { 'nnx/runtime': `${repoRoot}src/runtime/index.ts` } },
    plugins: [recompileOnChange()],
    build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
    server: { port: 5173 },
    preview: { port: 4173 },
  };
});
