/**
 * Checkpoints: a model's (or a GAN's) parameters (under their own names) and state tensors
 * (under `@state/<name>`) as one safetensors file, the checks that keep a load from changing
 * anything unless every tensor is present and well-shaped, where training stands (in the
 * metadata), and writing, reading and restoring the file. NnxModel and NnxGan both use these.
 */

import type { Backend } from './backend.js';
import { describe } from './device.js';
import { elementCount, initialStateValues } from './init.js';
import { importNodeFs } from './node-fs.js';
import { readSlots } from './readback.js';
import type { Rng } from './rng.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  type SafetensorsFile,
  type SafetensorsTensor,
} from './safetensors.js';
import type { ModelSpec, StateSlot, TensorSlot } from './spec.js';

/** The checkpoint layout version written to the metadata key `nnx_format_version`. */
export const CHECKPOINT_FORMAT_VERSION = '1';

/** State tensors are stored under this prefix; `@` cannot start an nnx name, so none collide. */
export const STATE_TENSOR_PREFIX = '@state/';

/** What a checkpoint holds and is checked against: a model's, or a GAN's, parameters and state. */
export type CheckpointSpec = Pick<ModelSpec, 'name' | 'params' | 'state'>;

/** Parameter and state values by name. */
export interface CheckpointValues {
  readonly params: ReadonlyMap<string, Float32Array>;
  /** Absent when the checkpoint holds no state (a fresh optimizer). */
  readonly state: ReadonlyMap<string, Float32Array> | undefined;
}

/**
 * Throws unless `values` holds exactly one array of the right length for each of `slots`; the
 * error lists every missing, unexpected and mis-sized tensor.
 */
export function checkTensorValues(
  caller: string,
  slots: readonly TensorSlot[],
  values: ReadonlyMap<string, Float32Array>,
): void {
  const problems: string[] = [];
  for (const slot of slots) {
    const value = values.get(slot.name);
    if (value === undefined) problems.push(`'${slot.name}' is missing`);
    else if (value.length !== elementCount(slot.shape)) {
      problems.push(
        `'${slot.name}' has ${value.length} values but its shape [${slot.shape}] needs ${elementCount(slot.shape)}`,
      );
    }
  }
  const known = new Set(slots.map((slot) => slot.name));
  for (const name of values.keys()) {
    if (!known.has(name)) problems.push(`'${name}' is not a tensor of this model`);
  }
  if (problems.length > 0) throw new Error(`${caller}: ${problems.join('; ')}; nothing was changed`);
}

/** The tensors of a checkpoint of `spec`, parameters first, then state. */
export function checkpointTensors(
  spec: CheckpointSpec,
  values: CheckpointValues,
): Map<string, SafetensorsTensor> {
  const tensors = new Map<string, SafetensorsTensor>();
  for (const param of spec.params) {
    tensors.set(param.name, { shape: param.shape, data: values.params.get(param.name)! });
  }
  for (const slot of spec.state) {
    const data = values.state?.get(slot.name);
    if (data !== undefined) tensors.set(STATE_TENSOR_PREFIX + slot.name, { shape: slot.shape, data });
  }
  return tensors;
}

/** The metadata a checkpoint of `spec` carries. */
export function checkpointMetadata(spec: CheckpointSpec): Record<string, string> {
  return { nnx_format_version: CHECKPOINT_FORMAT_VERSION, nnx_model: spec.name };
}

/**
 * Splits a decoded checkpoint into parameter and state values, checking that the parameters are
 * exactly the model's, with the same shapes, and that state is either complete or absent.
 */
export function readCheckpoint(
  spec: CheckpointSpec,
  file: SafetensorsFile,
  caller: string,
): CheckpointValues {
  const version = file.metadata['nnx_format_version'];
  if (version !== undefined && version !== CHECKPOINT_FORMAT_VERSION) {
    throw new Error(
      `${caller}: checkpoint format version ${version} is not supported (this runtime reads ${CHECKPOINT_FORMAT_VERSION})`,
    );
  }
  const params = new Map<string, Float32Array>();
  const state = new Map<string, Float32Array>();
  for (const [name, tensor] of file.tensors) {
    if (name.startsWith(STATE_TENSOR_PREFIX)) state.set(name.slice(STATE_TENSOR_PREFIX.length), tensor.data);
    else params.set(name, tensor.data);
  }
  checkShapes(caller, spec.params, file, '');
  checkTensorValues(caller, spec.params, params);
  if (state.size === 0) return { params, state: undefined };
  checkShapes(caller, spec.state, file, STATE_TENSOR_PREFIX);
  deriveMissingState(caller, spec.state, state);
  checkTensorValues(`${caller} (state)`, spec.state, state);
  return { params, state };
}

/**
 * Fills in the state slots a checkpoint lacks but that derive from its step count (Adam's bias
 * corrections, state only since #16), so that checkpoints written before still resume bit-exactly.
 * A slot whose step count is missing too stays missing, and the completeness check reports it.
 */
function deriveMissingState(
  caller: string,
  slots: readonly StateSlot[],
  state: Map<string, Float32Array>,
): void {
  for (const slot of slots) {
    if (slot.derive === undefined || state.has(slot.name)) continue;
    const steps = state.get(slot.derive.steps);
    if (steps === undefined || steps.length !== 1) continue;
    const t = steps[0]!;
    if (!(Number.isInteger(t) && t >= 0)) {
      throw new Error(
        `${caller} (state): the step count '${slot.derive.steps}' is ${t}, not a whole number, so '${slot.name}' cannot be derived; nothing was changed`,
      );
    }
    state.set(slot.name, Float32Array.of(adamCorrectionAfter(t, slot.derive.beta)));
  }
}

/**
 * 1 − βᵗ as the training step leaves it after `t` steps: the f32 recurrence c ← c + (1 − β)(1 − c)
 * from c = 0, each operation rounded to f32 as the kernels round it (optimizers.ts' correctionStep
 * builds the same recurrence as IR, with 1 − β an f64 constant rounded once).
 */
export function adamCorrectionAfter(t: number, beta: number): number {
  const f = Math.fround;
  const oneMinusBeta = f(1 - beta);
  let c = 0;
  for (let step = 0; step < t; step++) {
    const next = f(c + f(oneMinusBeta * f(1 - c)));
    // Once the increment rounds away c stays put (below 1 for β near 1): no need to go on.
    if (next === c) break;
    c = next;
  }
  return c;
}

// Lengths are checked with the values; a checkpoint also carries shapes, which must match exactly.
function checkShapes(
  caller: string,
  slots: readonly TensorSlot[],
  file: SafetensorsFile,
  prefix: string,
): void {
  const problems: string[] = [];
  for (const slot of slots) {
    const stored = file.tensors.get(prefix + slot.name);
    if (stored !== undefined && !sameShape(stored.shape, slot.shape)) {
      problems.push(`'${slot.name}' has shape [${stored.shape}] but the model expects [${slot.shape}]`);
    }
  }
  if (problems.length > 0) throw new Error(`${caller}: ${problems.join('; ')}; nothing was changed`);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

/**
 * Where a training run stands, as a checkpoint records it in its metadata: with the weights and
 * optimizer state, enough for `fit` to resume and end bit for bit where an uninterrupted run would.
 */
export interface TrainingState {
  /** Epochs completed. */
  readonly epoch: number;
  /** Seed of the per-epoch shuffle. */
  readonly shuffleSeed: number;
  /** The shuffle generator's state after `epoch` epochs. */
  readonly shuffleState: readonly number[];
}

const TRAINING_STATE_KEY = 'nnx_training';

/** Metadata entries that record `state` in a checkpoint. */
export function trainingMetadata(state: TrainingState): Record<string, string> {
  return {
    [TRAINING_STATE_KEY]: JSON.stringify({
      epoch: state.epoch,
      shuffle_seed: state.shuffleSeed,
      shuffle_state: state.shuffleState,
    }),
  };
}

/** The training state a checkpoint's metadata records, if any; a malformed entry is an error. */
export function readTrainingState(
  metadata: Readonly<Record<string, string>>,
  caller: string,
): TrainingState | undefined {
  const text = metadata[TRAINING_STATE_KEY];
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const { epoch, shuffle_seed: seed, shuffle_state: words } = (value ?? {}) as Record<string, unknown>;
  const isWord = (w: unknown) => Number.isInteger(w) && (w as number) >= 0 && (w as number) < 2 ** 32;
  if (
    !(Number.isSafeInteger(epoch) && (epoch as number) >= 0) ||
    !Number.isSafeInteger(seed) ||
    !(Array.isArray(words) && words.length === 4 && words.every(isWord))
  ) {
    throw new Error(`${caller}: the checkpoint's training state '${text}' is malformed; nothing was changed`);
  }
  return { epoch: epoch as number, shuffleSeed: seed as number, shuffleState: words as number[] };
}

/**
 * Replays the shuffles of the epochs a checkpoint completed, so the next epoch visits samples in
 * the order an uninterrupted run would; the generator must then be where the checkpoint says.
 */
export function replayShuffles(
  rng: Rng,
  order: Uint32Array,
  resume: TrainingState,
  shuffle: boolean | 'always',
): void {
  if (shuffle) for (let epoch = 1; epoch <= resume.epoch; epoch++) rng.shuffle(order);
  const state = rng.state();
  if (!state.every((word, i) => word === resume.shuffleState[i])) {
    // A GAN always shuffles, so only the dataset can differ.
    const otherShuffle = shuffle === 'always' ? '' : ` or with shuffle ${shuffle ? 'off' : 'on'}`;
    throw new Error(
      `fit: cannot resume from epoch ${resume.epoch}: replaying its shuffles over ${order.length} samples does ` +
        `not reach the checkpoint's shuffle state; was it trained on another dataset${otherShuffle}?`,
    );
  }
}

/** A spec's buffers on its device: what a checkpoint is read from and restored into. */
export interface CheckpointBuffers {
  readonly backend: Backend;
  readonly spec: CheckpointSpec;
  /** The model's seed, which the seed's state slot is reset to when a checkpoint has no state. */
  readonly seed: number;
}

/**
 * A safetensors checkpoint of every parameter and state tensor on the GPU, read in one round
 * trip, with `training` in its metadata when given.
 */
export async function encodeCheckpoint(on: CheckpointBuffers, training?: TrainingState): Promise<Uint8Array> {
  const [params, state] = await readSlots(on.backend, on.spec.params, on.spec.state);
  on.backend.checkFailed();
  const metadata = { ...checkpointMetadata(on.spec), ...(training ? trainingMetadata(training) : {}) };
  return encodeSafetensors(checkpointTensors(on.spec, { params: params!, state }), metadata);
}

/**
 * Restores a checkpoint from {@link encodeCheckpoint}: its parameters must match the spec's
 * names and shapes exactly, and its state be complete or absent (then it is reset as `create`
 * set it: zeros, and the model's seed);
 * everything is checked before anything is written, so nothing changes when it fails. Returns
 * the training state it records.
 */
export function restoreCheckpoint(
  on: CheckpointBuffers,
  bytes: Uint8Array,
  caller: string,
  source?: string,
): TrainingState | undefined {
  const file = decodeSafetensors(bytes, source);
  const values = readCheckpoint(on.spec, file, caller);
  const training = readTrainingState(file.metadata, caller);
  const write = (slot: TensorSlot, data: Float32Array) => on.backend.write(slot.buffer, data);
  for (const slot of on.spec.params) write(slot, values.params.get(slot.name)!);
  for (const slot of on.spec.state)
    write(slot, values.state?.get(slot.name) ?? initialStateValues(slot, on.seed));
  return training;
}

/** Writes checkpoint bytes to `path` (Node only), atomically: a temporary file, then a rename. */
export async function writeCheckpointFile(path: string, bytes: Uint8Array): Promise<void> {
  const fs = await importNodeFs();
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    await fs.writeFile(temporary, bytes);
    await fs.rename(temporary, path);
  } catch (error) {
    await fs.rm(temporary, { force: true }).catch(() => undefined);
    throw new Error(`save: could not write the checkpoint '${path}': ${describe(error)}`, { cause: error });
  }
}

/** The bytes of the checkpoint file at `path` (Node only). */
export async function readCheckpointFile(path: string): Promise<Uint8Array> {
  const fs = await importNodeFs();
  try {
    return await fs.readFile(path);
  } catch (error) {
    throw new Error(`load: could not read the checkpoint '${path}': ${describe(error)}`, { cause: error });
  }
}
