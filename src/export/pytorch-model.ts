/**
 * model.py of the PyTorch export: an `nn.Module` whose submodules are the model's layers under
 * the paths `nnxc summary` prints (`residual_1.conv2d_1` for `residual_1/conv2d_1`), holding
 * their parameters under nnx's names and in nnx's layouts; a shared layer is one submodule
 * read by both calls. Its forward is translated from the compiler's IR (torch-ops.ts) in three
 * modes: `predict` (the inference graph), `train` (the training-mode graph with the train
 * block's loss, metrics and running-statistics updates) and `evaluate` (the inference graph
 * with the loss and metrics), so the loss is nnx's formula exactly, whatever it is.
 */
import { type Graph, type Node, inputsOf } from '../ir/graph.js';
import type { Diagnostic } from '../util/diagnostics.js';
import { MASK_INPUT } from '../lower/layers/types.js';
import { TORCH_HELPERS, type InputBinding, translateGraph } from './torch-ops.js';
import type { ExportCompiled, ExportModel } from './weights.js';

export interface ModelPy {
  readonly text: string;
  readonly diagnostics: readonly Diagnostic[];
}

/** A Python identifier for a graph input (`target/kind` → `target_kind`). */
export function pyName(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

/** The attribute path of a parameter (`res/dense_1/kernel` → `res.dense_1.kernel`). */
export function moduleAttribute(name: string): string {
  return name.split('/').join('.');
}

export function modelPy(model: ExportModel, compiled: ExportCompiled, source: string): ModelPy {
  const diagnostics: Diagnostic[] = [];
  const trainable = new Set(model.training?.params.map((p) => p.name) ?? model.params.map((p) => p.name));
  const steps = compiled.steps;
  const inputs = model.inputs.map((i) => i.name);
  const targets = inputsOf(steps.train, 'target').map((n) => n.params.name);
  const forwardUpdates = new Set(
    (model.training?.updates ?? []).map((u) => u.name).filter((name) => !name.startsWith('random/')),
  );
  const like = pyName(inputs[0]!);
  const ctx = { like, batch: 'batch', model: model.name };
  const bind = (n: Node<'input'>): InputBinding => {
    const { name, role } = n.params;
    if (role === 'param') return { expr: `self.${moduleAttribute(name)}` };
    // Accumulators start at zero, so a metric's update is the batch's sum; random counters
    // are not read by torch's generator.
    if (role === 'state') return { constant: 0 };
    return { expr: name === MASK_INPUT ? 'mask' : pyName(name) };
  };
  const method = (
    name: string,
    g: Graph,
    args: readonly string[],
    body: (values: ReadonlyMap<number, string>) => string[],
    roots: number[],
    doc: string,
  ) => {
    const code = translateGraph(g, roots, bind, ctx);
    diagnostics.push(...code.diagnostics);
    return [
      `    def ${name}(self, ${args.map(pyName).join(', ')}):`,
      `        """${doc}"""`,
      `        batch = ${like}.shape[0]`,
      ...code.lines.map((l) => `        ${l}`),
      ...body(code.values).map((l) => `        ${l}`),
    ];
  };

  const predictOutputs = model.graph.outputs.filter((o) => o.role === 'prediction');
  const predict = method(
    '_predict',
    model.graph,
    inputs,
    (v) => [
      predictOutputs.length === 1
        ? `return ${v.get(predictOutputs[0]!.node)}`
        : `return (${predictOutputs.map((o) => v.get(o.node)).join(', ')})`,
    ],
    predictOutputs.map((o) => o.node),
    'The predictions, as nnxc predict computes them.',
  );
  const terms = (name: string, g: Graph, training: boolean, doc: string) => {
    const loss = g.outputs.find((o) => o.role === 'loss')!;
    const metrics = g.outputs.filter(
      (o) => o.role === 'update' && o.name.startsWith('metric/') && o.name !== 'metric/loss',
    );
    const updates = training
      ? g.outputs.filter((o) => o.role === 'update' && forwardUpdates.has(o.name))
      : [];
    return method(
      name,
      g,
      [...inputs, ...targets, 'mask'],
      (v) => [
        ...(updates.length
          ? [
              'with torch.no_grad():',
              ...updates.map((u) => `    self.${moduleAttribute(u.name)}.copy_(${v.get(u.node)})`),
            ]
          : []),
        'return {',
        `    'loss': ${v.get(loss.node)},`,
        ...metrics.map((m) => `    '${m.name.slice('metric/'.length)}': ${v.get(m.node)},`),
        '}',
      ],
      [loss.node, ...metrics.map((m) => m.node), ...updates.map((u) => u.node)],
      doc,
    );
  };
  const train = terms(
    '_train_terms',
    steps.train,
    true,
    "The batch's mean loss (with regularization) to differentiate, and the metrics' sums over the batch; moves running statistics.",
  );
  const evaluate = terms(
    '_evaluate_terms',
    steps.evaluate,
    false,
    "The batch's mean loss and the metrics' sums, in inference mode.",
  );

  const params = compiled.spec.params.map((p) => {
    const tensor = `torch.zeros((${p.shape.join(', ')}${p.shape.length === 1 ? ',' : ''}))`;
    const [owner, leaf] = splitPath(p.name);
    const target = owner ? `self.${moduleAttribute(owner)}` : 'self';
    return trainable.has(p.name)
      ? `        ${target}.${leaf} = nn.Parameter(${tensor})`
      : `        ${target}.register_buffer('${leaf}', ${tensor})`;
  });
  const modules = [...new Set(compiled.spec.params.flatMap((p) => prefixes(p.name)))].map(
    (m) => `        self.${moduleAttribute(m)} = Layer()`,
  );
  const tuple = (xs: readonly string[]) =>
    `(${xs.map((x) => `'${x}'`).join(', ')}${xs.length === 1 ? ',' : ''})`;
  const text = `"""${model.name}, exported from ${source} by nnxc export --to pytorch.

Tensors are laid out as in nnx: images NHWC, convolution filters HWIO, Dense kernels
[in, out]; parameters keep nnx's names (dense_1/kernel is dense_1.kernel here), so the
weights save to and load from nnx's safetensors files unchanged (save_nnx_weights,
load_nnx_weights). Generated code: edit the .nnx file and export again rather than this.
"""
import json
import struct

import torch
import torch.nn.functional as F
from torch import nn

INPUTS = ${tuple(inputs)}
OUTPUTS = ${tuple(predictOutputs.map((o) => o.name))}
TARGETS = ${tuple(targets)}
METRICS = ${tuple(steps.accumulators.filter((a) => a !== 'loss'))}


${TORCH_HELPERS}

class Layer(nn.Module):
    """One layer (or block instance) of the .nnx model: its parameters and sublayers."""


class ${model.name}(nn.Module):
    def __init__(self):
        super().__init__()
${[...modules, ...params].join('\n')}

    def forward(self, *tensors, mode='predict'):
        """mode 'predict': forward(*INPUTS) gives the predictions (a tuple when there are several
        outputs). mode 'train' or 'evaluate': forward(*INPUTS, *TARGETS, mask) gives the loss and
        the metrics' sums; mask is 1 for each real sample of the batch."""
        if mode == 'predict':
            return self._predict(*tensors)
        if mode == 'train':
            return self._train_terms(*tensors)
        if mode == 'evaluate':
            return self._evaluate_terms(*tensors)
        raise ValueError(f"mode must be 'predict', 'train' or 'evaluate', not {mode!r}")

${predict.join('\n')}

${train.join('\n')}

${evaluate.join('\n')}


def nnx_state(model):
    """Every parameter and statistic by nnx name (dense_1/kernel), as nnx lays it out."""
    return {k.replace('.', '/'): v for k, v in model.state_dict().items()}


def save_nnx_weights(model, path):
    """Writes a safetensors file (F32) that nnxc evaluate --weights and initFrom read."""
    tensors = {k: v.detach().to(torch.float32).contiguous().cpu() for k, v in nnx_state(model).items()}
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        blob = t.numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    tmp = str(path) + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))
    import os
    os.replace(tmp, path)


def load_nnx_weights(model, path):
    """Reads nnx weights (or a checkpoint: its @state/ tensors are left out) into the model."""
    import numpy as np
    with open(path, 'rb') as f:
        data = f.read()
    (length,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + length])
    start = 8 + length
    own = nnx_state(model)
    with torch.no_grad():
        for name, target in own.items():
            if name not in header:
                raise KeyError(f'{path} has no tensor {name!r}')
            info = header[name]
            if info['dtype'] != 'F32' or list(info['shape']) != list(target.shape):
                raise ValueError(f"{path}: {name!r} is {info['dtype']} {info['shape']}, the model's is F32 {list(target.shape)}")
            a, b = info['data_offsets']
            values = np.frombuffer(data[start + a:start + b], dtype='<f4').reshape(info['shape'])
            target.copy_(torch.from_numpy(values.copy()))


${TORCH_NATIVE}`;
  return { text, diagnostics };
}

/** `res/dense_1/kernel` → [`res/dense_1`, `kernel`]. */
function splitPath(name: string): [string, string] {
  const at = name.lastIndexOf('/');
  return at < 0 ? ['', name] : [name.slice(0, at), name.slice(at + 1)];
}

/** The module paths a parameter lives under, outermost first: `res`, `res/dense_1`. */
function prefixes(name: string): string[] {
  const parts = name.split('/').slice(0, -1);
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

/**
 * How nnx's (Keras') layers map onto torch.nn's own modules, for code that wants those rather
 * than model.py's IR translation: each difference in layout, gate order, padding or statistics
 * converted exactly (test/export/mappings.test.ts checks each against the interpreter).
 */
const TORCH_NATIVE = `# nnx (Keras) layers as torch.nn's own modules. model.py does not need these (it computes in
# nnx's layouts); they are for moving weights into torch.nn code. Default activations assumed.

def linear_from_nnx(kernel, bias=None):
    """Dense(kernel [in, out], bias) as nn.Linear, whose weight is [out, in]."""
    layer = nn.Linear(kernel.shape[0], kernel.shape[1], bias=bias is not None).to(kernel.dtype)
    with torch.no_grad():
        layer.weight.copy_(kernel.t())
        if bias is not None:
            layer.bias.copy_(bias)
    return layer


def conv2d_weight_from_nnx(kernel):
    """Conv2D filters HWIO as torch's OIHW (F.conv2d, nn.Conv2d.weight)."""
    return kernel.permute(3, 2, 0, 1).contiguous()


def same_padding(size, kernel, stride=1, dilation=1):
    """TF's padding='same' along one axis as (before, after): the odd pixel goes after, so with
    strides it can be asymmetric, which nn.Conv2d's symmetric padding cannot say; pad with F.pad."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def lstm_from_nnx(kernel, recurrent_kernel, bias, unit_forget_bias=True):
    """LSTM as nn.LSTM(batch_first=True). Keras' gate order i, f, c, o is torch's i, f, g, o and
    the kernels transpose; nnx adds unit_forget_bias's +1 to the forget gate in the step (its
    stored bias starts at 0), torch needs it in the bias."""
    units = recurrent_kernel.shape[0]
    layer = nn.LSTM(kernel.shape[0], units, batch_first=True).to(kernel.dtype)
    b = bias.clone()
    if unit_forget_bias:
        b[units:2 * units] += 1
    with torch.no_grad():
        layer.weight_ih_l0.copy_(kernel.t())
        layer.weight_hh_l0.copy_(recurrent_kernel.t())
        layer.bias_ih_l0.copy_(b)
        layer.bias_hh_l0.zero_()
    return layer


def gru_from_nnx(kernel, recurrent_kernel, bias):
    """GRU (Keras' reset_after form, which is torch's; one input-side bias) as
    nn.GRU(batch_first=True): Keras' gates z, r, h are torch's z, r, n reordered to r, z, n."""
    units = recurrent_kernel.shape[0]

    def order(w):
        return torch.cat([w[..., units:2 * units], w[..., :units], w[..., 2 * units:]], dim=-1)

    layer = nn.GRU(kernel.shape[0], units, batch_first=True).to(kernel.dtype)
    with torch.no_grad():
        layer.weight_ih_l0.copy_(order(kernel).t())
        layer.weight_hh_l0.copy_(order(recurrent_kernel).t())
        layer.bias_ih_l0.copy_(order(bias))
        layer.bias_hh_l0.zero_()
    return layer


def batchnorm_from_nnx(gamma, beta, moving_mean, moving_variance, momentum=0.99, epsilon=1e-3):
    """BatchNormalization over the last axis as nn.BatchNorm1d (for [N, C]; permute NHWC to NCHW
    for nn.BatchNorm2d): torch's momentum is 1 - Keras'. Inference is then the same; in training,
    torch moves running_var by the unbiased batch variance where nnx and Keras use the biased one
    (model.py's train mode computes nnx's)."""
    layer = nn.BatchNorm1d(gamma.shape[0], eps=epsilon, momentum=1 - momentum).to(gamma.dtype)
    with torch.no_grad():
        layer.weight.copy_(gamma)
        layer.bias.copy_(beta)
        layer.running_mean.copy_(moving_mean)
        layer.running_var.copy_(moving_variance)
    return layer
`;
