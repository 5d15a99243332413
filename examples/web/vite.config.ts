/**
 * The digits page: `npm run web` serves it, `npm run web:build` bundles it into
 * examples/web/dist. Before either, the model is compiled to examples/web/generated/model.ts and
 * a slice of MNIST is cut into examples/web/public/mnist/ (both ignored by git, rebuilt here).
 */
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { compileModelModule } from './build/compile-model.js';
import { writeMnistSlice } from './build/mnist-slice.js';

const pageRoot = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
// The classic MNIST MLP; any model from 784 pixels to 10 probabilities will do (NNX_WEB_MODEL=…).
const modelSource = resolve(repoRoot, process.env['NNX_WEB_MODEL'] ?? 'examples/mnist_mlp.nnx');
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
    // 10,000 training digits: about 15 s an epoch for the MNIST MLP on a CPU WebGPU adapter.
    writeMnistSlice(`${pageRoot}public/mnist`, { train: 10_000, test: 1_000 }),
  ]);
  return {
    root: pageRoot,
    // The runtime from source, as the tests use it; no Node shims or polyfills are configured.
    resolve: { alias: { 'nnx/runtime': `${repoRoot}src/runtime/index.ts` } },
    define: { __DIGITS_MODEL_SOURCE__: JSON.stringify(relative(repoRoot, modelSource)) },
    plugins: [recompileOnChange()],
    build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
    server: { port: 5173 },
    preview: { port: 4173 },
  };
});
