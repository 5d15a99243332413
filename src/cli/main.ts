/**
 * nnxc, the command-line front end: thin over the compiler library and the runtime. User errors
 * print as rendered diagnostics (or one `nnxc: error:` line) and exit with code 1, never with a
 * stack trace; usage errors exit with 2.
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { type ModuleCompileResult, codegenModule, compileModule, check } from '../compile.js';
import type { Graph } from '../ir/graph.js';
import type { SourceFile } from '../util/diagnostics.js';
import { closest } from '../util/suggest.js';
import { type PlannedModule, describePlan, totalBufferBytes } from '../codegen/describe.js';
import {
  ADAPTER_NAMES,
  ADAPTER_PROFILES,
  type AdapterName,
  type AdapterProfile,
  DEFAULT_ADAPTER,
} from '../codegen/adapter.js';
import type { ModuleSpec } from '../runtime/spec.js';
import { printGraph } from '../ir/print.js';
import { parse } from '../parser/index.js';
import { type Command, type Io, UsageError, formatBytes, readSource, report, writeAtomically } from './io.js';
import { TRAIN_USAGE, trainCommand } from './train.js';
import { EVALUATE_USAGE, evaluateCommand } from './evaluate.js';
import { PREDICT_USAGE, predictCommand } from './predict.js';
import { SUMMARY_USAGE, summaryCommand } from './summary.js';
import { GRAPH_USAGE, graphCommand } from './graph.js';
import { FMT_USAGE, fmtCommand } from './fmt.js';
import { DEVICES_USAGE, devicesCommand } from './devices.js';
import { EXPORT_USAGE, exportCommand } from './export.js';
import { HelpRequest, parseCommandArgs } from './args.js';
import { wantsColour } from './progress.js';

// Node 22 validates relaxed SIMD by default, Node 20 only behind this flag; set before any wasm
// module compiles so the wasm backend's matmuls use FMA (about 1.5x less CPU per MLP step).
if (Number(process.versions.node.split('.')[0]) < 22) setFlagsFromString('--experimental-wasm-relaxed-simd');

const CHECK_USAGE = `  nnxc check FILE                      parse, resolve and shape-check; print diagnostics`;
const COMPILE_USAGE = `  nnxc compile FILE [-o OUT.ts]        write the generated TypeScript module
        [--target all|webgpu]         all (the default): WebGPU kernels and the wasm CPU module; webgpu: no wasm
        [--emit ast|ir|grad|wgsl|plan]  print a stage of the pipeline instead
        [--adapter lavapipe|h100]     the adapter the plan is made for (default lavapipe)
        [--model NAME] [--set FIELD=VALUE]...  (which train block; its overrides)`;

const USAGE = `nnxc — compile .nnx neural-network models to WebGPU

usage:
${CHECK_USAGE}
${COMPILE_USAGE}
${TRAIN_USAGE}
${EVALUATE_USAGE}
${PREDICT_USAGE}
${SUMMARY_USAGE}
${GRAPH_USAGE}
${FMT_USAGE}
${DEVICES_USAGE}
${EXPORT_USAGE}
  nnxc help [COMMAND], nnxc COMMAND --help   this text, or one command's
  nnxc --version                       the installed nnx version
`;

const defaultIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: Boolean(process.stdout.isTTY),
  get columns() {
    return process.stdout.columns;
  },
  colour: wantsColour(Boolean(process.stdout.isTTY), process.env),
};

async function cmdCheck(args: string[], io: Io): Promise<number> {
  const { positionals } = parseCommandArgs(args, { command: 'check', usage: CHECK_USAGE, options: {} });
  const file = await readSource(positionals[0]);
  const checked = check(file.text, { path: file.path, fitNamedDatasets: true });
  if (report(file, checked, io)) return 1;
  io.out(`${file.path}: ok (${[...checked.models.keys()].join(', ') || 'no models'})\n`);
  return 0;
}

const EMITS = ['ast', 'ir', 'grad', 'wgsl', 'plan'] as const;

async function cmdCompile(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    command: 'compile',
    usage: COMPILE_USAGE,
    options: {
      output: { type: 'string', short: 'o' },
      emit: { type: 'string' },
      model: { type: 'string' },
      set: { type: 'string', multiple: true },
      adapter: { type: 'string' },
      target: { type: 'string' },
    },
  });
  const target = values.target ?? 'all';
  if (target !== 'all' && target !== 'webgpu')
    throw new UsageError(`--target must be all or webgpu, got '${target}'`);
  const adapterName = values.adapter ?? DEFAULT_ADAPTER.name;
  if (!Object.hasOwn(ADAPTER_PROFILES, adapterName))
    throw new UsageError(`--adapter must be one of ${ADAPTER_NAMES.join(', ')}`);
  const adapter: AdapterProfile = ADAPTER_PROFILES[adapterName as AdapterName];
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
  // The wasm module is what lets an app run the generated module without a GPU (and `auto` fall
  // back); the stages --emit prints are the same without it.
  const wasm = emit === undefined && target === 'all';
  const choice = { path: file.path, model: values.model, settings: values.set ?? [], adapter, wasm };
  const output = compiledModule(file, choice, io);
  if (!output) return 1;
  switch (emit) {
    case 'ir':
      io.out(output.ir());
      return 0;
    case 'grad':
      io.out(output.grad());
      return 0;
    case 'wgsl':
      io.out(output.module.spec.kernels.map((k) => `// kernel ${k.name}\n${k.wgsl}`).join('\n'));
      return 0;
    case 'plan':
      io.out(describePlan(output.module, adapter));
      return 0;
  }
  const out = values.output ?? file.path.replace(/\.nnx$/, '') + '.ts';
  await writeAtomically(out, await codegenModule(output.module.spec, file.path));
  io.out(`wrote ${out}: ${output.facts}\n`);
  return 0;
}

/** What `nnxc compile` prints or writes of a compiled model or GAN. */
interface CompileOutput {
  readonly module: PlannedModule & { readonly spec: ModuleSpec };
  /** The texts of `--emit ir` and `--emit grad`. */
  readonly ir: () => string;
  readonly grad: () => string;
  /** What the written module holds, after `wrote FILE: `. */
  readonly facts: string;
}

type CompileChoice = {
  readonly path: string;
  readonly model?: string;
  readonly settings: readonly string[];
  readonly adapter: AdapterProfile;
  readonly wasm: boolean;
};

/** A file's module, a model's or a GAN's; a GAN's stages are printed per entry. */
function compiledModule(file: SourceFile, choice: CompileChoice, io: Io): CompileOutput | undefined {
  const result: ModuleCompileResult = compileModule(file.text, choice);
  if (report(file, result, io) || !result.compiled) return undefined;
  const entries = (graphs: Readonly<Record<string, Graph>>) =>
    Object.entries(graphs)
      .map(([name, g]) => `# ${name}\n${printGraph(g)}`)
      .join('\n');
  const module = result.compiled;
  const s = module.spec;
  const sizes = `${s.buffers.length} buffers`;
  if (result.kind === 'gan') {
    const { entries: e } = result.compiled.spec;
    return {
      module,
      // The forward graphs, as for a model: the stage before the training steps are built.
      ir: () => entries({ generator: result.generator!.graph, discriminator: result.discriminator!.graph }),
      grad: () => entries({ ...result.compiled!.steps }),
      facts: `${s.kernels.length} kernels, ${e.d_step.dispatches.length} + ${e.g_step.dispatches.length} dispatches per discriminator + generator step, ${sizes}`,
    };
  }
  return {
    module,
    ir: () => printGraph(result.model!.graph),
    grad: () => printGraph(result.compiled!.steps.train),
    facts:
      `${s.kernels.length} kernels, ${result.compiled.spec.entries.train.dispatches.length} dispatches per training step, ` +
      `${sizes}, peak memory ${formatBytes(totalBufferBytes(module))}`,
  };
}

/** Every command by name; each lives in its own file but the foundation's check and compile. */
const COMMANDS: Readonly<Record<string, Command>> = {
  check: cmdCheck,
  compile: cmdCompile,
  train: trainCommand,
  evaluate: evaluateCommand,
  predict: predictCommand,
  summary: summaryCommand,
  graph: graphCommand,
  fmt: fmtCommand,
  devices: devicesCommand,
  export: exportCommand,
};

/** The version in the package.json above this file (dist/src/cli or src/cli). */
function packageVersion(): string {
  for (const up of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'nnx' && pkg.version) return pkg.version;
    } catch {
      // not this level: try the next one up
    }
  }
  return 'unknown';
}

/** `nnxc help train`: that command's usage, found by running it with --help. */
async function help(topic: string | undefined, io: Io): Promise<number> {
  const command = topic !== undefined && Object.hasOwn(COMMANDS, topic) ? COMMANDS[topic] : undefined;
  if (topic !== undefined && !command)
    throw new UsageError(`unknown command '${topic}'${suggestCommand(topic)}`);
  if (command) return command(['--help'], io);
  io.out(USAGE);
  return 0;
}

function suggestCommand(name: string): string {
  const c = closest(name, Object.keys(COMMANDS));
  return c ? `; did you mean '${c}'?` : '';
}

/** Each command's usage, for a usage error its own code raises (a value out of range). */
const USAGES: Readonly<Record<string, string>> = {
  check: CHECK_USAGE,
  compile: COMPILE_USAGE,
  train: TRAIN_USAGE,
  evaluate: EVALUATE_USAGE,
  predict: PREDICT_USAGE,
  summary: SUMMARY_USAGE,
  graph: GRAPH_USAGE,
  fmt: FMT_USAGE,
  devices: DEVICES_USAGE,
  export: EXPORT_USAGE,
};

/** Runs nnxc with `argv` (without node and script); resolves to the exit code. */
export async function run(argv: readonly string[], io: Io = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  const run = command !== undefined && Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  try {
    if (run) return await run(rest, io);
    if (command === undefined) {
      io.out(USAGE);
      return 2;
    }
    if (['help', '--help', '-h'].includes(command)) return await help(rest[0], io);
    if (command === '--version' || command === '-v') {
      io.out(`nnx ${packageVersion()}\n`);
      return 0;
    }
    throw new UsageError(`unknown command '${command}'${suggestCommand(command)}`);
  } catch (e) {
    if (e instanceof HelpRequest) {
      io.out(`usage:\n${e.usage}\n`);
      return 0;
    }
    if (e instanceof UsageError) {
      const usage = e.usage ?? (run && Object.hasOwn(USAGES, command!) ? USAGES[command!] : undefined);
      const more = usage ? `usage:\n${usage}\n(nnxc help lists every command)\n` : USAGE;
      io.err(`nnxc: ${e.message}\n\n${more}`);
      return 2;
    }
    // Everything else the user can act on (no adapter, a bad dataset, a failed device) is one line.
    io.err(`nnxc: error: ${(e as Error).message}\n`);
    if (process.env['NNX_DEBUG']) io.err(`${(e as Error).stack}\n`);
    return 1;
  }
}
