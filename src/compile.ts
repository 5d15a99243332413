/**
 * The compiler as a library: source text in, diagnostics and a compiled model out. Each stage
 * of the pipeline is called in order here; nothing is hidden in a god object.
 */
import { readFileSync } from 'node:fs';
import { codegenModule } from './codegen/emit-ts.js';
import { type CompiledModel, compileModel } from './codegen/spec.js';
import { type ModelIR, lowerModelDefinition } from './lower/lower.js';
import type { Scope } from './lower/scope.js';
import { checkAugmentAgainstModel } from './bind/augment.js';
import { bindModelDims, checkTrainAgainstModel } from './bind/dims.js';
import { checkFreeze, freezeLayers } from './bind/freeze.js';
import {
  applySettings,
  commandLineSource,
  COMMAND_LINE,
  placeCommandLineDiagnostics,
} from './bind/settings.js';
import { type TrainConfig, bindTrain } from './bind/train.js';
import { type ReadFile, buildScopes, loadProgram } from './imports.js';
import type { Definition, GanDef, Program } from './parser/ast.js';
import {
  type Diagnostic,
  type RelatedNote,
  type SourceFile,
  error,
  hasErrors,
  warning,
} from './util/diagnostics.js';
import { type GanConfig, bindGan, checkGanModels, fieldSpan } from './bind/gan.js';
import { type CompiledGan, compileGan as compileGanModels } from './codegen/gan-spec.js';
import { type Locate, locateIn } from './codegen/origin.js';
import { didYouMean } from './util/suggest.js';
import type { AdapterProfile } from './codegen/adapter.js';
import { namedDatasetShape } from './data/named-shapes.js';
import { type ModelDataSlots, checkSamplesFit } from './data/prepare.js';
import { DatasetError } from './data/errors.js';
import { SPARSE_LOSSES, targetShape } from './ir/train/losses.js';

export interface CheckedProgram {
  readonly program?: Program;
  readonly models: ReadonlyMap<string, ModelIR>;
  readonly trains: readonly TrainConfig[];
  /** The file's checked `gan` blocks, whose models are in `models`. */
  readonly gans: readonly GanConfig[];
  readonly diagnostics: readonly Diagnostic[];
  /** Imported files by path, to render diagnostics that point into them. */
  readonly sources: ReadonlyMap<string, SourceFile>;
}

/** Settings that override a train block (from the command line). */
export interface TrainOverrides {
  readonly epochs?: number;
  readonly batch?: number;
  readonly lr?: number;
}

/** Where the text came from, and how to read the files it imports. */
export interface SourceOptions {
  /** The file's path; imports resolve relative to it. `main.nnx` (in the working directory) by default. */
  readonly path?: string;
  /** Reads an imported file; the file system by default. */
  readonly readFile?: ReadFile;
  /** `--set` settings (`optimizer.lr=0.01`) applied to every train block. */
  readonly settings?: readonly string[];
  /**
   * Check each train block's named dataset (`mnist`, `xor`) against its model's input and
   * output shapes, as `nnxc check` and `nnxc train` do. Off by default: a module trained by its
   * own `fit()` often names `data: xor` as a placeholder it never loads.
   */
  readonly fitNamedDatasets?: boolean;
}

const readFromDisk: ReadFile = (path) => readFileSync(path, 'utf8');

/**
 * Parse (with imports), lower every model of the file, bind every train block: all diagnostics,
 * nothing generated. Warnings do not stop a model from being lowered.
 */
export function check(text: string, options: SourceOptions = {}): CheckedProgram {
  const binary = binaryInput(text);
  if (binary) {
    const path = options.path ?? 'main.nnx';
    const empty = { program: undefined, models: new Map(), trains: [], gans: [] };
    return { ...empty, diagnostics: [binary], sources: new Map([[path, { path, text }]]) };
  }
  const loaded = loadProgram(options.path ?? 'main.nnx', text, options.readFile ?? readFromDisk);
  const diagnostics: Diagnostic[] = [...loaded.diagnostics];
  const models = new Map<string, ModelIR>();
  const trains: TrainConfig[] = [];
  const gans: GanConfig[] = [];
  const program = loaded.main.program;
  const sources = new Map(loaded.sources);
  if (options.settings?.length) sources.set(COMMAND_LINE, commandLineSource(options.settings));
  const result = () => ({ program, models, trains, gans, diagnostics: dedupe(diagnostics), sources });
  if (!program || diagnostics.some((d) => d.severity === 'error' && d.file !== undefined)) return result();
  if (diagnostics.some((d) => d.code === 'E0401' || d.code === 'E0402')) return result();
  if (program.definitions.length === 0 && !hasErrors(diagnostics))
    diagnostics.push(
      warning(
        'W0103',
        { start: 0, end: 0 },
        text.trim() === '' ? 'the file is empty' : 'the file defines nothing',
        [{ message: 'a file holds models (`sequential`, `model`), `block`s, and `train` or `gan` blocks' }],
      ),
    );
  const usable = cleanDefinitions(program, text, diagnostics);
  const scope = buildScopes(loaded, diagnostics).get(undefined)!;
  const defined = definitionsOnce(program, diagnostics);
  for (const def of defined.values()) {
    if (def.kind === 'block' || def.kind === 'gan' || !usable.has(def)) continue;
    const model = lowerModelDefinition({ def, file: undefined, scope }, diagnostics);
    if (model) models.set(model.name, model);
  }
  for (const def of program.definitions) {
    if (def.kind !== 'train' || !usable.has(def)) continue;
    const target = defined.get(def.model.name) ?? scope.get(def.model.name)?.def;
    if (target === undefined || target.kind === 'block' || target.kind === 'gan') {
      diagnostics.push(noModelToTrain(def.model.name, def.model.span, scope, target?.kind === 'block'));
      continue;
    }
    // Only this file's definitions can be broken by its syntax errors; imported ones are whole.
    if (defined.has(def.model.name) && !usable.has(target as Definition)) continue;
    if (!defined.has(def.model.name)) {
      const model = lowerModelDefinition(scope.get(def.model.name)!, diagnostics);
      if (model) models.set(model.name, model);
    }
    const before = diagnostics.length;
    const settled = options.settings?.length ? applySettings(def, options.settings, diagnostics) : def;
    const config = bindTrain(settled, diagnostics);
    const model = models.get(def.model.name);
    if (config && model) {
      checkTrainAgainstModel(model, config, settled, diagnostics);
      checkAugmentAgainstModel(model, config.augment, diagnostics);
      checkFreeze(model, config.freeze, diagnostics);
      if (options.fitNamedDatasets) checkNamedDatasetFits(model, config, diagnostics);
    }
    placeCommandLineDiagnostics(diagnostics, before);
    if (config && !hasErrors(diagnostics.slice(before))) trains.push(config);
  }
  for (const def of program.definitions) {
    if (def.kind !== 'gan' || !usable.has(def)) continue;
    const gan = checkGan(def, { defined, scope, models, usable }, options.settings, diagnostics);
    if (gan) gans.push(gan);
  }
  return result();
}

/**
 * A named dataset (`mnist`, `xor`) has a known sample shape, so a model it cannot feed (a Dense
 * on an un-flattened map trained with a per-sample loss: targets `[13, 13]` for labels `[]`)
 * is the error training would give, at `data:`, found by check; a note points at the output.
 */
function checkNamedDatasetFits(model: ModelIR, config: TrainConfig, diagnostics: Diagnostic[]): void {
  const named = namedDatasetShape(config.data);
  if (named === undefined) return;
  const perSample = (shape: readonly (number | string)[]) => {
    const dims = shape.slice(1).map((d) => (typeof d === 'number' ? d : config.dims.get(d)));
    return dims.every((d) => d !== undefined) ? (dims as number[]) : undefined;
  };
  const output = model.outputs[0];
  const inputs = model.inputs.map((i) => ({ name: i.name, shape: perSample(i.shape) }));
  if (model.outputs.length !== 1 || output === undefined || inputs.length === 0) return;
  const loss = config.outputLosses.find((o) => o.output === output.name)?.loss ?? config.loss;
  const target = perSample(targetShape(loss, output.shape));
  if (target === undefined || inputs.some((i) => i.shape === undefined)) return;
  const slots: ModelDataSlots = {
    model: model.name,
    input: inputs[0]! as { name: string; shape: number[] },
    inputs: inputs as { name: string; shape: number[] }[],
    target: { name: model.outputs.length === 1 ? 'target' : `target/${output.name}`, shape: target },
    targets: SPARSE_LOSSES.has(loss) ? 'sparse' : 'dense',
  };
  try {
    checkSamplesFit(named.featureShape, named.classes, slots, config.data);
  } catch (e) {
    if (!(e instanceof DatasetError)) throw e;
    const span = model.graph.nodes[output.node]?.span;
    // Only a target misfit is the output's doing; an input misfit is the input's shape, at the error.
    const notes =
      span && e.message.includes("the model's output")
        ? [
            {
              span,
              message: `the output \`${output.name}\` has shape [${output.shape.slice(1).join(', ')}] per sample`,
            },
          ]
        : [];
    diagnostics.push(error('E0301', config.dataset.span, e.message, notes));
  }
}

/**
 * A NUL byte, or several undecodable bytes, mean the file is not source text: one diagnostic
 * says so, rather than thousands of unexpected characters.
 */
function binaryInput(text: string): Diagnostic | undefined {
  const nul = text.indexOf('\0');
  const replaced = text.split('\uFFFD').length - 1;
  if (nul < 0 && replaced < 8) return undefined;
  const at = nul >= 0 ? nul : text.indexOf('\uFFFD');
  return error('E0001', { start: at, end: at + 1 }, 'this is a binary file, not .nnx source text', [
    { message: nul >= 0 ? 'it holds a NUL byte' : `it holds ${replaced} bytes that are not UTF-8` },
  ]);
}

/** What checking a gan block needs to find its models. */
interface ProgramModels {
  readonly defined: ReadonlyMap<string, Exclude<Definition, { kind: 'train' }>>;
  readonly scope: Scope;
  readonly models: Map<string, ModelIR>;
  readonly usable: ReadonlySet<Definition>;
}

/** Binds a gan block and checks its two models against each other; undefined after an error. */
function checkGan(
  block: GanDef,
  program: ProgramModels,
  settings: readonly string[] | undefined,
  diagnostics: Diagnostic[],
): GanConfig | undefined {
  const before = diagnostics.length;
  const def = settings?.length ? applySettings(block, settings, diagnostics) : block;
  const config = bindGan(def, diagnostics);
  placeCommandLineDiagnostics(diagnostics, before);
  if (!config) return undefined;
  const generator = ganModel(def, 'generator', config.generator, program, diagnostics);
  const discriminator = ganModel(def, 'discriminator', config.discriminator, program, diagnostics);
  if (!generator || !discriminator) return undefined;
  const noteAt = (name: string, part: 'definition' | 'input'): RelatedNote | undefined => {
    const local = program.defined.get(name);
    const site = local ? { def: local, file: undefined } : program.scope.get(name);
    if (!site || site.def.kind === 'gan') return undefined;
    const input = part === 'input' && 'inputs' in site.def ? site.def.inputs[0] : undefined;
    return {
      span: input?.span ?? site.def.name.span,
      ...(site.file !== undefined && { file: site.file }),
      message: input ? `\`${name}\` declares its input here` : `\`${name}\` is defined here`,
    };
  };
  if (!checkGanModels(def, { generator, discriminator }, diagnostics, noteAt)) return undefined;
  return config;
}

/** The lowered model a gan block names for `role`; undefined (with a diagnostic) when there is none. */
function ganModel(
  def: GanDef,
  role: 'generator' | 'discriminator',
  name: string,
  program: ProgramModels,
  diagnostics: Diagnostic[],
): ModelIR | undefined {
  const { defined, scope, models, usable } = program;
  const target = defined.get(name) ?? scope.get(name)?.def;
  if (target === undefined || target.kind === 'block' || target.kind === 'gan') {
    const known = [...scope].filter(([, site]) => site.def.kind !== 'block').map(([k]) => k);
    const message =
      target === undefined
        ? `no model named \`${name}\` to be the ${role} of gan ${def.name.name}${didYouMean(name, known)}`
        : `the ${role} of gan ${def.name.name} must be a model, and \`${name}\` is a ${target.kind}`;
    diagnostics.push(error('E0101', fieldSpan(def, role), message));
    return undefined;
  }
  if (defined.has(name) && !usable.has(target as Definition)) return undefined;
  if (!models.has(name) && !defined.has(name)) {
    const model = lowerModelDefinition(scope.get(name)!, diagnostics);
    if (model) models.set(name, model);
  }
  return models.get(name);
}

/**
 * The definitions worth checking despite syntax errors elsewhere in the file: those with no
 * syntax error inside them that mention no broken definition by name. Lowering a partial
 * definition would only add the syntax error's fallout to the report.
 */
function cleanDefinitions(
  program: Program,
  text: string,
  diagnostics: readonly Diagnostic[],
): Set<Definition> {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const broken = (def: Definition) =>
    errors.some((d) => d.span.start >= def.span.start && d.span.start <= def.span.end);
  const brokenNames = program.definitions
    .filter(broken)
    .flatMap((d) => (d.kind === 'train' ? [d.model.name] : d.kind === 'gan' ? [] : [d.name.name]));
  const mentionsBroken = (def: Definition) => {
    const body = text.slice(def.span.start, def.span.end);
    return brokenNames.some((name) => new RegExp(`\\b${name}\\b`).test(body));
  };
  return new Set(program.definitions.filter((def) => !broken(def) && !mentionsBroken(def)));
}

/** The file's own blocks and models by name; a name defined twice is an error at the second. */
function definitionsOnce(
  program: Program,
  diagnostics: Diagnostic[],
): Map<string, Exclude<Definition, { kind: 'train' }>> {
  const defined = new Map<string, Exclude<Definition, { kind: 'train' }>>();
  for (const def of program.definitions) {
    if (def.kind === 'train') continue;
    const prior = defined.get(def.name.name);
    if (prior) {
      diagnostics.push(
        error('E0102', def.name.span, `\`${def.name.name}\` is defined twice`, [
          { span: prior.name.span, message: 'first defined here' },
        ]),
      );
      continue;
    }
    defined.set(def.name.name, def);
  }
  return defined;
}

function noModelToTrain(name: string, span: Diagnostic['span'], scope: Scope, isBlock: boolean): Diagnostic {
  if (isBlock) return error('E0105', span, `\`${name}\` is a block, not a model: train a model that uses it`);
  const models = [...scope].filter(([, site]) => site.def.kind !== 'block').map(([k]) => k);
  return error('E0101', span, `no model named \`${name}\` to train${didYouMean(name, models)}`);
}

/**
 * One diagnostic per message and place: a block instantiated twice would otherwise report its
 * unused names (and its own errors) once per instance.
 */
function dedupe(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.file ?? ''}:${d.span.start}:${d.span.end}:${d.code}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export interface CompileOptions extends SourceOptions {
  /** Which model to compile when the file trains several; the first train block by default. */
  readonly model?: string;
  readonly overrides?: TrainOverrides;
  /** The adapter the plan is made for (how long reductions are split); lavapipe by default. */
  readonly adapter?: AdapterProfile;
  /** Also build the wasm module of the CPU backend (`spec.wasm`). */
  readonly wasm?: boolean;
  /** False keeps a small entry's kernels apart instead of one whole-step kernel (src/codegen/whole-step.ts). */
  readonly wholeStep?: boolean;
}

export interface CompileResult {
  readonly checked: CheckedProgram;
  readonly model?: ModelIR;
  readonly train?: TrainConfig;
  readonly compiled?: CompiledModel;
  readonly diagnostics: readonly Diagnostic[];
  /** Imported files (and the command line) by path, to render diagnostics that point into them. */
  readonly sources: ReadonlyMap<string, SourceFile>;
}

function applyOverrides(t: TrainConfig, o: TrainOverrides | undefined): TrainConfig {
  if (!o) return t;
  return {
    ...t,
    epochs: o.epochs ?? t.epochs,
    batch: o.batch ?? t.batch,
    optimizer: o.lr === undefined ? t.optimizer : { ...t.optimizer, lr: o.lr },
  };
}

/** Lines of the compiled file and of its imports, for the layers each kernel names. */
function locateSources(text: string, options: SourceOptions, checked: CheckedProgram): Locate {
  return locateIn({ path: options.path ?? 'main.nnx', text }, checked.sources);
}

/** Compiles the model a train block names into its kernels, buffer plan and entry points. */
export function compile(text: string, options: CompileOptions = {}): CompileResult {
  return compileTrainBlock(text, options, check(text, options));
}

function compileTrainBlock(text: string, options: CompileOptions, checked: CheckedProgram): CompileResult {
  const diagnostics = [...checked.diagnostics];
  if (hasErrors(diagnostics)) return { checked, diagnostics, sources: checked.sources };
  const train = options.model ? checked.trains.find((t) => t.model === options.model) : checked.trains[0];
  if (!train) {
    const span = checked.program?.span ?? { start: 0, end: 0 };
    const which = options.model ? `model \`${options.model}\`` : 'any model';
    diagnostics.push(
      error(
        'E0302',
        { start: span.start, end: span.start },
        `there is no train block for ${which}; add one, e.g. \`train Name { data: xor, loss: mse }\``,
      ),
    );
    return { checked, diagnostics, sources: checked.sources };
  }
  const model = freezeLayers(
    bindModelDims(checked.models.get(train.model)!, train.dims),
    train.freeze.map((f) => f.path),
  );
  const config = applyOverrides(train, options.overrides);
  return {
    checked,
    model,
    train: config,
    compiled: compileModel(model, config, {
      adapter: options.adapter,
      locate: locateSources(text, options, checked),
      wasm: options.wasm,
      wholeStep: options.wholeStep,
    }),
    diagnostics,
    sources: checked.sources,
  };
}

export { codegenModule };

export interface GanCompileResult {
  readonly checked: CheckedProgram;
  readonly gan?: GanConfig;
  /** The two models' forward graphs, as lowered (what `--emit ir` prints). */
  readonly generator?: ModelIR;
  readonly discriminator?: ModelIR;
  readonly compiled?: CompiledGan;
  readonly diagnostics: readonly Diagnostic[];
  readonly sources: ReadonlyMap<string, SourceFile>;
}

/** The gan block with both optimizers' learning rates, epochs and batch replaced by the overrides. */
function applyGanOverrides(g: GanConfig, o: TrainOverrides | undefined): GanConfig {
  if (!o) return g;
  const lr = <T extends { lr: number }>(opt: T): T => (o.lr === undefined ? opt : { ...opt, lr: o.lr });
  return {
    ...g,
    epochs: o.epochs ?? g.epochs,
    batch: o.batch ?? g.batch,
    discriminatorOptimizer: lr(g.discriminatorOptimizer),
    generatorOptimizer: lr(g.generatorOptimizer),
  };
}

/** Compiles the file's gan block (the one named `options.model`, or the first) into one module. */
export function compileGan(text: string, options: CompileOptions = {}): GanCompileResult {
  return compileGanBlock(text, options, check(text, options));
}

function compileGanBlock(text: string, options: CompileOptions, checked: CheckedProgram): GanCompileResult {
  const diagnostics = [...checked.diagnostics];
  if (hasErrors(diagnostics)) return { checked, diagnostics, sources: checked.sources };
  const found = options.model ? checked.gans.find((g) => g.name === options.model) : checked.gans[0];
  if (!found) {
    const span = checked.program?.span ?? { start: 0, end: 0 };
    const which = options.model ? ` named \`${options.model}\`` : '';
    diagnostics.push(
      error('E0302', { start: span.start, end: span.start }, `there is no gan block${which} to compile`),
    );
    return { checked, diagnostics, sources: checked.sources };
  }
  const gan = applyGanOverrides(found, options.overrides);
  const generator = checked.models.get(gan.generator)!;
  const discriminator = checked.models.get(gan.discriminator)!;
  const compiled = compileGanModels(generator, discriminator, gan, {
    adapter: options.adapter,
    locate: locateSources(text, options, checked),
    wasm: options.wasm,
    wholeStep: options.wholeStep,
  });
  return { checked, gan, generator, discriminator, compiled, diagnostics, sources: checked.sources };
}

/** What {@link compileModule} made: a train block's model, or a gan block's pair. */
export type ModuleCompileResult =
  ({ readonly kind: 'model' } & CompileResult) | ({ readonly kind: 'gan' } & GanCompileResult);

/**
 * Whether a checked file's module is a GAN: it has a gan block and no train block (a file
 * with both trains its train block's model).
 */
export function isGanProgram(program: Program | undefined): boolean {
  const definitions = program?.definitions ?? [];
  return definitions.some((d) => d.kind === 'gan') && !definitions.some((d) => d.kind === 'train');
}

/**
 * Compiles the file's module, whichever kind its blocks make it: the model of a train block
 * ({@link compile}) or, in a file with gan blocks and no train block, a gan ({@link compileGan}).
 */
export function compileModule(text: string, options: CompileOptions = {}): ModuleCompileResult {
  const checked = check(text, options);
  return isGanProgram(checked.program)
    ? { kind: 'gan', ...compileGanBlock(text, options, checked) }
    : { kind: 'model', ...compileTrainBlock(text, options, checked) };
}
