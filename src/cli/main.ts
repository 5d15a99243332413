/**
 * nnxc, the command-line front end: thin over the compiler library and the runtime. User errors
 * print as rendered diagnostics (or one `nnxc: error:` line) and exit with code 1, never with a
 * stack trace; usage errors exit with 2.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { codegenModule, compile, check, type CompileResult } from '../compile.js';
import { loadDataset, shapeMismatch } from '../data/index.js';
import { printGraph } from '../ir/print.js';
import { parse } from '../parser/index.js';
import { NnxModel, type ModelSpec } from '../runtime/index.js';
import { type SourceFile, hasErrors, renderDiagnostics } from '../util/diagnostics.js';
import { makeProgress } from './progress.js';

const USAGE = `nnxc — compile .nnx neural-network models to WebGPU

usage:
  nnxc check FILE                      parse, resolve and shape-check; print diagnostics
  nnxc compile FILE [-o OUT.ts]        write the generated TypeScript module
        [--emit ast|ir|grad|wgsl|plan]  print a stage of the pipeline instead
  nnxc train FILE [--epochs N] [--seed S] [--batch N] [--lr X] [--json] [--save W.safetensors]
                                       compile and train on the train block's dataset
  nnxc help                            this text
`;

/** A user-facing failure: printed as `nnxc: error: message`, exit code 1. */
class UserError extends Error {}

class UsageError extends Error {}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
}

const defaultIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: Boolean(process.stdout.isTTY),
};

async function readSource(path: string | undefined): Promise<SourceFile> {
  if (!path) throw new UsageError('missing FILE');
  try {
    return { path, text: await readFile(path, 'utf8') };
  } catch (e) {
    throw new UserError(
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
}

/** Prints diagnostics; returns true when there were errors. */
function report(file: SourceFile, result: { diagnostics: CompileResult['diagnostics'] }, io: Io): boolean {
  if (result.diagnostics.length) io.err(renderDiagnostics(file, result.diagnostics) + '\n');
  return hasErrors(result.diagnostics);
}

function intOption(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${v}'`);
  return n;
}

function floatOption(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got '${v}'`);
  return n;
}

async function cmdCheck(args: string[], io: Io): Promise<number> {
  const file = await readSource(args[0]);
  const checked = check(file.text);
  if (report(file, checked, io)) return 1;
  io.out(`${file.path}: ok (${[...checked.models.keys()].join(', ') || 'no models'})\n`);
  return 0;
}

const EMITS = ['ast', 'ir', 'grad', 'wgsl', 'plan'] as const;

async function cmdCompile(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { output: { type: 'string', short: 'o' }, emit: { type: 'string' } },
  });
  const file = await readSource(positionals[0]);
  const emit = values.emit;
  if (emit !== undefined && !(EMITS as readonly string[]).includes(emit))
    throw new UsageError(`--emit must be one of ${EMITS.join(', ')}`);
  if (emit === 'ast') {
    const parsed = parse(file.text);
    if (report(file, parsed, io)) return 1;
    io.out(JSON.stringify(parsed.result, null, 2) + '\n');
    return 0;
  }
  const result = compile(file.text);
  if (report(file, result, io) || !result.compiled) return 1;
  const { compiled } = result;
  switch (emit) {
    case 'ir':
      io.out(printGraph(result.model!.graph));
      return 0;
    case 'grad':
      io.out(printGraph(compiled.steps.train));
      return 0;
    case 'wgsl':
      io.out(compiled.spec.kernels.map((k) => `// kernel ${k.name}\n${k.wgsl}`).join('\n'));
      return 0;
    case 'plan':
      io.out(describePlan(compiled.spec));
      return 0;
  }
  const text = await codegenModule(compiled.spec, file.path);
  const out = values.output ?? file.path.replace(/\.nnx$/, '') + '.ts';
  await writeAtomically(out, text);
  const s = compiled.spec;
  io.out(
    `wrote ${out}: ${s.kernels.length} kernels, ${s.entries.train.dispatches.length} dispatches per training step, ${s.buffers.length} buffers (${formatBytes(s.buffers.reduce((a, b) => a + b.bytes, 0))})\n`,
  );
  return 0;
}

function formatBytes(n: number): string {
  return n < 1024
    ? `${n} B`
    : n < 1 << 20
      ? `${(n / 1024).toFixed(1)} KiB`
      : `${(n / (1 << 20)).toFixed(1)} MiB`;
}

function describePlan(spec: ModelSpec): string {
  const lines = [`buffers (${spec.buffers.length}):`];
  for (const b of spec.buffers) lines.push(`  #${b.id} ${b.label} ${formatBytes(b.bytes)}`);
  for (const [name, entry] of Object.entries(spec.entries)) {
    lines.push(`${name} (batch ${entry.batch}, ${entry.dispatches.length} dispatches):`);
    for (const d of entry.dispatches)
      lines.push(
        `  ${spec.kernels[d.kernel]!.name} [${d.buffers.map((b) => `#${b}`).join(', ')}] grid ${d.workgroups.join('×')}`,
      );
  }
  return lines.join('\n') + '\n';
}

/** Writes to a temporary file, then renames: a crash never leaves a half-written file. */
async function writeAtomically(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

async function cmdTrain(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      epochs: { type: 'string' },
      seed: { type: 'string' },
      batch: { type: 'string' },
      lr: { type: 'string' },
      json: { type: 'boolean' },
      save: { type: 'string' },
    },
  });
  const file = await readSource(positionals[0]);
  const overrides = {
    epochs: intOption('epochs', values.epochs, 1),
    batch: intOption('batch', values.batch, 1),
    lr: floatOption('lr', values.lr),
  };
  const seed = intOption('seed', values.seed, 0) ?? 0;
  const result = compile(file.text, { overrides });
  if (report(file, result, io) || !result.compiled) return 1;
  const { spec } = result.compiled;
  const data = await loadDataset(result.train!.data);
  const predict = spec.entries.predict;
  const inputSlot = predict.inputs.find((s) => s.role === 'input')!;
  const targetSlot = spec.entries.train.inputs.find((s) => s.role === 'target')!;
  const mismatch =
    shapeMismatch('inputs', inputSlot.shape.slice(1), data.train.inputShape) ??
    shapeMismatch('targets', targetSlot.shape.slice(1), data.train.targetShape);
  if (mismatch) throw new UserError(`dataset '${data.name}' does not fit ${spec.name}: ${mismatch}`);
  const toDataset = (s: typeof data.train) => ({
    count: s.count,
    inputs: { [inputSlot.name]: s.inputs },
    targets: { [targetSlot.name]: s.targets },
  });

  const epochs = spec.training.epochs;
  const progress = makeProgress(values.json ? 'json' : io.isTTY ? 'bar' : 'lines', epochs, io.out);
  const model = await NnxModel.create(spec, { seed });
  try {
    const started = performance.now();
    const history = await model.fit(toDataset(data.train), { epochs, onEpoch: (log) => progress.epoch(log) });
    const seconds = (performance.now() - started) / 1000;
    const last = history.epochs[history.epochs.length - 1] ?? { epoch: 0 };
    const final: Record<string, number> = { ...last, seconds: +seconds.toFixed(3) };
    if (data.test) {
      const test = await model.evaluate(toDataset(data.test));
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

/** Runs nnxc with `argv` (without node and script); resolves to the exit code. */
export async function run(argv: readonly string[], io: Io = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'check':
        return await cmdCheck(rest, io);
      case 'compile':
        return await cmdCompile(rest, io);
      case 'train':
        return await cmdTrain(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`nnxc: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    // Everything else the user can act on (no adapter, a bad dataset, a failed device) is one line.
    io.err(`nnxc: error: ${(e as Error).message}\n`);
    if (process.env['NNX_DEBUG']) io.err(`${(e as Error).stack}\n`);
    return 1;
  }
}
