/**
 * `nnxc train FILE`: compile the model a train block names, load its dataset, train with a
 * progress display, evaluate the test split, and save weights or checkpoints on request.
 */
import { parseArgs } from 'node:util';
import { compile } from '../compile.js';
import { NnxModel, TrainingDivergedError, type FitOptions, type InitFromValues } from '../runtime/index.js';
import { type Io, UsageError, UserError, floatOption, intOption, readSource, report } from './io.js';
import { ReportedError, loadModelData } from './model-data.js';
import { makeProgress } from './progress.js';
import { TRAIN_GAN_USAGE, trainGanCommand, trainsGan } from './train-gan.js';
import { DEVICE_CHOICES, adapterCreateOptions, adapterRequestOption } from './devices.js';

/** The usage lines of `nnxc train`. */
export const TRAIN_USAGE = `  nnxc train FILE [--model NAME] [--epochs N] [--seed S] [--batch N] [--lr X] [--json] [--save W.safetensors]
        [--set FIELD=VALUE]...  (e.g. --set optimizer.lr=0.01, --set loss_weights.parity=0.5)
        [--limit N] [--validation-split F] [--patience N] [--monitor NAME]
        [--checkpoint C.safetensors] [--checkpoint-every N] [--resume C.safetensors]
        [--device ${DEVICE_CHOICES}]  (see nnxc devices)
        [--init-from BASE.safetensors]  (nnx or PyTorch state_dict weights, matched by name or layer order)
        [--init-only LAYER]...  (load only the tensors under these layer paths, e.g. trunk_1)
                                       compile and train on the train block's dataset
${TRAIN_GAN_USAGE}`;

/** Says which parameters `--init-from` set (on stderr with `--json`, whose stdout is JSON lines). */
function reportInitFrom(loaded: InitFromValues, path: string, json: boolean | undefined, io: Io): void {
  const kept = loaded.kept.length ? `; initialised as declared: ${loaded.kept.join(', ')}` : '';
  (json ? io.err : io.out)(
    `initialised ${loaded.values.size} parameters from ${path} (${loaded.layout} layout)${kept}\n`,
  );
}

/** Runs `nnxc train`. */
export async function trainCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      epochs: { type: 'string' },
      seed: { type: 'string' },
      batch: { type: 'string' },
      lr: { type: 'string' },
      set: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      save: { type: 'string' },
      limit: { type: 'string' },
      'validation-split': { type: 'string' },
      patience: { type: 'string' },
      monitor: { type: 'string' },
      checkpoint: { type: 'string' },
      'checkpoint-every': { type: 'string' },
      resume: { type: 'string' },
      device: { type: 'string' },
      'init-from': { type: 'string' },
      'init-only': { type: 'string', multiple: true },
      'out-dir': { type: 'string' },
      grid: { type: 'string' },
    },
  });
  const file = await readSource(positionals[0]);
  const overrides = {
    epochs: intOption('epochs', values.epochs, 1),
    batch: intOption('batch', values.batch, 1),
    lr: floatOption('lr', values.lr),
  };
  const seed = intOption('seed', values.seed, 0) ?? 0;
  if (trainsGan(file.text)) {
    const onlyTrain = [
      'validation-split',
      'patience',
      'monitor',
      'checkpoint',
      'checkpoint-every',
      'resume',
      'init-from',
      'init-only',
    ];
    return trainGanCommand(
      file,
      {
        overrides,
        settings: values.set ?? [],
        model: values.model,
        seed,
        limit: intOption('limit', values.limit, 1),
        outDir: values['out-dir'],
        grid: values.grid,
        json: values.json,
        save: values.save,
        device: values.device,
        unsupported: onlyTrain.filter((o) => values[o as keyof typeof values] !== undefined),
      },
      io,
    );
  }
  if (values['out-dir'] !== undefined || values.grid !== undefined)
    throw new UsageError('--out-dir and --grid are for a gan block, which this file does not have');
  const validationSplit = floatOption('validation-split', values['validation-split']);
  if (validationSplit !== undefined && validationSplit >= 1)
    throw new UsageError(`--validation-split must be below 1, got ${validationSplit}`);
  const patience = intOption('patience', values.patience, 1);
  const checkpointEvery = intOption('checkpoint-every', values['checkpoint-every'], 1);
  if (checkpointEvery !== undefined && !values.checkpoint)
    throw new UsageError('--checkpoint-every needs --checkpoint PATH');
  if (values['init-only'] && !values['init-from'])
    throw new UsageError('--init-only chooses what --init-from loads; give --init-from FILE too');
  if (values['init-from'] && values.resume)
    throw new UsageError('--init-from and --resume both set the weights; give one of them');

  const result = compile(file.text, {
    overrides,
    path: file.path,
    model: values.model,
    settings: values.set ?? [],
  });
  if (report(file, result, io) || !result.compiled) return 1;
  const { spec } = result.compiled;
  let data;
  try {
    data = await loadModelData(
      file,
      result,
      { limit: intOption('limit', values.limit, 1), seed, validationSplit },
      io,
    );
  } catch (e) {
    if (e instanceof ReportedError) return 1;
    throw e;
  }

  const epochs = spec.training.epochs;
  const model = await NnxModel.create(spec, {
    seed,
    ...adapterCreateOptions(await adapterRequestOption(values.device)),
  });
  try {
    if (values['init-from'])
      reportInitFrom(
        await model.initFrom(values['init-from'], { only: values['init-only'] }),
        values['init-from'],
        values.json,
        io,
      );
    const resume = values.resume ? await model.load(values.resume) : undefined;
    if (values.resume && !resume)
      throw new UserError(`${values.resume} holds weights but no training state; it cannot be resumed from`);
    const monitor = values.monitor ?? (data.validation ? 'val_loss' : 'loss');
    const stepsPerEpoch = Math.ceil(data.train.count / spec.entries.train.batch);
    const progress = makeProgress(
      values.json ? 'json' : io.isTTY ? 'bar' : 'lines',
      { epochs, firstEpoch: (resume?.epoch ?? 0) + 1, stepsPerEpoch },
      io.out,
    );
    const options: FitOptions = {
      epochs,
      validation: data.validation,
      resume,
      onProgress: (log) => progress.batch(log),
      onEpoch: (log) => progress.epoch(log),
      earlyStopping: patience === undefined ? undefined : { patience, monitor },
      checkpoint: values.checkpoint ? { path: values.checkpoint, every: checkpointEvery } : undefined,
    };
    const started = performance.now();
    let history;
    try {
      history = await model.fit(data.train, options);
    } catch (e) {
      if (e instanceof TrainingDivergedError) throw new UserError(e.message);
      throw e;
    }
    const seconds = (performance.now() - started) / 1000;
    const last = history.epochs[history.epochs.length - 1] ?? { epoch: resume?.epoch ?? 0 };
    const final: Record<string, number | boolean> = { ...last, seconds: +seconds.toFixed(3) };
    if (history.stoppedEarly) final['stopped_early'] = true;
    if (data.test) {
      const test = await model.evaluate(data.test);
      for (const [k, v] of Object.entries(test)) final[`test_${k}`] = v;
    }
    delete final['epoch'];
    progress.done({ model: spec.name, epochs: last.epoch, ...final });
    if (values.save) {
      await model.save(values.save);
      if (!values.json) io.out(`saved weights to ${values.save}\n`);
    }
  } finally {
    model.destroy();
  }
  return 0;
}
