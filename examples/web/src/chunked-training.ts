/**
 * Training in the page: `fit` one epoch over each chunk of the training digits in turn, so the
 * chart gets a point every few steps (one readback per chunk), and every few chunks the test
 * digits are evaluated.
 */
import type { NnxModel } from 'nnx/runtime';
import { datasetOf, type DigitSplits } from './digits-data.js';

/** One point of the live chart: averages over the chunk just trained. */
export interface TrainingPoint {
  /** Training samples seen so far, this one's chunk included. */
  readonly samples: number;
  readonly loss: number;
  readonly accuracy: number;
  /** Accuracy on the test digits, on the chunks after which they were evaluated. */
  readonly testAccuracy?: number;
}

/** How a training run is cut up. */
export interface ChunkedTrainingOptions {
  /** Samples per chunk: a multiple of the model's batch keeps every step full. */
  readonly chunkSamples: number;
  /** Evaluate the test digits after every this many chunks. */
  readonly chunksPerEvaluation: number;
}

/**
 * Trains `model` on the training digits, chunk after chunk, wrapping around, until `signal`
 * aborts; reports a point after every chunk. Resolves when stopped (an abort is not an error).
 */
export async function trainInChunks(
  model: NnxModel,
  digits: DigitSplits,
  options: ChunkedTrainingOptions,
  startSamples: number,
  onPoint: (point: TrainingPoint) => void,
  signal: AbortSignal,
): Promise<void> {
  const chunks = Math.floor(digits.train.count / options.chunkSamples);
  if (chunks === 0) {
    throw new Error(`${digits.train.count} training digits do not fill one chunk of ${options.chunkSamples}`);
  }
  const testSet = datasetOf(model.spec, digits.test);
  let samples = startSamples;
  for (let chunk = Math.round(samples / options.chunkSamples); !signal.aborted; chunk++) {
    const start = (chunk % chunks) * options.chunkSamples;
    const data = datasetOf(model.spec, digits.train, start, start + options.chunkSamples);
    try {
      // A new seed per chunk: fit's shuffle would otherwise repeat the same order every time.
      const history = await model.fit(data, { epochs: 1, seed: chunk, signal });
      const log = history.epochs[0]!;
      samples += data.count;
      const evaluate = (chunk + 1) % options.chunksPerEvaluation === 0;
      const testAccuracy = evaluate ? (await model.evaluate(testSet))['accuracy'] : undefined;
      // Both backends settle fit and evaluate on later tasks (the wasm one every few steps and at
      // each epoch's end), so the page repaints and sees the Stop click between chunks.
      onPoint({ samples, loss: log['loss']!, accuracy: log['accuracy']!, testAccuracy });
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
  }
}
