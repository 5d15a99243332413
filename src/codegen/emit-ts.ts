/**
 * Emits the TypeScript module a user imports: the model's spec (kernels as readable WGSL
 * template literals), the types of its inputs, targets and outputs by name with their
 * per-sample shapes, and a typed factory over the runtime. The text is laid out here (no
 * formatter at compile time), so the output is deterministic and reads like hand-written code.
 */
import {
  type EntryInput,
  type GanSpec,
  type ModelSpec,
  type TensorSlot,
  type WasmModuleSpec,
  type WasmUnavailable,
  isGanSpec,
} from '../runtime/spec.js';
import {
  type LiteralValue,
  filledNumbers,
  printLiteral,
  quoteString,
  templateLiteral,
} from './ts-literal.js';

/**
 * The wasm module as a literal: its bytes stay one base64 string (decoded at create), its byte
 * offsets filled many to a line.
 */
function wasmLiteral(wasm: WasmModuleSpec | WasmUnavailable): LiteralValue {
  if ('unsupported' in wasm) return { ...wasm };
  return {
    ...wasm,
    offsets: filledNumbers(wasm.offsets),
    ...(wasm.maddSites && { maddSites: filledNumbers(wasm.maddSites) }),
  };
}

/** The spec as a literal, each kernel's WGSL a template literal instead of a JSON string. */
function specLiteral(spec: ModelSpec | GanSpec): string {
  const data = {
    ...spec,
    kernels: spec.kernels.map((k) => ({ ...k, wgsl: templateLiteral(k.wgsl) })),
    ...(spec.wasm && { wasm: wasmLiteral(spec.wasm) }),
  } as unknown as LiteralValue;
  return printLiteral(data, 0, 'export const spec: ModelSpec = '.length);
}

type Slot = { readonly name: string; readonly shape: readonly number[] };

/** `[784]`: a slot's shape without the batch axis. */
function perSample(slot: Slot): string {
  return `[${slot.shape.slice(1).join(', ')}]`;
}

/** `x [784] → y [10] per sample`: an entry's inputs and outputs without the batch axis. */
function describeSlots(inputs: readonly Slot[], outputs: readonly Slot[]): string {
  const fmt = (s: Slot) => `${s.name} ${perSample(s)}`;
  return `${inputs.map(fmt).join(', ')} → ${outputs.map(fmt).join(', ')} per sample`;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Words a module cannot declare as a `const`, in JavaScript's strict mode or TypeScript. */
const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally ' +
    'for function if import in instanceof new null return super switch this throw true try typeof var void ' +
    'while with yield let static implements interface package private protected public await arguments eval ' +
    'undefined NaN Infinity'
  ).split(' '),
);

/** What the module itself declares or imports, which a model's names must not shadow. */
const MODULE_NAMES = new Set([
  'spec',
  'NnxModel',
  'NnxGan',
  'typedModel',
  'CreateModelOptions',
  'ModelSpec',
  'GanSpec',
  'TypedModel',
]);

/**
 * The identifier a model's module exports it under: its name, unless that is a reserved word or
 * it (or a type derived from it, `${name}Model`) would clash with the module's own names; then
 * the name with `_` appended. The spec keeps the model's real name.
 */
export function exportIdentifier(name: string): string {
  const derived = [name, ...['Inputs', 'Targets', 'Outputs', 'Model'].map((s) => name + s)];
  return RESERVED.has(name) || derived.some((n) => MODULE_NAMES.has(n)) ? `${name}_` : name;
}

/** One `readonly name: Float32Array;` member with its doc comment. */
function member(name: string, doc: string): string {
  const key = IDENTIFIER.test(name) ? name : quoteString(name);
  return `  /** ${doc} */\n  readonly ${key}: Float32Array;`;
}

/** An interface of Float32Arrays, one member per slot. */
function recordInterface(name: string, doc: string, members: readonly string[]): string {
  return `/** ${doc} */\nexport interface ${name} {\n${members.join('\n')}\n}\n`;
}

/** The output a target slot trains: `target/kind` → `kind`; `target` → the only output. */
function outputOfTarget(target: EntryInput, outputs: readonly TensorSlot[]): string {
  return target.name.startsWith('target/') ? target.name.slice('target/'.length) : (outputs[0]?.name ?? '');
}

/** The target slots of a model with the outputs they train, as the summary and docs name them. */
export function describeTargets(spec: ModelSpec): string {
  const outputs = spec.entries.predict.outputs;
  return spec.entries.train.inputs
    .filter((s) => s.role === 'target')
    .map((t) => `${t.name} ${perSample(t)} (for ${outputOfTarget(t, outputs)})`)
    .join(', ');
}

/** The typed part of a model's module: Inputs, Targets, Outputs and the model type. */
function modelTypes(spec: ModelSpec): { text: string; modelType: string; allOutputs: boolean } {
  const name = exportIdentifier(spec.name);
  const inputs = spec.entries.predict.inputs.filter((s) => s.role === 'input');
  const outputs = spec.entries.predict.outputs;
  const targets = spec.entries.train.inputs.filter((s) => s.role === 'target');
  const rows = 'one Float32Array each, `count` samples row-major';
  const inputsType = recordInterface(
    `${name}Inputs`,
    `The inputs of ${name} by name (${rows}).`,
    inputs.map((s) => member(s.name, `\`${s.name}\`: ${perSample(s)} per sample.`)),
  );
  const targetsType = recordInterface(
    `${name}Targets`,
    `The training targets of ${name} by name, as \`fit\` and \`evaluate\` take them.`,
    targets.map((s) =>
      member(
        s.name,
        `\`${s.name}\`: ${perSample(s)} per sample, the target of output \`${outputOfTarget(s, outputs)}\`.`,
      ),
    ),
  );
  const outputsType = recordInterface(
    `${name}Outputs`,
    `The outputs of ${name} by name, as \`predict\` returns them${outputs.length > 1 ? '' : ' (one: a Float32Array)'}.`,
    outputs.map((s) => member(s.name, `\`${s.name}\`: ${perSample(s)} per sample.`)),
  );
  const allOutputs = outputs.length > 1;
  const prediction = allOutputs ? `${name}Outputs` : 'Float32Array';
  const bare = inputs.length === 1 ? ['Float32Array'] : [];
  const modelType = `${name}Model`;
  const predicts = allOutputs ? 'every output by name' : `\`${outputs[0]?.name}\``;
  const text =
    `${inputsType}\n${targetsType}\n${outputsType}\n` +
    `/** ${name} on WebGPU or the wasm CPU backend: \`predict\` returns ${predicts}. */\n` +
    `export type ${modelType} = ${typeApplication('TypedModel', [`${name}Inputs`, `${name}Targets`, prediction, ...bare])};\n`;
  return { text, modelType, allOutputs };
}

/** `Name<A, B>` on one line when `export type X = ` plus it fits in 110 columns, else one argument a line. */
function typeApplication(name: string, args: readonly string[]): string {
  const flat = `${name}<${args.join(', ')}>`;
  if (flat.length + 30 <= 110) return flat;
  return `${name}<\n${args
    .map((a) => `  ${a},`)
    .join('\n')
    .replace(/,$/, '')}\n>`;
}

/** A source path made safe for a `//` comment (no line breaks can end it early). */
function commentSafe(path: string): string {
  return JSON.stringify(path).slice(1, -1);
}

/** The line of the factory's doc that says why a spec has no runnable wasm module, if it has none. */
function wasmNote(spec: ModelSpec | GanSpec): string {
  if (spec.wasm === undefined)
    return '\n   * This module has no wasm module: it was compiled with --target webgpu.';
  if ('unsupported' in spec.wasm)
    return `\n   * It cannot run on wasm: ${commentSafe(spec.wasm.unsupported).replace(/\*\//g, '* /')}.`;
  return '';
}

/** The generated module's source text. `source` is the .nnx path it came from, for the header. */
export async function codegenModule(spec: ModelSpec | GanSpec, source: string): Promise<string> {
  const header = `// Generated by nnxc from ${commentSafe(source)}. Do not edit: change the .nnx file and compile again.\n`;
  return isGanSpec(spec) ? header + ganModule(spec) : header + modelModule(spec);
}

function modelModule(spec: ModelSpec): string {
  const name = exportIdentifier(spec.name);
  const types = modelTypes(spec);
  const io = describeSlots(
    spec.entries.predict.inputs.filter((s) => s.role === 'input'),
    spec.entries.predict.outputs,
  );
  return `import { NnxModel, typedModel, type CreateModelOptions, type ModelSpec, type TypedModel } from 'nnx/runtime';

/** The compiled form of ${name}: ${spec.kernels.length} kernels, ${spec.buffers.length} buffers. */
export const spec: ModelSpec = ${specLiteral(spec)};

${types.text}
/**
 * ${name}: ${io}.
 * Targets: ${describeTargets(spec)}.
 */
export const ${name} = {
  spec,
  /**
   * Creates the model and initialises the parameters from \`options.seed\`. \`options.backend\`:
   * \`auto\` (the default) runs on a hardware GPU through WebGPU, else on the CPU through wasm;
   * \`webgpu\` or \`wasm\` asks for one, and \`options.threads\` is how many threads wasm runs on.${wasmNote(spec)}
   */
  create: async (options?: CreateModelOptions): Promise<${types.modelType}> =>
    typedModel<${types.modelType}>(await NnxModel.create(spec, options), ${types.allOutputs}),
};

export default ${name};
`;
}

function ganModule(spec: GanSpec): string {
  const name = exportIdentifier(spec.name);
  const generate = describeSlots(spec.entries.generate.inputs, spec.entries.generate.outputs);
  return `import { NnxGan, type CreateModelOptions, type GanSpec } from 'nnx/runtime';

/** The compiled form of the GAN ${name}: ${spec.kernels.length} kernels, ${spec.buffers.length} buffers. */
export const spec: GanSpec = ${specLiteral(spec)};

/** ${name}: ${spec.generator} (${generate}) trained against ${spec.discriminator}. */
export const ${name} = {
  spec,
  /**
   * Creates both models and initialises the parameters from \`options.seed\`, on the backend
   * \`options.backend\` names (\`auto\` by default: WebGPU on a hardware GPU, else wasm).${wasmNote(spec)}
   */
  create: (options?: CreateModelOptions): Promise<NnxGan> => NnxGan.create(spec, options),
};

export default ${name};
`;
}
