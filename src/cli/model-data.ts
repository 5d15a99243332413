/**
 * The data of a CLI run: the train block's dataset loaded, cut to `--limit`, a validation split
 * held out, and every split fitted to the compiled model's slots. A dataset that cannot be read
 * or does not fit becomes a diagnostic at the train block's `data:` field.
 */
import type { CompileResult } from '../compile.js';
import {
  DatasetError,
  type LoadedDataset,
  type SampleSet,
  dataSlots,
  loadDataset,
  seededPermutation,
  selectSamples,
  splitSamples,
  toModelDataset,
} from '../data/index.js';
import { placeCommandLineDiagnostics } from '../ir/build/settings.js';
import type { Dataset } from '../runtime/index.js';
import { error, type SourceFile, type Span } from '../util/diagnostics.js';
import { dirname } from 'node:path';
import { type Io, report } from './io.js';

/** The splits a run trains, validates and tests on, laid out for the model. */
export interface ModelData {
  readonly name: string;
  readonly train: Dataset;
  readonly validation?: Dataset;
  readonly test?: Dataset;
}

export interface ModelDataOptions {
  /** Use at most this many samples of each split (a seeded random subset). */
  readonly limit?: number;
  readonly seed: number;
  /** Overrides the train block's `validation_split`. */
  readonly validationSplit?: number;
}

/** Thrown after the diagnostics were printed: the command exits 1 with nothing more to say. */
export class ReportedError extends Error {}

/** At most `limit` samples of `set`: a seeded random subset, kept in the set's order. */
export function limited(set: SampleSet, limit: number | undefined, seed: number, label: string): SampleSet {
  if (limit === undefined || limit >= set.count) return set;
  return selectSamples(set, seededPermutation(set.count, seed, label).subarray(0, limit).sort());
}

/** Loads and fits the dataset of `result`'s train block; prints a diagnostic and throws {@link ReportedError} when it fails. */
export async function loadModelData(
  file: SourceFile,
  result: CompileResult,
  options: ModelDataOptions,
  io: Io,
): Promise<ModelData> {
  const train = result.train!;
  const spec = result.compiled!.spec;
  try {
    const loaded: LoadedDataset = await loadDataset({
      name: train.dataset.name,
      args: train.dataset.args,
      baseDir: dirname(file.path),
    });
    const slots = dataSlots(spec);
    const fraction = options.validationSplit ?? train.validationSplit;
    let trainSet = limited(loaded.train, options.limit, options.seed, 'limit/train');
    let validationSet: SampleSet | undefined;
    if (fraction > 0) {
      const split = splitSamples(trainSet, fraction, options.seed, 'validation');
      trainSet = split.rest;
      validationSet = split.held;
    }
    const testSet = loaded.test && limited(loaded.test, options.limit, options.seed, 'limit/test');
    const fit = (set: SampleSet) => toModelDataset(set, slots, loaded.name);
    return {
      name: loaded.name,
      train: fit(trainSet),
      validation: validationSet && validationSet.count > 0 ? fit(validationSet) : undefined,
      test: testSet && fit(testSet),
    };
  } catch (e) {
    reportDatasetError(e, file, train.dataset.span, result.sources, io);
  }
}

/**
 * Prints a {@link DatasetError} as a diagnostic at the `data:` field and throws
 * {@link ReportedError}; any other error is rethrown as it is.
 */
export function reportDatasetError(
  e: unknown,
  file: SourceFile,
  dataSpan: Span,
  sources: ReadonlyMap<string, SourceFile> | undefined,
  io: Io,
): never {
  if (!(e instanceof DatasetError)) throw e;
  const diagnostics = [error('E0301', dataSpan, e.message)];
  placeCommandLineDiagnostics(diagnostics, 0); // a `--set data=…` points into the command line
  report(file, { diagnostics, sources }, io);
  throw new ReportedError(e.message);
}
