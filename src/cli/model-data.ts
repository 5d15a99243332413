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
  crossValidationFolds,
  pooledSamples,
  dataSlots,
  loadDataset,
  seededPermutation,
  selectSamples,
  splitSamples,
  toModelDataset,
} from '../data/index.js';
import { placeCommandLineDiagnostics } from '../bind/settings.js';
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

/** One fold of `nnxc train --folds`: its own training, validation and test samples. */
export interface FoldData extends ModelData {
  readonly test: Dataset;
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
  try {
    const loaded = await loadTrainBlockDataset(file, result);
    const trainSet = limited(loaded.train, options.limit, options.seed, 'limit/train');
    const testSet = loaded.test && limited(loaded.test, options.limit, options.seed, 'limit/test');
    return fitToModel(loaded.name, trainSet, testSet, result, options);
  } catch (e) {
    reportDatasetError(e, file, result.train!.dataset.span, result.sources, io);
  }
}

function loadTrainBlockDataset(file: SourceFile, result: CompileResult): Promise<LoadedDataset> {
  const { dataset } = result.train!;
  return loadDataset({ name: dataset.name, args: dataset.args, baseDir: dirname(file.path) });
}

/**
 * The folds of `nnxc train --folds K`: the train block's dataset, its splits pooled (and cut to
 * `--limit`), dealt into K stratified folds, each fitted to the model like a plain run's data.
 */
export async function loadFoldData(
  file: SourceFile,
  result: CompileResult,
  options: ModelDataOptions & { readonly folds: number },
  io: Io,
): Promise<FoldData[]> {
  try {
    const loaded = await loadTrainBlockDataset(file, result);
    const all = limited(pooledSamples(loaded), options.limit, options.seed, 'limit/folds');
    if (options.folds > all.count)
      throw new DatasetError(
        `${options.folds} folds need at least ${options.folds} samples; ${loaded.name} has ${all.count}`,
      );
    return crossValidationFolds(all, options.folds, options.seed).map((fold) => {
      const data = fitToModel(loaded.name, fold.train, fold.test, result, options);
      return { ...data, test: data.test! };
    });
  } catch (e) {
    reportDatasetError(e, file, result.train!.dataset.span, result.sources, io);
  }
}

/** Holds out the validation split and lays every split out for the model's slots. */
function fitToModel(
  name: string,
  trainSet: SampleSet,
  testSet: SampleSet | undefined,
  result: CompileResult,
  options: ModelDataOptions,
): ModelData {
  const slots = dataSlots(result.compiled!.spec);
  const fraction = options.validationSplit ?? result.train!.validationSplit;
  let validationSet: SampleSet | undefined;
  if (fraction > 0) {
    const split = splitSamples(trainSet, fraction, options.seed, 'validation');
    trainSet = split.rest;
    validationSet = split.held;
  }
  const fit = (set: SampleSet) => toModelDataset(set, slots, name);
  return {
    name,
    train: fit(trainSet),
    validation: validationSet && validationSet.count > 0 ? fit(validationSet) : undefined,
    test: testSet && fit(testSet),
  };
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
