/**
 * What `nnxc train` does for a file whose block is a `gan`, beyond the one driver in
 * train-driver.ts: compile both models into one module, load the real samples, train with
 * alternating discriminator and generator steps, and write a grid of generated samples after
 * every epoch (`<out-dir>/epoch-N.png`), always from the same noise, so the grids show one set
 * of samples improving. `--checkpoint` and `--resume` work as for a train block; a resumed run
 * goes on numbering the grids after the checkpoint's epoch.
 */
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { compileGan, isGanProgram, type GanCompileResult } from '../compile.js';
import { DatasetError, encodeImageGrid, gridImageSize, loadDataset, shapeFits } from '../data/index.js';
import { parse } from '../parser/index.js';
import type { GanData, GanSpec, NnxGan } from '../runtime/index.js';
import { error, type SourceFile } from '../util/diagnostics.js';
import { type Io, UsageError, intOption, report, writeAtomically } from './io.js';
import { ReportedError, limited, reportDatasetError } from './model-data.js';
import {
  type TrainHooks,
  type TrainRun,
  type Training,
  prepareOutputs,
  trainModule,
} from './train-driver.js';

/** The usage lines of `nnxc train` for a gan block. */
export const TRAIN_GAN_USAGE = `  nnxc train GAN.nnx [--epochs N] [--seed S] [--batch N] [--lr X] [--set FIELD=VALUE]... [--limit N]
        [--out-dir DIR] [--grid N] [--json] [--save W.safetensors] [--device …] [--backend …] [--threads N]
        [--checkpoint C.safetensors] [--checkpoint-every N] [--resume C.safetensors]
                                       train a gan block; writes DIR/epoch-N.png (N×N samples) every epoch`;

/**
 * The usage error for a command that runs a train block's model (evaluate, predict) given a file
 * that only has a gan block, whose samples come from `nnxc train`'s grids instead.
 */
export function refuseGan(command: string, path: string): UsageError {
  return new UsageError(
    `${command} runs the model of a train block, and ${path} has a gan block instead: ` +
      `nnxc train writes its samples as image grids, and NnxGan.generate makes them in code`,
  );
}

/** Whether the file holds a gan block and no train block: then `train` and `compile` take the GAN. */
export function trainsGan(text: string): boolean {
  return isGanProgram(parse(text).result);
}

/** The flags of `nnxc train` only a train block takes. */
const MODEL_ONLY = ['validation-split', 'patience', 'monitor', 'init-from', 'init-only', 'folds'] as const;

/** `nnxc train` on a gan block. */
export const GAN_TRAINING: Training = {
  refuse: (values) => {
    const given = MODEL_ONLY.filter((o) => values[o] !== undefined);
    if (given.length > 0)
      throw new UsageError(`${given.map((o) => `--${o}`).join(', ')}: not available for a gan block`);
  },
  train: trainGan,
};

async function trainGan(file: SourceFile, run: TrainRun, io: Io): Promise<number> {
  const grid = intOption('grid', run.values.grid, 1) ?? 8;
  const result = compileGan(file.text, run.compileOptions);
  if (report(file, result, io) || !result.compiled) return 1;
  const { spec } = result.compiled;
  // The grid is written after every epoch: a sample shape it cannot draw is said before training.
  const sampleShape = spec.entries.generate.outputs[0]!.shape.slice(1);
  if (!gridImageSize(sampleShape)) {
    const message = `nnxc train draws the generator's samples as images every epoch, and samples of shape [${sampleShape.join(', ')}] are not [H, W], [H, W, 1|3] or a square [N]`;
    report(file, { diagnostics: [error('E0501', result.gan!.span, message)], sources: result.sources }, io);
    return 1;
  }
  let data: GanData;
  try {
    data = await loadRealSamples(file, result, run, io);
  } catch (e) {
    if (e instanceof ReportedError) return 1;
    throw e;
  }
  const outDir = run.values['out-dir'] ?? join(dirname(file.path), `${basename(file.path, '.nnx')}-samples`);
  await mkdir(outDir, { recursive: true });
  await prepareOutputs(run);
  await trainModule(spec, ganHooks(spec, data, { outDir, grid }, run, io), run, io);
  return 0;
}

/** A GAN's part of a run: what it trains against what, and a grid of samples after each epoch. */
function ganHooks(
  spec: GanSpec,
  data: GanData,
  samples: { readonly outDir: string; readonly grid: number },
  run: TrainRun,
  io: Io,
): TrainHooks<NnxGan> {
  const steps = Math.floor(data.count / spec.training.batch);
  const { outDir, grid } = samples;
  return {
    stepsPerEpoch: steps,
    start: (_gan, resume) => {
      if (run.mode === 'json') return;
      io.out(
        `${spec.name}: ${spec.generator} against ${spec.discriminator}, ${data.count} samples, ${steps} step pairs per epoch` +
          `${resume ? `; resuming after epoch ${resume.epoch} of ${run.resume}` : ''}; ` +
          `${grid}×${grid} samples to ${join(outDir, 'epoch-N.png')} after each epoch\n`,
      );
    },
    fit: async (gan, options) => ({ epochs: (await gan.fit(data, options)).map((log) => ({ ...log })) }),
    afterEpoch: async (gan, log) => {
      const image = join(outDir, `epoch-${log.epoch}.png`);
      const shape = spec.entries.generate.outputs[0]!.shape.slice(1);
      const drawn = await gan.generate(grid * grid, run.seed);
      await writeAtomically(image, encodeImageGrid(drawn, grid * grid, shape, spec.training.dataRange, grid));
      return { image };
    },
  };
}

/**
 * The gan block's dataset, training split only, its labels ignored: the samples must fit the
 * discriminator's input. A failure is a diagnostic at `data:`, then {@link ReportedError}.
 */
async function loadRealSamples(
  file: SourceFile,
  result: GanCompileResult,
  run: TrainRun,
  io: Io,
): Promise<GanData> {
  const gan = result.gan!;
  const spec = result.compiled!.spec;
  try {
    const loaded = await loadDataset({
      name: gan.dataset.name,
      args: gan.dataset.args,
      baseDir: dirname(file.path),
    });
    const set = limited(loaded.train, run.limit, run.seed, 'limit/train');
    const input = spec.entries.d_step.inputs.find((slot) => slot.role === 'input')!;
    const shape = input.shape.slice(1);
    if (!shapeFits(shape, set.featureShape)) {
      throw new DatasetError(
        `dataset '${loaded.name}' does not fit ${spec.discriminator}: its samples have shape [${set.featureShape.join(', ')}], ` +
          `but the discriminator's input '${input.name}' has shape [${shape.join(', ')}]`,
      );
    }
    if (set.count < spec.training.batch)
      throw new DatasetError(
        `dataset '${loaded.name}' has ${set.count} samples, fewer than one batch of ${spec.training.batch}`,
      );
    return { count: set.count, samples: set.features };
  } catch (e) {
    reportDatasetError(e, file, gan.dataset.span, result.sources, io);
  }
}
