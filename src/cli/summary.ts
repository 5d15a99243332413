/**
 * `nnxc summary FILE`: a Keras-style table of the model a train block names — each layer call
 * with its output shape, parameter count and the calls it shares weights with — then the totals
 * and what the compiler made of it: kernels, dispatches per step, GPU memory.
 */
import { parseArgs } from 'node:util';
import { compile } from '../compile.js';
import { type LayerGraph, layerGraph } from '../ir/layer-graph.js';
import type { ModelSpec } from '../runtime/index.js';
import { type Io, formatBytes, readSource, report } from './io.js';

/** The usage line of `nnxc summary`. */
export const SUMMARY_USAGE = `  nnxc summary FILE [--model NAME] [--set FIELD=VALUE]...
                                       a table of the layers: output shape, parameters, sharing`;

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
      return `${call.name}${ordinal} ${opsText(call.ops)}`;
  }
}

/** Renders rows as columns padded to their widest cell, with a rule under the header. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  const rule = '─'.repeat(widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1));
  return [rule, line(header), rule, ...rows.map(line), rule];
}

/**
 * The summary text of a model's layer graph and its compiled spec; `trainableParams` counts the
 * values the optimizer updates, the rest (frozen layers, running statistics) are non-trainable.
 */
export function summaryText(graph: LayerGraph, spec: ModelSpec, trainableParams = graph.totalParams): string {
  const rows = graph.calls
    .filter((call) => call.kind !== 'output')
    .map((call) => [
      callTitle(graph, call.index),
      formatShape(call.shape),
      formatCount(call.params),
      call.sharedWith.map((other) => callTitle(graph, other).replace(/ \(.*$/, '')).join(', '),
    ]);
  const paramBytes = spec.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1) * 4, 0);
  const stateBytes = spec.state.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
  const totalBytes = spec.buffers.reduce((n, b) => n + b.bytes, 0);
  const lines = [
    `Model: ${graph.name}`,
    ...table(['Layer (ops)', 'Output shape', 'Params', 'Shared with'], rows),
    `Total params: ${formatCount(graph.totalParams)} (${formatBytes(paramBytes)})`,
    `Trainable params: ${formatCount(trainableParams)}`,
    `Non-trainable params: ${formatCount(graph.totalParams - trainableParams)}`,
    `Optimizer state: ${formatBytes(stateBytes)}`,
    `Compiled: ${spec.kernels.length} kernels; ${spec.entries.train.dispatches.length} dispatches per training step ` +
      `(batch ${spec.entries.train.batch}), ${spec.entries.predict.dispatches.length} per prediction`,
    `Peak GPU memory: ${formatBytes(totalBytes)} in ${spec.buffers.length} buffers (the plan is static: ` +
      `parameters, optimizer state, and activations and temporaries sharing buffers by liveness)`,
  ];
  return lines.join('\n') + '\n';
}

/** Runs `nnxc summary`. */
export async function summaryCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { model: { type: 'string' }, set: { type: 'string', multiple: true } },
  });
  const file = await readSource(positionals[0]);
  const result = compile(file.text, { path: file.path, model: values.model, settings: values.set ?? [] });
  if (report(file, result, io) || !result.compiled || !result.model) return 1;
  const trainableNames = new Set(result.model.params.map((p) => p.name));
  const trainable = result.compiled.spec.params
    .filter((p) => trainableNames.has(p.name))
    .reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
  io.out(summaryText(layerGraph(result.model), result.compiled.spec, trainable));
  return 0;
}
