/** What the digits page has done so far, published as `window.nnxDigits` for tests and the curious. */
import type { TrainingPoint } from './chunked-training.js';

/** The page's observable state. */
export interface DigitsPageState {
  /** The backend the model runs on: WebGPU, or wasm where the browser has no WebGPU adapter. */
  backend?: 'webgpu' | 'wasm';
  /** What the page shows about it: `backend: WebGPU — <adapter>` or `backend: wasm (1 thread)`. */
  backendText?: string;
  /** The WebGPU adapter, as vendor, architecture and description (WebGPU only). */
  adapter?: string;
  /** True once the model is created and the digits are fetched. */
  ready: boolean;
  training: boolean;
  /** One per trained chunk, in order. */
  readonly points: TrainingPoint[];
  /** The prediction for the current drawing: one probability per digit. */
  probabilities?: number[];
  /** The last error shown to the user. */
  error?: string;
}

declare global {
  interface Window {
    nnxDigits: DigitsPageState;
  }
}
