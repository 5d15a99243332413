/**
 * From host data to an entry's per-batch uploads: checking a dataset against the entry's slots,
 * cutting it into batches in a (shuffled) sample order, padding a last partial batch with zeros
 * and masking the padding out.
 */

import { elementCount } from './init.js';
import type { EntryInput, EntrySpec, TensorSlot } from './spec.js';
import { ownEntry } from '../util/own.js';

/**
 * Samples for `fit`, `evaluate` or `predict`, row-major. `inputs` are keyed by the names of the
 * entry's `input` slots, `targets` by the names of its `target` slots; each array holds `count`
 * samples of the slot's shape without its batch dim.
 */
export interface Dataset {
  readonly count: number;
  readonly inputs: Readonly<Record<string, Float32Array>>;
  readonly targets: Readonly<Record<string, Float32Array>>;
}

/** The number of values one sample takes in `slot` (its shape without the batch dim). */
export function valuesPerSample(slot: TensorSlot): number {
  return elementCount(slot.shape.slice(1));
}

/** One upload of a batch: the values for one slot of the entry. */
export interface SlotUpload {
  readonly slot: EntryInput;
  readonly data: Float32Array;
}

/** A batch ready to upload, and how many of its samples are real (not padding). */
export interface AssembledBatch {
  readonly uploads: readonly SlotUpload[];
  readonly realSamples: number;
}

interface SlotFeed {
  readonly slot: EntryInput;
  readonly perSample: number;
  /** The dataset's array for this slot; absent for the mask, which is generated. */
  readonly source: Float32Array | undefined;
  /** Reused for every batch; queue.writeBuffer copies it, so overwriting it later is safe. */
  readonly batch: Float32Array;
}

/** Cuts a dataset into an entry's batches, reusing one host array per slot. */
export class BatchAssembler {
  /** The number of batches one pass over the dataset takes. */
  readonly steps: number;
  private readonly feeds: readonly SlotFeed[];

  /** Checks `dataset` against the slots of `entry`; `caller` names the method in errors. */
  constructor(
    private readonly entry: EntrySpec,
    private readonly dataset: Dataset,
    caller: string,
  ) {
    checkDataset(entry, dataset, caller);
    this.steps = Math.ceil(dataset.count / entry.batch);
    this.feeds = entry.inputs.map((slot) => {
      const perSample = valuesPerSample(slot);
      const source = slot.role === 'mask' ? undefined : datasetArray(dataset, slot);
      return { slot, perSample, source, batch: new Float32Array(entry.batch * perSample) };
    });
  }

  /** Samples per batch. */
  get batchSize(): number {
    return this.entry.batch;
  }

  /** Samples in the dataset. */
  get count(): number {
    return this.dataset.count;
  }

  /**
   * Batch number `step` (0-based) of a pass visiting samples in `order` (dataset order when
   * omitted). The last batch may be partial: its padding is zero and masked out.
   */
  assemble(step: number, order?: Uint32Array): AssembledBatch {
    const first = step * this.entry.batch;
    const realSamples = Math.min(this.entry.batch, this.dataset.count - first);
    for (const feed of this.feeds) {
      if (feed.source === undefined) fillMask(feed, realSamples);
      else if (order === undefined) copyRange(feed, feed.source, first, realSamples);
      else copyRows(feed, feed.source, order, first, realSamples);
    }
    return { uploads: this.feeds.map(({ slot, batch }) => ({ slot, data: batch })), realSamples };
  }
}

function fillMask(feed: SlotFeed, realSamples: number): void {
  feed.batch.fill(1, 0, realSamples * feed.perSample);
  feed.batch.fill(0, realSamples * feed.perSample);
}

function copyRange(feed: SlotFeed, source: Float32Array, first: number, realSamples: number): void {
  const { perSample } = feed;
  feed.batch.set(source.subarray(first * perSample, (first + realSamples) * perSample));
  feed.batch.fill(0, realSamples * perSample);
}

function copyRows(
  feed: SlotFeed,
  source: Float32Array,
  order: Uint32Array,
  first: number,
  realSamples: number,
): void {
  const { perSample } = feed;
  for (let row = 0; row < realSamples; row++) {
    const sample = order[first + row]!;
    feed.batch.set(source.subarray(sample * perSample, (sample + 1) * perSample), row * perSample);
  }
  feed.batch.fill(0, realSamples * perSample);
}

function datasetArray(dataset: Dataset, slot: EntryInput): Float32Array | undefined {
  return ownEntry(slot.role === 'target' ? dataset.targets : dataset.inputs, slot.name);
}

/** Throws unless `dataset` holds exactly the arrays `entry` needs, each of the right length. */
export function checkDataset(entry: EntrySpec, dataset: Dataset, caller: string): void {
  if (!(Number.isSafeInteger(dataset.count) && dataset.count > 0)) {
    throw new Error(`${caller}: dataset count must be a positive integer, got ${dataset.count}`);
  }
  checkKeys(caller, 'input', dataset.inputs, slotNames(entry, 'input'));
  checkKeys(caller, 'target', dataset.targets, slotNames(entry, 'target'));
  for (const slot of entry.inputs) {
    if (slot.role === 'mask') continue;
    const array = datasetArray(dataset, slot)!;
    const needed = dataset.count * valuesPerSample(slot);
    if (array.length !== needed) {
      throw new Error(
        `${caller}: dataset ${slot.role} '${slot.name}' has ${array.length} values, but ` +
          `${dataset.count} samples of shape [${slot.shape.slice(1)}] need ${needed}`,
      );
    }
  }
}

function slotNames(entry: EntrySpec, role: EntryInput['role']): string[] {
  return entry.inputs.filter((slot) => slot.role === role).map((slot) => slot.name);
}

function checkKeys(
  caller: string,
  role: string,
  given: Readonly<Record<string, Float32Array>>,
  expected: readonly string[],
): void {
  const missing = expected.filter((name) => ownEntry(given, name) === undefined);
  const unknown = Object.keys(given).filter((name) => !expected.includes(name));
  if (missing.length === 0 && unknown.length === 0) return;
  const problems = [
    ...missing.map((name) => `missing ${role} '${name}'`),
    ...unknown.map((name) => `unknown ${role} '${name}'`),
  ];
  throw new Error(
    `${caller}: ${problems.join(', ')} (the model's ${role}s are: ${expected.map((n) => `'${n}'`).join(', ') || 'none'})`,
  );
}

/**
 * The uploads for one batch the caller assembled (`trainStep`): every non-mask slot by name, with
 * at most `entry.batch` samples, all slots the same count. Fewer samples are padded and masked; a
 * mask the caller gives is used as is.
 */
export function batchFromRecord(
  entry: EntrySpec,
  batch: Readonly<Record<string, Float32Array>>,
  caller: string,
): AssembledBatch {
  const known = entry.inputs.map((slot) => slot.name);
  const unknown = Object.keys(batch).filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `${caller}: unknown slot(s) ${unknown.map((n) => `'${n}'`).join(', ')} (expected: ${known.join(', ')})`,
    );
  }
  const realSamples = countSamples(entry, batch, caller);
  const uploads = entry.inputs.map((slot): SlotUpload => {
    const perSample = valuesPerSample(slot);
    const padded = new Float32Array(entry.batch * perSample);
    const given = ownEntry(batch, slot.name);
    if (given !== undefined) padded.set(given);
    else padded.fill(1, 0, realSamples * perSample); // only the mask may be omitted
    return { slot, data: padded };
  });
  return { uploads, realSamples };
}

function countSamples(
  entry: EntrySpec,
  batch: Readonly<Record<string, Float32Array>>,
  caller: string,
): number {
  let realSamples: number | undefined;
  for (const slot of entry.inputs) {
    const given = ownEntry(batch, slot.name);
    const perSample = valuesPerSample(slot);
    if (slot.role === 'mask') {
      // A given mask covers the whole batch, padding included; it does not count samples.
      if (given !== undefined && given.length > entry.batch * perSample) {
        throw new Error(
          `${caller}: mask '${slot.name}' has ${given.length} values, more than the batch of ${entry.batch}`,
        );
      }
      continue;
    }
    if (given === undefined) throw new Error(`${caller}: missing ${slot.role} '${slot.name}'`);
    const samples = given.length / perSample;
    const consistent = Number.isInteger(samples) && (realSamples === undefined || samples === realSamples);
    if (!consistent || samples > entry.batch || samples === 0) {
      throw new Error(
        `${caller}: ${slot.role} '${slot.name}' has ${given.length} values, which is not a whole number of ` +
          `samples of shape [${slot.shape.slice(1)}] between 1 and the batch size ${entry.batch}` +
          (realSamples === undefined ? '' : ` matching the ${realSamples} samples of the other slots`),
      );
    }
    realSamples = samples;
  }
  return realSamples ?? entry.batch;
}
