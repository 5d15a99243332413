/**
 * The digits page. It creates the model compiled ahead of time (generated/model.ts) on the page's
 * WebGPU device, or on the wasm backend where the browser has no WebGPU adapter, trains it on a slice of MNIST with a live chart, predicts the digit drawn on
 * the pad, and saves or loads the weights as safetensors.
 */
import type { NnxModel } from 'nnx/runtime';
import { trainInChunks } from './chunked-training.js';
import { fetchDigits, type DigitSplits } from './digits-data.js';
import { DrawingPad, showDigitImage } from './drawing-pad.js';
import type { DigitsPageState } from './page-state.js';
import { ProbabilityBars } from './probability-bars.js';
import { TrainingChart } from './training-chart.js';
import { downloadWeights, loadWeights } from './weights-file.js';
import './style.css';

/** The .nnx file the page's model was compiled from, relative to the repository (set by vite.config.ts). */
declare const __DIGITS_MODEL_SOURCE__: string;

const TRAINING = { chunkSamples: 1000, chunksPerEvaluation: 5 };

const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const ui = {
  status: byId('status'),
  adapter: byId('adapter'),
  model: byId('model'),
  train: byId<HTMLButtonElement>('train'),
  reset: byId<HTMLButtonElement>('reset'),
  clear: byId<HTMLButtonElement>('clear'),
  download: byId<HTMLButtonElement>('download'),
  load: byId<HTMLInputElement>('load'),
  pad: byId<HTMLCanvasElement>('pad'),
  preview: byId<HTMLCanvasElement>('preview'),
};
const state: DigitsPageState = { ready: false, training: false, points: [] };
window.nnxDigits = state;

const chart = new TrainingChart(byId('chart'));
const bars = new ProbabilityBars(
  byId('bars'),
  Array.from({ length: 10 }, (_, digit) => String(digit)),
);

function setStatus(text: string): void {
  ui.status.textContent = text;
}

function fail(error: unknown): void {
  state.error = error instanceof Error ? error.message : String(error);
  setStatus(`Error: ${state.error}`);
  console.error(error);
}

async function start(): Promise<void> {
  setStatus('Creating the model and fetching the digits…');
  // The model module (its kernels in both tilings and its wasm module, ~400 KB) is a chunk of its
  // own, fetched while the page is already drawn and the digits are on their way.
  const [typed, digits] = await Promise.all([
    Promise.all([chooseBackend(), import('../generated/model.js')]).then(
      ([backend, { default: DigitsModel }]) =>
        DigitsModel.create({ seed: 1, backend, ...(backend === 'wasm' && { threads: wasmThreads() }) }),
    ),
    fetchDigits(`${import.meta.env.BASE_URL}mnist/`),
  ]);
  // The page takes any 784 → 10 model (NNX_WEB_MODEL), whatever its input is named, so it uses
  // the untyped runtime view; a one-output module's typed model is that NnxModel itself.
  const model = typed as unknown as NnxModel;
  ui.model.textContent = `${model.spec.name} from ${__DIGITS_MODEL_SOURCE__}`;
  showBackend(model);
  const initialWeights = await model.saveBytes();
  const pad = new DrawingPad(ui.pad, () => void predictDrawing(model, pad).catch(fail));
  wireControls(model, digits, pad, initialWeights);
  state.ready = true;
  setStatus(`Ready: ${digits.train.count} training and ${digits.test.count} test digits. Press Train.`);
}

/**
 * WebGPU when the browser gives an adapter, else the wasm backend. Not `auto`: that prefers wasm
 * on a CPU adapter (SwiftShader in headless Chromium), and this page shows WebGPU wherever it can.
 */
async function chooseBackend(): Promise<'webgpu' | 'wasm'> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (gpu === undefined) return 'wasm';
  try {
    return (await gpu.requestAdapter()) !== null ? 'webgpu' : 'wasm';
  } catch {
    return 'wasm';
  }
}

/**
 * A thread per core, up to 4, for the wasm backend: it runs them as Web Workers where the page is
 * cross-origin isolated, and one thread (saying so once in the console) where it is not.
 */
function wasmThreads(): number {
  return Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));
}

/** Names the backend the model runs on: `backend: WebGPU — <adapter>` or `backend: wasm (1 thread)`. */
function showBackend(model: NnxModel): void {
  const backend = model.backend;
  if (backend.kind === 'webgpu' && 'device' in backend) {
    const info = (backend.device as GPUDevice).adapterInfo;
    state.adapter = [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ');
    state.backendText = `backend: WebGPU — ${state.adapter}${info.isFallbackAdapter ? ' (fallback)' : ''}`;
  } else {
    // Without cross-origin isolation there is no shared memory, so one thread.
    const threads = 'threads' in backend ? (backend.threads as number) : 1;
    state.backendText = `backend: wasm (${threads} thread${threads > 1 ? 's' : ''})`;
  }
  state.backend = backend.kind;
  ui.adapter.textContent = state.backendText;
}

function wireControls(
  model: NnxModel,
  digits: DigitSplits,
  pad: DrawingPad,
  initialWeights: Uint8Array,
): void {
  let stopTraining: AbortController | undefined;
  let training: Promise<void> = Promise.resolve();
  const stop = async (): Promise<void> => {
    stopTraining?.abort();
    await training;
  };
  ui.train.addEventListener('click', () => {
    if (state.training) return void stop();
    stopTraining = new AbortController();
    training = runTraining(model, digits, pad, stopTraining.signal);
  });
  ui.reset.addEventListener('click', async () => {
    await stop();
    model.loadBytes(initialWeights);
    state.points.length = 0;
    chart.clear();
    setStatus('Weights reset to their initial values.');
    await predictDrawing(model, pad);
  });
  ui.clear.addEventListener('click', () => {
    pad.clear();
    showDigitImage(ui.preview, undefined);
    state.probabilities = undefined;
    bars.show(undefined);
  });
  ui.download.addEventListener('click', () =>
    downloadWeights(model, `${snakeCase(model.spec.name)}.safetensors`).catch(fail),
  );
  ui.load.addEventListener('change', async () => {
    const file = ui.load.files?.[0];
    if (file === undefined) return;
    await stop();
    try {
      await loadWeights(model, file);
      setStatus(`Loaded the weights from ${file.name}.`);
      await predictDrawing(model, pad);
    } catch (error) {
      fail(error);
    } finally {
      ui.load.value = '';
    }
  });
}

async function runTraining(
  model: NnxModel,
  digits: DigitSplits,
  pad: DrawingPad,
  signal: AbortSignal,
): Promise<void> {
  state.training = true;
  ui.train.textContent = 'Stop';
  setStatus('Training…');
  const seen = state.points.at(-1)?.samples ?? 0;
  try {
    await trainInChunks(
      model,
      digits,
      TRAINING,
      seen,
      async (point) => {
        state.points.push(point);
        chart.add(point);
        const test =
          point.testAccuracy === undefined ? '' : `, test accuracy ${point.testAccuracy.toFixed(3)}`;
        setStatus(`Training… ${point.samples} samples, loss ${point.loss.toFixed(3)}${test}`);
        // The bars follow the model as it learns.
        await predictDrawing(model, pad);
      },
      signal,
    );
    setStatus(`Stopped after ${state.points.at(-1)?.samples ?? 0} samples.`);
  } catch (error) {
    fail(error);
  } finally {
    state.training = false;
    ui.train.textContent = 'Train';
  }
}

async function predictDrawing(model: NnxModel, pad: DrawingPad): Promise<void> {
  const image = pad.toDigitImage();
  showDigitImage(ui.preview, image);
  if (image === undefined) return;
  const probabilities = Array.from(await model.predict(image, 1));
  state.probabilities = probabilities;
  bars.show(probabilities);
}

/** `MnistMlp` → `mnist_mlp`: the model's name as the .nnx files in examples/ are named. */
function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

start().catch(fail);
