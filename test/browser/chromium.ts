/**
 * Debian's Chromium, driven by playwright-core, with WebGPU on. Measured on this project's
 * machine (Chromium 156, no GPU, lavapipe installed):
 * - `--enable-unsafe-webgpu` is the one flag WebGPU needs here: without it there is no adapter.
 * - The adapter is Chromium's own SwiftShader (a CPU Vulkan), whatever else is set:
 *   `--enable-features=Vulkan`, `--use-angle=vulkan`, `--disable-gpu-sandbox` and
 *   `--ignore-gpu-blocklist` change nothing. Chromium rates a llvmpipe GPU "software only" and
 *   then forces the fallback adapter, so lavapipe is listed in chrome://gpu but never chosen.
 * - The background-networking flags keep Chromium from calling hosts a closed network refuses.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Where Debian's chromium package puts the browser (scripts/setup-browser.sh installs it). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** The command-line flags of {@link launchChromium}; Playwright adds `--headless` itself. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

/** A headless Chromium with a fresh profile, and how to close it and delete the profile. */
export interface LaunchedChromium {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Launches headless Chromium with {@link CHROMIUM_FLAGS} on a new, empty user-data dir. */
export async function launchChromium(viewport = { width: 1000, height: 900 }): Promise<LaunchedChromium> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'nnx-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_FLAGS],
    viewport,
    acceptDownloads: true,
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
