/**
 * The compiler as a library: source text in, diagnostics and a compiled model out. Each stage
 * of the pipeline is called in order here; nothing is hidden in a god object.
 */
import { codegenModule } from './codegen/emit-ts.js';
import { type CompiledModel, compileModel } from './codegen/spec.js';
import { type ModelIR, lowerModel, lowerSequential } from './ir/build/lower.js';
import { type TrainConfig, bindTrain } from './ir/build/train.js';
import { parse } from './parser/index.js';
import type { Program } from './parser/ast.js';
import { type Diagnostic, error, hasErrors } from './util/diagnostics.js';
import { didYouMean } from './util/suggest.js';

export interface CheckedProgram {
  readonly program?: Program;
  readonly models: ReadonlyMap<string, ModelIR>;
  readonly trains: readonly TrainConfig[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Settings that override a train block (from the command line). */
export interface TrainOverrides {
  readonly epochs?: number;
  readonly batch?: number;
  readonly lr?: number;
}

/** Parse, lower every model, bind every train block: all diagnostics, nothing generated. */
export function check(text: string): CheckedProgram {
  const parsed = parse(text);
  const diagnostics: Diagnostic[] = [...parsed.diagnostics];
  const models = new Map<string, ModelIR>();
  const trains: TrainConfig[] = [];
  const program = parsed.result;
  if (!program || hasErrors(diagnostics)) return { program, models, trains, diagnostics };
  const defined = new Map<string, Program['definitions'][number]>();
  for (const def of program.definitions) {
    if (def.kind === 'train') continue;
    const prior = defined.get(def.name.name);
    if (prior && prior.kind !== 'train') {
      diagnostics.push(
        error('E0102', def.name.span, `\`${def.name.name}\` is defined twice`, [
          { span: prior.name.span, message: 'first defined here' },
        ]),
      );
      continue;
    }
    defined.set(def.name.name, def);
    const model =
      def.kind === 'sequential' ? lowerSequential(def, diagnostics) : lowerModel(def, diagnostics);
    if (model) models.set(model.name, model);
  }
  for (const def of program.definitions) {
    if (def.kind !== 'train') continue;
    if (!defined.has(def.model.name)) {
      diagnostics.push(
        error(
          'E0101',
          def.model.span,
          `no model named \`${def.model.name}\` to train${didYouMean(def.model.name, defined.keys())}`,
        ),
      );
      continue;
    }
    const config = bindTrain(def, diagnostics);
    if (config) trains.push(config);
  }
  return { program, models, trains, diagnostics };
}

export interface CompileOptions {
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
  const checked = check(text);
  const diagnostics = [...checked.diagnostics];
  if (hasErrors(diagnostics)) return { checked, diagnostics };
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
    return { checked, diagnostics };
  }
  const model = checked.models.get(train.model)!;
  const config = applyOverrides(train, options.overrides);
  return { checked, model, train: config, compiled: compileModel(model, config), diagnostics };
}

export { codegenModule };
