/**
 * The compiler as a library: source text in, diagnostics and a compiled model out. Each stage
 * of the pipeline is called in order here; nothing is hidden in a god object.
 */
import { readFileSync } from 'node:fs';
import { codegenModule } from './codegen/emit-ts.js';
import { type CompiledModel, compileModel } from './codegen/spec.js';
import { type ModelIR, lowerModelDefinition } from './ir/build/lower.js';
import type { Scope } from './ir/build/scope.js';
import { bindModelDims, checkTrainAgainstModel } from './ir/build/dims.js';
import { checkFreeze, freezeLayers } from './ir/build/freeze.js';
import {
  applySettings,
  commandLineSource,
  COMMAND_LINE,
  placeCommandLineDiagnostics,
} from './ir/build/settings.js';
import { type TrainConfig, bindTrain } from './ir/build/train.js';
import { type ReadFile, buildScopes, loadProgram } from './imports.js';
import type { Definition, Program } from './parser/ast.js';
import { type Diagnostic, type SourceFile, error, hasErrors } from './util/diagnostics.js';
import { didYouMean } from './util/suggest.js';

export interface CheckedProgram {
  readonly program?: Program;
  readonly models: ReadonlyMap<string, ModelIR>;
  readonly trains: readonly TrainConfig[];
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
}

const readFromDisk: ReadFile = (path) => readFileSync(path, 'utf8');

/**
 * Parse (with imports), lower every model of the file, bind every train block: all diagnostics,
 * nothing generated. Warnings do not stop a model from being lowered.
 */
export function check(text: string, options: SourceOptions = {}): CheckedProgram {
  const loaded = loadProgram(options.path ?? 'main.nnx', text, options.readFile ?? readFromDisk);
  const diagnostics: Diagnostic[] = [...loaded.diagnostics];
  const models = new Map<string, ModelIR>();
  const trains: TrainConfig[] = [];
  const program = loaded.main.program;
  const sources = new Map(loaded.sources);
  if (options.settings?.length) sources.set(COMMAND_LINE, commandLineSource(options.settings));
  const result = () => ({ program, models, trains, diagnostics: dedupe(diagnostics), sources });
  if (!program || diagnostics.some((d) => d.severity === 'error' && d.file !== undefined)) return result();
  if (diagnostics.some((d) => d.code === 'E0401' || d.code === 'E0402')) return result();
  const usable = cleanDefinitions(program, text, diagnostics);
  const scope = buildScopes(loaded, diagnostics).get(undefined)!;
  const defined = definitionsOnce(program, diagnostics);
  for (const def of defined.values()) {
    if (def.kind === 'block' || !usable.has(def)) continue;
    const model = lowerModelDefinition({ def, file: undefined, scope }, diagnostics);
    if (model) models.set(model.name, model);
  }
  for (const def of program.definitions) {
    if (def.kind !== 'train' || !usable.has(def)) continue;
    const target = defined.get(def.model.name) ?? scope.get(def.model.name)?.def;
    if (target === undefined || target.kind === 'block') {
      diagnostics.push(noModelToTrain(def.model.name, def.model.span, scope, target?.kind === 'block'));
      continue;
    }
    if (!usable.has(target as Definition)) continue;
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
      checkFreeze(model, config.freeze, diagnostics);
    }
    placeCommandLineDiagnostics(diagnostics, before);
    if (config && !hasErrors(diagnostics.slice(before))) trains.push(config);
  }
  return result();
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
    .map((d) => (d.kind === 'train' ? d.model.name : d.name.name));
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

/** Compiles the model a train block names into its kernels, buffer plan and entry points. */
export function compile(text: string, options: CompileOptions = {}): CompileResult {
  const checked = check(text, options);
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
    compiled: compileModel(model, config),
    diagnostics,
    sources: checked.sources,
  };
}

export { codegenModule };
