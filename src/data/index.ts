/**
 * Datasets for nnx models (Node only): loaders by the names train blocks use (`data: mnist`), our
 * own readers of IDX, .npy and CSV files, and the step that fits samples to a compiled model's
 * input and target slots.
 */

export { DatasetError } from './errors.js';
export {
  DATASET_NAMES,
  datasetClassNames,
  loadDataset,
  parsePixelRowsJson,
  type DatasetRef,
} from './datasets.js';
export { parseIdx, encodeIdxUbyte, type IdxArray } from './idx.js';
export { parseNpy, encodeNpy, type NpyArray } from './npy.js';
export { csvSamples, parseCsvRows } from './csv.js';
export {
  type Fold,
  type Labels,
  type LoadedDataset,
  type SampleSet,
  crossValidationFolds,
  joinSamples,
  pooledSamples,
  selectSamples,
  seededPermutation,
  splitSamples,
} from './samples.js';
export { dataSlots, encodeTargets, shapeFits, toModelDataset, type ModelDataSlots } from './prepare.js';
export {
  decodePngGrey,
  encodeImageGrid,
  gridImageSize,
  imageSize,
  pngSample,
  resizeArea,
  type GreyImage,
} from './image.js';
