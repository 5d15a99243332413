/**
 * Global setup of the browser tests: Chromium present (scripts/setup-browser.sh), the digits page
 * bundled by Vite exactly as `npm run web:build` does and type-checked, and served by
 * `vite preview` on a free port for the duration of the run, once plain and once cross-origin
 * isolated.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { build, createLogger, preview, type PreviewServer } from 'vite';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where the built page is served. */
    digitsPageUrl: string;
    /** The same page served cross-origin isolated (COOP and COEP headers): shared memory, wasm threads. */
    digitsIsolatedPageUrl: string;
    /** The bundle's folder, for checks on its content. */
    digitsBundleDir: string;
    /** Every warning Vite printed while bundling the page. */
    digitsBuildWarnings: string[];
  }
}

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const configFile = `${repoRoot}examples/web/vite.config.ts`;

let servers: PreviewServer[] = [];

/** The headers that make a page cross-origin isolated, so it may share memory between threads. */
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** Serves the built page by `vite preview` on a free port, with `headers`; returns its URL. */
async function servePage(headers: Record<string, string>): Promise<string> {
  const server = await preview({
    configFile,
    logLevel: 'warn',
    preview: { port: 0, host: '127.0.0.1', headers },
  });
  servers.push(server);
  const url = server.resolvedUrls?.local[0];
  if (url === undefined) throw new Error('vite preview did not report the URL it serves the page on');
  return url;
}

export async function setup(project: TestProject): Promise<void> {
  execFileSync('sh', [`${repoRoot}scripts/setup-browser.sh`], { stdio: 'inherit' });
  const warnings: string[] = [];
  const logger = createLogger('warn');
  const warn = logger.warn.bind(logger);
  logger.warn = (message, options) => {
    warnings.push(message);
    warn(message, options);
  };
  await build({ configFile, logLevel: 'warn', customLogger: logger });
  // Vite strips types without checking them; the page's code (and the module just generated) is
  // checked here.
  execFileSync('npx', ['tsc', '--noEmit', '-p', `${repoRoot}examples/web/tsconfig.json`], {
    stdio: 'inherit',
  });
  project.provide('digitsPageUrl', await servePage({}));
  project.provide('digitsIsolatedPageUrl', await servePage(ISOLATION_HEADERS));
  project.provide('digitsBundleDir', `${repoRoot}examples/web/dist`);
  project.provide('digitsBuildWarnings', warnings);
}

export async function teardown(): Promise<void> {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
}
