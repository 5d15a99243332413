/**
 * Initialising a model's parameters from another model's weights (transfer learning): a
 * safetensors file written by nnx (names as in the model: `dense_1/kernel`) or by PyTorch
 * (`state_dict` names: `0.weight`, `conv1.bias`), whose layers are matched to the model's in
 * order and whose layouts are converted: Linear `[out, in]` → `[in, out]`, Conv2d OIHW → HWIO.
 * Every problem is collected and reported at once, before anything is written.
 */

import { STATE_TENSOR_PREFIX } from './checkpoint.js';
import type { SafetensorsFile, SafetensorsTensor } from './safetensors.js';
import type { ParamSpec, TensorSlot } from './spec.js';

/** The parameter values an init-from file supplies, and what it leaves to the initialisers. */
export interface InitFromValues {
  /** Values by model parameter name, already in nnx layout. */
  readonly values: ReadonlyMap<string, Float32Array>;
  /** Where each loaded parameter came from: the file's tensor name. */
  readonly sources: ReadonlyMap<string, string>;
  /** Model parameters the file does not hold; they keep their initial values. */
  readonly kept: readonly string[];
  /** How the names were matched. */
  readonly layout: 'nnx' | 'pytorch';
}

/** PyTorch's name of each nnx parameter kind, per layer. */
const PYTORCH_NAMES: Readonly<Record<string, readonly string[]>> = {
  kernel: ['weight'],
  bias: ['bias'],
  gamma: ['weight'],
  beta: ['bias'],
  moving_mean: ['running_mean'],
  moving_variance: ['running_var'],
  embeddings: ['weight'],
};

/** Options of {@link initFromValues}. */
export interface InitFromOptions {
  /**
   * Load only the file's tensors under these layer paths (`trunk_1` holds `trunk_1/conv2d_1/kernel`;
   * for PyTorch names, `features` holds `features.0.weight`); the rest of the file is ignored.
   * Each path must hold at least one tensor. Absent: the whole file.
   */
  readonly only?: readonly string[];
}

/** True when tensor `name` lies under layer `path` in either naming (`a/b/kernel`, `a.b.weight`). */
function tensorUnder(name: string, path: string): boolean {
  return name.startsWith(`${path}/`) || name.startsWith(`${path}.`);
}

/**
 * The tensors `only` selects; a path that selects nothing is a problem naming the file's
 * top-level layers.
 */
function selectTensors(
  tensors: Map<string, SafetensorsTensor>,
  only: readonly string[],
  problems: string[],
): Map<string, SafetensorsTensor> {
  for (const path of only) {
    if ([...tensors.keys()].some((name) => tensorUnder(name, path))) continue;
    const layers = [...new Set([...tensors.keys()].map((name) => name.split(/[/.]/)[0]!))];
    problems.push(`'${path}' holds no tensor of the file (its layers: ${layers.join(', ')})`);
  }
  return new Map([...tensors].filter(([name]) => only.some((path) => tensorUnder(name, path))));
}

/**
 * Matches the tensors of `file` to `params` and converts them; throws one error naming every
 * tensor that does not fit (unknown name, wrong shape, layer without a counterpart).
 */
export function initFromValues(
  params: readonly ParamSpec[],
  file: SafetensorsFile,
  caller: string,
  options: InitFromOptions = {},
): InitFromValues {
  const problems: string[] = [];
  const weights = new Map([...file.tensors].filter(([name]) => !name.startsWith(STATE_TENSOR_PREFIX)));
  const tensors = options.only ? selectTensors(weights, options.only, problems) : weights;
  const known = new Set(params.map((p) => p.name));
  const nnxLayout = [...tensors.keys()].every((name) => known.has(name) || name.includes('/'));
  const matched = nnxLayout
    ? matchByName(params, tensors, problems)
    : // A PyTorch model scales its inputs outside the network: no module to pair with Normalization.
      matchByLayerOrder(
        params.filter((p) => p.init.adapt === undefined),
        tensors,
        problems,
      );
  if (problems.length > 0) throw new Error(`${caller}: ${problems.join('; ')}; nothing was changed`);
  const values = new Map([...matched].map(([name, m]) => [name, m.data]));
  const sources = new Map([...matched].map(([name, m]) => [name, m.source]));
  return {
    values,
    sources,
    kept: params.filter((p) => !matched.has(p.name)).map((p) => p.name),
    layout: nnxLayout ? 'nnx' : 'pytorch',
  };
}

interface Matched {
  readonly source: string;
  readonly data: Float32Array;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

/** nnx names: each tensor must name a parameter of the model and have its shape. */
function matchByName(
  params: readonly TensorSlot[],
  tensors: ReadonlyMap<string, SafetensorsTensor>,
  problems: string[],
): Map<string, Matched> {
  const byName = new Map(params.map((p) => [p.name, p]));
  const matched = new Map<string, Matched>();
  for (const [name, tensor] of tensors) {
    const param = byName.get(name);
    if (param === undefined) problems.push(`'${name}' is not a parameter of this model`);
    else if (!sameShape(tensor.shape, param.shape))
      problems.push(`'${name}' has shape [${tensor.shape}] but the model expects [${param.shape}]`);
    else matched.set(name, { source: name, data: tensor.data });
  }
  return matched;
}

/** `layer.sub.weight` → [`layer.sub`, `weight`]; a bare name is its own layer's only tensor. */
function splitTorchName(name: string): [string, string] {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? ['', name] : [name.slice(0, dot), name.slice(dot + 1)];
}

/** Module paths in PyTorch's registration order as far as names tell it: `2` before `10`. */
function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Groups `items` by `key`, keeping each group's first-seen order. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    groups.set(k, [...(groups.get(k) ?? []), item]);
  }
  return groups;
}

/**
 * PyTorch names: the file's modules (in natural order of their paths) are paired with the
 * model's layers that have parameters (in the order the model creates them); within a pair
 * each tensor is matched by kind (`weight` → `kernel`, `gamma` or `embeddings`).
 */
function matchByLayerOrder(
  params: readonly TensorSlot[],
  tensors: ReadonlyMap<string, SafetensorsTensor>,
  problems: string[],
): Map<string, Matched> {
  const layers = [...groupBy(params, (p) => p.name.slice(0, p.name.lastIndexOf('/'))).entries()];
  const modules = [...groupBy([...tensors.keys()], (n) => splitTorchName(n)[0]).entries()].sort(([a], [b]) =>
    naturalCompare(a, b),
  );
  const matched = new Map<string, Matched>();
  modules.forEach(([module, names], i) => {
    const layer = layers[i];
    if (layer === undefined) {
      problems.push(
        `PyTorch module '${module}' (${names.join(', ')}) has no counterpart: the model has ${layers.length} layers with parameters`,
      );
      return;
    }
    for (const name of names) matchTorchTensor(name, tensors.get(name)!, layer, matched, problems);
  });
  return matched;
}

/** Matches one PyTorch tensor to the parameter of its kind in `layer`, converting its layout. */
function matchTorchTensor(
  name: string,
  tensor: SafetensorsTensor,
  [layer, layerParams]: [string, TensorSlot[]],
  matched: Map<string, Matched>,
  problems: string[],
): void {
  const kind = splitTorchName(name)[1];
  const param = layerParams.find((p) => PYTORCH_NAMES[p.name.slice(layer.length + 1)]?.includes(kind));
  if (param === undefined) {
    const own = layerParams.map((p) => p.name).join(', ');
    problems.push(`PyTorch tensor '${name}' fits no parameter of layer '${layer}' (${own})`);
    return;
  }
  const converted = fromTorchLayout(param, tensor);
  if (!sameShape(converted.shape, param.shape)) {
    const how = converted.how ? ` (${converted.how}: [${converted.shape}])` : '';
    problems.push(
      `PyTorch tensor '${name}' has shape [${tensor.shape}]${how} but '${param.name}' is [${param.shape}]`,
    );
    return;
  }
  matched.set(param.name, { source: name, data: converted.data });
}

interface Converted {
  readonly shape: readonly number[];
  readonly data: Float32Array;
  /** How the layout was changed, for messages; empty when it was not. */
  readonly how: string;
}

/** A PyTorch tensor in the layout of the nnx parameter it initialises. */
export function fromTorchLayout(param: TensorSlot, tensor: SafetensorsTensor): Converted {
  const isKernel = param.name.endsWith('/kernel');
  if (isKernel && tensor.shape.length === 2) {
    // Linear keeps weight as [out, in]; Dense's kernel is [in, out].
    return { ...permute(tensor, [1, 0]), how: 'transposed from [out, in]' };
  }
  if (isKernel && tensor.shape.length === 4) {
    // Conv2d keeps weight as [out, in, h, w]; Conv2D's kernel is [h, w, in, out].
    return { ...permute(tensor, [2, 3, 1, 0]), how: 'converted from OIHW to HWIO' };
  }
  return { shape: tensor.shape, data: tensor.data, how: '' };
}

/** `tensor` with its axes reordered: output axis i is input axis `order[i]`. */
export function permute(
  tensor: SafetensorsTensor,
  order: readonly number[],
): { shape: number[]; data: Float32Array } {
  const shape = order.map((axis) => tensor.shape[axis]!);
  const inStrides = stridesOf(tensor.shape);
  const outStrides = stridesOf(shape);
  const data = new Float32Array(tensor.data.length);
  for (let out = 0; out < data.length; out++) {
    let source = 0;
    let rest = out;
    for (let i = 0; i < shape.length; i++) {
      const index = Math.floor(rest / outStrides[i]!);
      rest -= index * outStrides[i]!;
      source += index * inStrides[order[i]!]!;
    }
    data[out] = tensor.data[source]!;
  }
  return { shape, data };
}

function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) strides[i] = strides[i + 1]! * shape[i + 1]!;
  return strides;
}
