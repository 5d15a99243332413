/**
 * `nnxc train FILE` for a file whose block is a `gan`: compile both models into one module, load
 * the real samples, train with alternating discriminator and generator steps, and write a grid
 * of generated samples after every epoch (`<out-dir>/epoch-N.png`), always from the same noise,
 * so the grids show one set of samples improving. `--checkpoint` and `--resume` work as for a
 * train block; a resumed run goes on numbering the grids after the checkpoint's epoch.
 */
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { compileGan, isGanProgram, type GanCompileResult, type TrainOverrides } from '../compile.js';
import { DatasetError, encodeImageGrid, gridImageSize, loadDataset, shapeFits } from '../data/index.js';
import { parse } from '../parser/index.js';
import type { BackendChoice } from '../runtime/choose-backend.js';
import { NnxGan, TrainingDivergedError, type GanData } from '../runtime/index.js';
import { error, type SourceFile } from '../util/diagnostics.js';
import { adapterCreateOptions, adapterRequestOption } from './devices.js';
import { type Io, UsageError, UserError, intOption, prepareOutput, report, writeAtomically } from './io.js';
import { ReportedError, limited, reportDatasetError } from './model-data.js';

/** The usage lines of `nnxc train` for a gan block. */
export const TRAIN_GAN_USAGE = `  nnxc train GAN.nnx [--epochs N] [--seed S] [--batch N] [--lr X] [--set FIELD=VALUE]... [--limit N]
        [--out-dir DIR] [--grid N] [--json] [--save W.safetensors] [--device …] [--backend …] [--threads N]
        [--checkpoint C.safetensors] [--checkpoint-every N] [--resume C.safetensors]
                                       train a gan block; writes DIR/epoch-N.png (N×N samples) every epoch`;

/** Whether the file holds a gan block and no train block: then `train` and `compile` take the GAN. */
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

export function trainsGan(text: string): boolean {
  return isGanProgram(parse(text).result);
}

/** The options of `nnxc train` a GAN takes, parsed by the train command. */
export interface GanTrainOptions {
  readonly overrides: TrainOverrides;
  readonly settings: readonly string[];
  /** Which gan block, when the file has several; the first by default. */
  readonly model?: string;
  readonly seed: number;
  readonly limit?: number;
  readonly outDir?: string;
  readonly grid?: string;
  readonly json?: boolean;
  readonly save?: string;
  /** Write a checkpoint here every `every` epochs (1 by default) and after the last. */
  readonly checkpoint?: { readonly path: string; readonly every?: number };
  /** Continue from this checkpoint. */
  readonly resume?: string;
  readonly device?: string;
  /** Where to run (`--backend`), and on wasm how many threads (`--threads`). */
  readonly backend?: BackendChoice;
  readonly threads?: number;
  /** Options given that only a train block takes. */
  readonly unsupported: readonly string[];
}

/** Runs `nnxc train` on a gan block. */
export async function trainGanCommand(file: SourceFile, options: GanTrainOptions, io: Io): Promise<number> {
  if (options.unsupported.length > 0)
    throw new UsageError(
      `${options.unsupported.map((o) => `--${o}`).join(', ')}: not available for a gan block`,
    );
  const grid = intOption('grid', options.grid, 1) ?? 8;
  const result = compileGan(file.text, {
    model: options.model,
    overrides: options.overrides,
    path: file.path,
    settings: options.settings,
    wasm: options.backend !== 'webgpu',
  });
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
    data = await loadRealSamples(file, result, options, io);
  } catch (e) {
    if (e instanceof ReportedError) return 1;
    throw e;
  }
  const outDir = options.outDir ?? join(dirname(file.path), `${basename(file.path, '.nnx')}-samples`);
  await mkdir(outDir, { recursive: true });
  if (options.save) await prepareOutput(options.save, '--save');
  if (options.checkpoint) await prepareOutput(options.checkpoint.path, '--checkpoint');
  const gan = await NnxGan.create(spec, {
    seed: options.seed,
    ...adapterCreateOptions(await adapterRequestOption(options.device)),
    backend: options.backend,
    threads: options.threads,
  });
  try {
    const resume = options.resume ? await gan.load(options.resume) : undefined;
    if (options.resume && !resume)
      throw new UserError(`${options.resume} holds weights but no training state; it cannot be resumed from`);
    const steps = Math.floor(data.count / spec.training.batch);
    const epochs = spec.training.epochs;
    const started = performance.now();
    let lastLine = started;
    if (!options.json)
      io.out(
        `${spec.name}: ${spec.generator} against ${spec.discriminator}, ${data.count} samples, ${steps} step pairs per epoch` +
          `${resume ? `; resuming after epoch ${resume.epoch} of ${options.resume}` : ''}\n`,
      );
    if (!options.json) io.out(`backend: ${gan.backend.kind}, ${gan.backend.description}\n`);
    const logs = await gan
      .fit(data, {
        epochs,
        resume,
        checkpoint: options.checkpoint,
        onStep: (step) => {
          const now = performance.now();
          if (options.json || now - lastLine < 10_000) return;
          lastLine = now;
          io.out(`  step ${step}/${steps}  ${((now - started) / 1000).toFixed(0)}s\n`);
        },
        onEpoch: async (log) => {
          const image = join(outDir, `epoch-${log.epoch}.png`);
          const samples = await gan.generate(grid * grid, options.seed);
          const shape = gan.spec.entries.generate.outputs[0]!.shape.slice(1);
          await writeAtomically(
            image,
            encodeImageGrid(samples, grid * grid, shape, spec.training.dataRange, grid),
          );
          const seconds = +((performance.now() - started) / 1000).toFixed(1);
          if (options.json) io.out(`${JSON.stringify({ ...log, seconds, image })}\n`);
          else
            io.out(
              `epoch ${log.epoch}/${epochs}  d_loss ${log.d_loss.toFixed(4)}  g_loss ${log.g_loss.toFixed(4)}  ` +
                `${seconds}s  wrote ${image}\n`,
            );
        },
      })
      .catch((e: unknown) => {
        throw e instanceof TrainingDivergedError ? new UserError(e.message) : e;
      });
    // After a resume, the epochs trained so far include the checkpoint's.
    const { epoch: lastEpoch, ...last } = logs[logs.length - 1] ?? { epoch: resume?.epoch ?? 0 };
    const seconds = +((performance.now() - started) / 1000).toFixed(3);
    if (options.json)
      io.out(`${JSON.stringify({ final: true, model: spec.name, epochs: lastEpoch, ...last, seconds })}\n`);
    else io.out(`done in ${seconds.toFixed(1)}s: epochs ${lastEpoch}\n`);
    if (options.save) {
      await writeAtomically(options.save, await gan.saveBytes());
      if (!options.json) io.out(`saved weights to ${options.save}\n`);
    } else if (!options.checkpoint && !options.json)
      io.out('note: the trained weights were not kept; --save W.safetensors keeps them\n');
  } finally {
    gan.destroy();
  }
  return 0;
}

/**
 * The gan block's dataset, training split only, its labels ignored: the samples must fit the
 * discriminator's input. A failure is a diagnostic at `data:`, then {@link ReportedError}.
 */
async function loadRealSamples(
  file: SourceFile,
  result: GanCompileResult,
  options: GanTrainOptions,
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
    const set = limited(loaded.train, options.limit, options.seed ?? 0, 'limit/train');
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
