/**
 * What the export tests share: an example compiled as `nnxc` compiles it, random weights for
 * it (biases and statistics too, so a bias or a variance mapped wrongly shows), random inputs
 * (token indices where an input feeds an embedding), and the reference interpreter's outputs.
 */
import { readFileSync } from 'node:fs';
import { compile } from '../../src/compile.js';
import type { Node } from '../../src/ir/graph.js';
import { interpret, interpretOutputs } from '../../src/ir/interpret.js';
import { tensor } from '../../src/ir/tensor.js';
import { type ExportCompiled, type ExportModel, initialWeights } from '../../src/export/weights.js';
import { seededRandom } from '../ir/random.js';

export interface Example {
  readonly model: ExportModel;
  readonly compiled: ExportCompiled;
  readonly train: NonNullable<ReturnType<typeof compile>['train']>;
}

/** Compiles examples/NAME.nnx, or a path, for the train block of `model` (with `--set` settings); throws on any diagnostic. */
export function compileExample(name: string, model?: string, settings: string[] = []): Example {
  const path = name.includes('/') ? name : `examples/${name}.nnx`;
  const result = compile(readFileSync(path, 'utf8'), { path, model, settings });
  if (!result.model || !result.compiled || !result.train) {
    throw new Error(`${path}: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  }
  return { model: result.model, compiled: result.compiled, train: result.train };
}

/**
 * The model's own initial weights (scaled for its fan-in, so activations keep a trained model's
 * magnitudes) plus uniform noise in [-0.1, 0.1] on every value, so that zero-initialised biases
 * and unit variances are random too; variances stay positive.
 */
export function randomWeights(example: Example, seed: number): Map<string, Float32Array> {
  const rand = seededRandom(seed);
  const weights = initialWeights(example.compiled, seed);
  for (const [name, data] of weights) {
    for (let i = 0; i < data.length; i++) data[i] += 0.2 * rand() - 0.1;
    if (/variance$/.test(name)) data.forEach((v, i) => (data[i] = Math.abs(v)));
  }
  return weights;
}

/** One random batch for each data input: token indices for an input read by `gather`, else [-1, 1]. */
export function randomInputs(example: Example, batch: number, seed: number): Map<string, Float32Array> {
  const rand = seededRandom(seed);
  const g = example.model.graph;
  const inputs = new Map<string, Float32Array>();
  for (const ref of example.model.inputs) {
    const shape = [batch, ...ref.shape.slice(1)] as number[];
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const table = g.nodes.find((n) => n.op === 'gather' && n.srcs[1] === ref.node);
    const rows = table ? (g.nodes[table.srcs[0]!]!.shape[0] as number) : 0;
    for (let i = 0; i < data.length; i++) data[i] = rows ? Math.floor(rand() * rows) : 2 * rand() - 1;
    inputs.set(ref.name, data);
  }
  return inputs;
}

/** The reference interpreter's predictions in f64 for these weights and inputs, by output name. */
export function referenceOutputs(
  example: Example,
  weights: ReadonlyMap<string, Float32Array>,
  inputs: ReadonlyMap<string, Float32Array>,
  batch: number,
): Map<string, { shape: number[]; data: Float64Array }> {
  const values = new Map<string, ReturnType<typeof tensor>>();
  for (const n of example.model.graph.nodes) {
    if (n.op !== 'input') continue;
    const { name } = n.params;
    const data = inputs.get(name) ?? weights.get(name);
    if (!data) throw new Error(`no value for ${name}`);
    values.set(
      name,
      tensor(
        n.shape.map((d) => (d === 'B' ? batch : (d as number))),
        data,
      ),
    );
  }
  const out = interpretOutputs(example.model.graph, values, { dtype: 'f64' });
  return new Map([...out].map(([k, t]) => [k, { shape: [...t.shape], data: t.data as Float64Array }]));
}

/** The largest |a − b| over two arrays of one length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} and ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** The examples with a train block; each must export to both targets. */
export const EXAMPLES = [
  'xor',
  'xor_deep',
  'iris',
  'mnist_mlp',
  'mnist_cnn',
  'fashion_cnn',
  'residual',
  'resnet_small',
  'rnn',
  'transformer',
  'multi_output',
  'siamese',
  'transfer',
] as const;

/** Models of test/export/layers.nnx: the layers no example uses. */
export const LAYER_MODELS = ['Images', 'Sequences'] as const;
export const LAYERS_FILE = 'test/export/layers.nnx';

/**
 * Runs the compiled training step in the reference interpreter (f64) `steps` times from
 * `weights`, step s on `batch(s)` (every data input, target and the mask by name), optimizer
 * and statistics state starting at zero as in nnx; the losses, and the last step's outputs.
 */
export function interpreterSteps(
  example: Example,
  weights: ReadonlyMap<string, Float32Array>,
  batch: (step: number) => ReadonlyMap<string, ArrayLike<number>>,
  batchSize: number,
  steps: number,
): { losses: number[]; last: Map<string, Float64Array> } {
  const g = example.compiled.steps.train;
  const values = new Map<string, ReturnType<typeof tensor>>();
  const shapeOf = (n: Node) => n.shape.map((d) => (d === 'B' ? batchSize : (d as number)));
  for (const n of g.nodes) {
    if (n.op !== 'input') continue;
    const { name, role } = (n as Node<'input'>).params;
    const shape = shapeOf(n);
    if (role === 'param') values.set(name, tensor(shape, weights.get(name)!));
    else if (role === 'state')
      values.set(name, tensor(shape, new Array(shape.reduce((a, b) => a * b, 1)).fill(0)));
  }
  const losses: number[] = [];
  const last = new Map<string, Float64Array>();
  for (let s = 0; s < steps; s++) {
    const data = batch(s);
    for (const n of g.nodes) {
      if (n.op !== 'input') continue;
      const { name, role } = (n as Node<'input'>).params;
      if (role === 'param' || role === 'state') continue;
      const v = data.get(name);
      if (!v) throw new Error(`no batch value for ${name}`);
      values.set(name, tensor(shapeOf(n), v));
    }
    const out = interpret(g, values, { dtype: 'f64' });
    losses.push(out[g.outputs.find((o) => o.role === 'loss')!.node]!.data[0]!);
    for (const o of g.outputs) {
      if (o.role !== 'update') continue;
      const target = g.nodes[o.target!] as Node<'input'>;
      values.set(target.params.name, out[o.node]!);
      last.set(target.params.name, out[o.node]!.data as Float64Array);
    }
  }
  return { losses, last };
}
