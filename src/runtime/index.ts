/**
 * The nnx runtime (`nnx/runtime`): executes the ModelSpec a compiled model embeds on WebGPU.
 * Generated modules do `import { NnxModel, type ModelSpec } from 'nnx/runtime'`.
 *
 * In Node the device comes from Dawn's `webgpu` package, which can keep the process alive: CLI
 * code should `destroy()` its models and end with `process.exit`.
 */

export { NnxModel } from './model.js';
export type { BatchLog, EarlyStoppingOptions, EpochLog, FitOptions, History } from './model.js';
export { TrainingDivergedError } from './trainer.js';
export type { CheckpointOptions, EpochLoopOptions } from './trainer.js';
export type { CreateModelOptions } from './create.js';
export { createModule } from './module.js';
export type { ModuleOf } from './module.js';
export { typedModel } from './typed-model.js';
export type { TypedDataset, TypedModel } from './typed-model.js';
export { NnxGan, hostNoise } from './gan.js';
export type { GanData, GanEpochLog, GanFitOptions } from './gan.js';
export type { TrainingState } from './checkpoint.js';
export type { InitFromOptions, InitFromValues } from './init-from.js';
export type { Dataset } from './batching.js';
export { NO_ADAPTER_MESSAGE, releaseSharedDevices, requestDevice } from './device.js';
export type { RequestDeviceOptions } from './device.js';
export { decodeSafetensors, encodeSafetensors, SafetensorsError } from './safetensors.js';
export type { SafetensorsFile, SafetensorsTensor } from './safetensors.js';
export { Rng } from './rng.js';
export { SUPPORTED_SPEC_VERSION } from './spec-check.js';
export type {
  AccumulatorSpec,
  BufferSpec,
  DispatchSpec,
  EntryInput,
  EntrySpec,
  GanSpec,
  InitializerSpec,
  KernelSpec,
  KernelVariant,
  LossAccumulatorSpec,
  ModelSpec,
  ModuleSpec,
  ParamSpec,
  StateSlot,
  TensorSlot,
  Tiles,
} from './spec.js';
export type { TilesChoice } from './tiles.js';
