/**
 * `nnxc summary FILE`: a Keras-style table of the model a train block names (or of both models
 * of a gan block) — each layer call with its output shape, parameter count and the calls it
 * shares weights with — then the totals and what the compiler made of it: kernels, dispatches
 * per step, GPU memory.
 */
import { compile, compileGan } from '../compile.js';
import type { ModelIR } from '../lower/lower.js';
import { type LayerGraph, layerGraph } from '../ir/layer-graph.js';
import type { GanSpec, ModelSpec } from '../runtime/index.js';
import { type Io, formatBytes, readSource, report } from './io.js';
import { trainsGan } from './train-gan.js';
import { describeTargets } from '../codegen/emit-ts.js';
import { parseCommandArgs } from './args.js';

/** The usage line of `nnxc summary`. */
export const SUMMARY_USAGE = `  nnxc summary FILE [--model NAME] [--set FIELD=VALUE]...
                                       a table of the layers: output shape, parameters, sharing
                                       (both models of a gan block)`;

const formatShape = (shape: readonly (number | string)[]) => `[${shape.join(', ')}]`;
const formatCount = (n: number) => n.toLocaleString('en-US');

/** The most ops a row names: a whole attention layer's list would make the table 200 columns wide. */
const MAX_OPS_SHOWN = 6;

/** The distinct ops of a call in order of first use, cut to {@link MAX_OPS_SHOWN} with `…`. */
function opsText(ops: readonly string[]): string {
  const distinct = [...new Set(ops)];
  const shown = distinct.slice(0, MAX_OPS_SHOWN);
  return `(${shown.join(', ')}${distinct.length > shown.length ? ', …' : ''})`;
}

function callTitle(graph: LayerGraph, index: number): string {
  const call = graph.calls[index]!;
  const sameName = graph.calls.filter((c) => c.name === call.name && c.kind === call.kind);
  const ordinal = sameName.length > 1 ? ` #${sameName.indexOf(call) + 1}` : '';
  switch (call.kind) {
    case 'input':
      return `${call.name} (input)`;
    case 'output':
      return `${call.name} (output)`;
    case 'op':
      return opsText(call.ops);
    case 'layer':
      return `${call.name}${ordinal}`;
  }
}

/** The type column: the layer as written (`Dense`), `Input`, or `op` for arithmetic on tensors. */
function callType(call: LayerGraph['calls'][number]): string {
  if (call.kind === 'input') return 'Input';
  return call.kind === 'op' ? 'op' : (call.type ?? '');
}

/** The column of parameter counts, right-aligned. */
const PARAMS_COLUMN = 3;

/** Renders rows as columns padded to their widest cell, with a rule under the header. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === PARAMS_COLUMN ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  const rule = '─'.repeat(widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1));
  return [rule, line(header), rule, ...rows.map(line), rule];
}

/**
 * A model's table and parameter totals; `trainableParams` counts the values the optimizer
 * updates, the rest (frozen layers, running statistics, Normalization's) are non-trainable.
 */
function modelLines(graph: LayerGraph, trainableParams: number): string[] {
  const rows: string[][] = [];
  const passThrough = (after: number) =>
    graph.passThrough
      .filter((p) => p.after === after)
      .map((p) => [p.name, p.type, formatShape(p.shape), '0', '', '()']);
  rows.push(...passThrough(-1));
  for (const call of graph.calls) {
    if (call.kind === 'output') continue;
    rows.push([
      callTitle(graph, call.index),
      callType(call),
      formatShape(call.shape),
      formatCount(call.params),
      call.sharedWith.map((other) => callTitle(graph, other)).join(', '),
      call.kind === 'layer' ? opsText(call.ops) : '',
    ]);
    // Dropout and other layers that are the identity at inference, where Keras lists them.
    rows.push(...passThrough(call.index));
  }
  return [
    `Model: ${graph.name}`,
    ...table(['Layer', 'Type', 'Output shape', 'Params', 'Shared with', 'Ops'], rows),
    `Total params: ${formatCount(graph.totalParams)} (${formatBytes(graph.totalParams * 4)})`,
    `Trainable params: ${formatCount(trainableParams)}`,
    `Non-trainable params: ${formatCount(graph.totalParams - trainableParams)}`,
  ];
}

/** What a compiled spec holds besides parameters, and the GPU memory of its static plan. */
function memoryLines(spec: ModelSpec | GanSpec): { state: string; peak: string } {
  const stateBytes = spec.state.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
  const totalBytes = spec.buffers.reduce((n, b) => n + b.bytes, 0);
  return {
    state: `Optimizer state: ${formatBytes(stateBytes)}`,
    peak:
      `Peak GPU memory: ${formatBytes(totalBytes)} in ${spec.buffers.length} buffers (the plan is static: ` +
      `parameters, optimizer state, and activations and temporaries sharing buffers by liveness)`,
  };
}

/** The summary text of a model's layer graph and its compiled spec. */
export function summaryText(graph: LayerGraph, spec: ModelSpec, trainableParams = graph.totalParams): string {
  const memory = memoryLines(spec);
  const lines = [
    ...modelLines(graph, trainableParams),
    `Targets: ${describeTargets(spec)} (what fit() takes by name)`,
    memory.state,
    `Compiled: ${spec.kernels.length} kernels; ${spec.entries.train.dispatches.length} dispatches per training step ` +
      `(batch ${spec.entries.train.batch}), ${spec.entries.predict.dispatches.length} per prediction`,
    memory.peak,
  ];
  return lines.join('\n') + '\n';
}

/** A GAN's summary: the generator's and the discriminator's tables, then the compiled module. */
function ganSummaryText(models: readonly { graph: LayerGraph; trainable: number }[], spec: GanSpec): string {
  const memory = memoryLines(spec);
  const { d_step, g_step, generate } = spec.entries;
  const lines = [
    ...models.flatMap((m) => [...modelLines(m.graph, m.trainable), '']),
    memory.state,
    `Compiled: ${spec.kernels.length} kernels; ${d_step.dispatches.length} dispatches per discriminator ` +
      `step and ${g_step.dispatches.length} per generator step (batch ${d_step.batch}), ` +
      `${generate.dispatches.length} per generate`,
    memory.peak,
  ];
  return lines.join('\n') + '\n';
}

/** The values of `model`'s trainable parameters. */
function trainableCount(model: ModelIR): number {
  return model.params.reduce((n, p) => n + p.shape.reduce<number>((a, b) => a * (b as number), 1), 0);
}

/** Runs `nnxc summary`. */
export async function summaryCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    command: 'summary',
    usage: SUMMARY_USAGE,
    options: { model: { type: 'string' }, set: { type: 'string', multiple: true } },
  });
  const file = await readSource(positionals[0]);
  const options = { path: file.path, model: values.model, settings: values.set ?? [] };
  if (trainsGan(file.text)) {
    const result = compileGan(file.text, options);
    if (report(file, result, io) || !result.compiled || !result.gan) return 1;
    const models = [result.gan.generator, result.gan.discriminator].map((name) => {
      const model = result.checked.models.get(name)!;
      return { graph: layerGraph(model), trainable: trainableCount(model) };
    });
    io.out(ganSummaryText(models, result.compiled.spec));
    return 0;
  }
  const result = compile(file.text, options);
  if (report(file, result, io) || !result.compiled || !result.model) return 1;
  io.out(summaryText(layerGraph(result.model), result.compiled.spec, trainableCount(result.model)));
  return 0;
}
