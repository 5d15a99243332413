/**
 * End to end in headless Chromium: the digits page (examples/web), bundled by Vite, finds a WebGPU
 * adapter, trains the compiled model with a falling loss, predicts a digit drawn with the mouse,
 * round-trips its weights through a safetensors download, and renders a page that is not blank;
 * without `navigator.gpu` it falls back to the wasm backend, trains there and says so: on one
 * thread where the page is not cross-origin isolated, on Web Worker threads where it is.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { decodeSafetensors } from '../../src/runtime/safetensors.js';
import type { DigitsPageState } from '../../examples/web/src/page-state.js';
import { launchChromium, type LaunchedChromium } from './chromium.js';

/** Where the test leaves the screenshot and the downloaded weights, for a person to look at. */
const OUT_DIR = new URL('../.out/browser/', import.meta.url).pathname;
const TRAINED_CHUNKS = 8;

let chromium: LaunchedChromium;
let page: Page;
const pageErrors: string[] = [];

/** The page's `window.nnxDigits`. */
function pageState(): Promise<DigitsPageState> {
  return page.evaluate(() => window.nnxDigits);
}

beforeAll(async () => {
  await mkdir(OUT_DIR, { recursive: true });
  chromium = await launchChromium();
  page = chromium.context.pages()[0] ?? (await chromium.context.newPage());
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().includes('favicon')) pageErrors.push(message.text());
  });
  await page.goto(inject('digitsPageUrl'));
  await page.waitForFunction(() => window.nnxDigits?.ready || window.nnxDigits?.error !== undefined);
});

afterAll(async () => {
  await chromium?.close();
});

describe('the digits page in headless Chromium', () => {
  test('is bundled by Vite without Node shims, warnings or Node-only imports', async () => {
    expect(inject('digitsBuildWarnings')).toEqual([]);
    const assets = join(inject('digitsBundleDir'), 'assets');
    const scripts = (await readdir(assets)).filter((name) => name.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(0);
    for (const name of scripts) {
      const code = await readFile(join(assets, name), 'utf8');
      // One self-contained module: no static imports left, and no CommonJS or Node built-ins.
      expect(code).not.toMatch(/(^|[;\s])import\s*[\w{*]/m);
      expect(code).not.toMatch(/\brequire\(/);
      expect(code).not.toMatch(/["']node:/);
    }
  });

  test('finds a WebGPU adapter and creates the model on it', async () => {
    const adapter = await page.evaluate(async () => {
      const found = await navigator.gpu.requestAdapter();
      if (found === null) return null;
      const { vendor, architecture, device, description, isFallbackAdapter } = found.info;
      return { vendor, architecture, device, description, isFallbackAdapter };
    });
    console.log(`navigator.gpu adapter: ${JSON.stringify(adapter)}`);
    expect(adapter).not.toBeNull();
    const state = await pageState();
    expect(state.error).toBeUndefined();
    expect(state.ready).toBe(true);
    expect(state.adapter).toBeTruthy();
    // The page names its backend, with the adapter it runs on.
    expect(state.backend).toBe('webgpu');
    const named = await page.locator('#adapter').textContent();
    expect(named).toBe(state.backendText);
    expect(named?.startsWith(`backend: WebGPU — ${state.adapter}`)).toBe(true);
  });

  test('trains with a falling loss and plots it live', async () => {
    await page.click('#train');
    await page.waitForFunction(
      (chunks) => window.nnxDigits.points.length >= chunks || window.nnxDigits.error !== undefined,
      TRAINED_CHUNKS,
    );
    await page.click('#train');
    await page.waitForFunction(() => !window.nnxDigits.training);
    const { points, error } = await pageState();
    expect(error).toBeUndefined();
    const logLine = (p: (typeof points)[number]) =>
      `${p.samples}: loss ${p.loss.toFixed(3)} accuracy ${p.accuracy.toFixed(3)}` +
      (p.testAccuracy === undefined ? '' : ` test accuracy ${p.testAccuracy.toFixed(3)}`);
    console.log(`training: ${points.map(logLine).join(', ')}`);
    expect(points.length).toBeGreaterThanOrEqual(TRAINED_CHUNKS);
    points.forEach((point) => expect(Number.isFinite(point.loss)).toBe(true));
    const recent = points.slice(-3).reduce((sum, point) => sum + point.loss, 0) / 3;
    expect(recent).toBeLessThan(points[0]!.loss * 0.7);
    // uPlot drew the series: its canvas is there and sized.
    const chart = await page.locator('#chart canvas').boundingBox();
    expect(chart?.width).toBeGreaterThan(200);
  });

  test('predicts a digit drawn with the mouse', async () => {
    await drawStroke(page, [
      [0.45, 0.15],
      [0.5, 0.5],
      [0.52, 0.85],
    ]);
    await page.waitForFunction(() => window.nnxDigits.probabilities !== undefined);
    const { probabilities } = await pageState();
    expect(probabilities).toHaveLength(10);
    probabilities!.forEach((p) => expect(p).toBeGreaterThanOrEqual(0));
    expect(probabilities!.reduce((sum, p) => sum + p, 0)).toBeCloseTo(1, 4);
    const predicted = probabilities!.indexOf(Math.max(...probabilities!));
    console.log(`a vertical stroke: predicted ${predicted}, p = ${probabilities!.map((p) => p.toFixed(3))}`);
    // After a few thousand digits the MLP tells a plain vertical stroke is a one.
    expect(predicted).toBe(1);
    await expect.poll(() => page.locator('.bar-row.best .bar-label').textContent()).toBe(String(predicted));
  });

  test('renders a page that is not blank', async () => {
    const png = await page.screenshot({ fullPage: true });
    await writeFile(join(OUT_DIR, 'digits-page.png'), png);
    const stats = await page.evaluate(pixelStatistics, png.toString('base64'));
    console.log(`screenshot: ${JSON.stringify(stats)}`);
    expect(stats.width).toBeGreaterThan(500);
    expect(stats.luminanceStdDev).toBeGreaterThan(20);
    expect(stats.distinctColours).toBeGreaterThan(50);
  });

  test('downloads its weights as safetensors and loads them back', async () => {
    const trained = (await pageState()).probabilities!;
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const weightsPath = join(OUT_DIR, download.suggestedFilename());
    await download.saveAs(weightsPath);
    const file = decodeSafetensors(new Uint8Array(await readFile(weightsPath)));
    expect(file.metadata['nnx_model']).toBeTruthy();
    expect([...file.tensors.values()].some((tensor) => tensor.shape[0] === 784)).toBe(true);

    await page.click('#reset');
    await page.waitForFunction((before) => window.nnxDigits.probabilities?.[0] !== before, trained[0]);
    await page.setInputFiles('#load', weightsPath);
    await page.waitForFunction((before) => window.nnxDigits.probabilities?.[0] === before, trained[0]);
    const reloaded = (await pageState()).probabilities!;
    reloaded.forEach((p, i) => expect(p).toBeCloseTo(trained[i]!, 6));
  });

  test('threw and logged no errors along the way', () => {
    expect(pageErrors).toEqual([]);
  });

  test('without navigator.gpu, falls back to the wasm backend on one thread, says why once, and trains there', async () => {
    const { backendText, warnings } = await trainOnWasm(inject('digitsPageUrl'), false);
    // Not cross-origin isolated: no shared memory, so one thread, said once in the console.
    expect(backendText).toBe('backend: wasm (1 thread)');
    expect(warnings.filter((w) => w.includes('thread'))).toEqual([
      expect.stringMatching(
        /^nnx: the wasm backend runs 1 thread, not \d+: SharedArrayBuffer is unavailable \(a page must be cross-origin isolated\)$/,
      ),
    ]);
  });

  test('cross-origin isolated and without navigator.gpu, trains on wasm threads in Web Workers', async () => {
    const { backendText, warnings, threads } = await trainOnWasm(inject('digitsIsolatedPageUrl'), true);
    expect(threads).toBeGreaterThan(1);
    expect(backendText).toBe(`backend: wasm (${threads} threads)`);
    expect(warnings.filter((w) => w.includes('thread'))).toEqual([]);
  });
});

/**
 * Opens the page at `url` as a browser without WebGPU, checks it runs on wasm, trains two chunks
 * (stopping with the Train button, which the page must stay responsive to see) with a falling
 * loss and no errors; returns the backend it names, its console warnings and the threads it asked for.
 */
async function trainOnWasm(url: string, isolated: boolean) {
  const noGpu = await chromium.context.newPage();
  const errors: string[] = [];
  const warnings: string[] = [];
  noGpu.on('pageerror', (error) => errors.push(error.message));
  noGpu.on('console', (message) => {
    if (message.type() === 'warning') warnings.push(message.text());
    if (message.type() === 'error' && !message.text().includes('favicon')) errors.push(message.text());
  });
  // As a browser without WebGPU: the getter Chromium defines on Navigator.prototype answers nothing.
  await noGpu.addInitScript(() =>
    Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true }),
  );
  try {
    await noGpu.goto(url);
    await noGpu.waitForFunction(() => window.nnxDigits?.ready || window.nnxDigits?.error !== undefined);
    const state = await noGpu.evaluate(() => ({
      ...window.nnxDigits,
      gpu: 'gpu' in navigator && !!navigator.gpu,
      isolated: crossOriginIsolated,
      threads: Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)),
    }));
    expect(state.gpu).toBe(false);
    expect(state.isolated).toBe(isolated);
    expect(state.error).toBeUndefined();
    expect(state.backend).toBe('wasm');
    const backendText = await noGpu.locator('#adapter').textContent();
    const started = Date.now();
    await noGpu.click('#train');
    await noGpu.waitForFunction(
      () => window.nnxDigits.points.length >= 2 || window.nnxDigits.error !== undefined,
    );
    await noGpu.click('#train');
    await noGpu.waitForFunction(() => !window.nnxDigits.training);
    const { points, error } = await noGpu.evaluate(() => window.nnxDigits);
    console.log(`wasm, ${backendText}: ${points.length} chunks in ${Date.now() - started} ms`);
    expect(error).toBeUndefined();
    expect(points.length).toBeGreaterThanOrEqual(2);
    points.forEach((point) => expect(Number.isFinite(point.loss)).toBe(true));
    expect(points.at(-1)!.loss).toBeLessThan(points[0]!.loss);
    expect(errors).toEqual([]);
    return { backendText, warnings, threads: state.threads };
  } finally {
    await noGpu.close();
  }
}

/** Drags the mouse through `points` (fractions of the drawing pad's width and height). */
async function drawStroke(target: Page, points: readonly (readonly [number, number])[]): Promise<void> {
  const box = (await target.locator('#pad').boundingBox())!;
  const at = ([x, y]: readonly [number, number]) => [box.x + x * box.width, box.y + y * box.height] as const;
  await target.mouse.move(...at(points[0]!));
  await target.mouse.down();
  for (const point of points.slice(1)) await target.mouse.move(...at(point), { steps: 10 });
  await target.mouse.up();
}

/** Runs in the page: decodes a PNG and measures how much its pixels vary. */
async function pixelStatistics(base64: string) {
  const bitmap = await createImageBitmap(await (await fetch(`data:image/png;base64,${base64}`)).blob());
  const context = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d')!;
  context.drawImage(bitmap, 0, 0);
  const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
  let sum = 0;
  let sumOfSquares = 0;
  const colours = new Set<number>();
  for (let i = 0; i < data.length; i += 4) {
    const luminance = 0.2126 * data[i]! + 0.7152 * data[i + 1]! + 0.0722 * data[i + 2]!;
    sum += luminance;
    sumOfSquares += luminance * luminance;
    colours.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
  }
  const count = data.length / 4;
  const mean = sum / count;
  return {
    width: bitmap.width,
    height: bitmap.height,
    luminanceStdDev: Math.sqrt(sumOfSquares / count - mean * mean),
    distinctColours: colours.size,
  };
}
