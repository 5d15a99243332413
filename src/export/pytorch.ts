/**
 * The PyTorch export: a directory with model.py (pytorch-model.ts), train.py
 * (pytorch-train.ts), the starting weights in nnx's safetensors format, and a README.
 * The train block's data is written beside them by the CLI (data/<split>/<slot>.npy).
 */
import { encodeSafetensors } from '../runtime/safetensors.js';
import type { Diagnostic } from '../util/diagnostics.js';
import { modelPy } from './pytorch-model.js';
import { trainPy } from './pytorch-train.js';
import type { ExportCompiled, ExportModel, ExportTrain, Weights } from './weights.js';

export interface PytorchInput {
  readonly model: ExportModel;
  readonly compiled: ExportCompiled;
  readonly train: ExportTrain;
  readonly weights: Weights;
  /** The .nnx file's name, for the generated files' docstrings. */
  readonly source: string;
}

export interface PytorchExport {
  /** File names (relative to the export directory) and contents; absent after an error. */
  readonly files?: ReadonlyMap<string, string | Uint8Array>;
  readonly diagnostics: readonly Diagnostic[];
}

export function exportPytorch(input: PytorchInput): PytorchExport {
  const { model, compiled, train, weights, source } = input;
  const py = modelPy(model, compiled, source);
  if (py.diagnostics.length > 0) return { diagnostics: py.diagnostics };
  const tensors = new Map(
    compiled.spec.params.map((p) => [p.name, { shape: p.shape, data: weights.get(p.name)! }]),
  );
  const files = new Map<string, string | Uint8Array>([
    ['model.py', py.text],
    ['train.py', trainPy(model, compiled, train, source)],
    ['weights.safetensors', encodeSafetensors(tensors)],
    ['README.md', readme(model.name, source)],
  ]);
  return { files, diagnostics: [] };
}

function readme(name: string, source: string): string {
  return `# ${name} for PyTorch

Exported from \`${source}\` by \`nnxc export --to pytorch\`.

- \`model.py\`: \`${name}\`, an \`nn.Module\` whose submodules are the layers \`nnxc summary\`
  lists, holding nnx's parameters under nnx's names and layouts (NHWC images, HWIO filters,
  Dense kernels \`[in, out]\`). \`model(x)\` predicts; \`model(*inputs, *targets, mask,
  mode='train')\` gives the train block's loss and metric sums, as nnx computes them.
- \`train.py\`: the train block (optimizer, schedule, batch, epochs, metrics) with nnx's
  optimizer formulas. \`python3 train.py\` trains in one process; \`--workers N\` over N
  processes with DistributedDataParallel (gloo on CPU, nccl on GPUs); torchrun works too
  (\`torchrun --nproc_per_node 2 --redirects 1 --tee 1 train.py\`, needed with Python 3.11 and
  torch 1.13). It starts from \`weights.safetensors\` and writes \`trained.safetensors\`, which
  \`nnxc evaluate ${source} --weights trained.safetensors\` reads.
- \`data/\`: the train block's samples as nnx prepared them (its validation split included).

Differences from nnx: dropout masks come from torch's generator, not nnx's hash. With several
processes, BatchNormalization normalizes by each process's share of the batch (its statistics
are per process, as with nn.BatchNorm under DDP without SyncBatchNorm) and moves the running
statistics by them; DDP copies rank 0's buffers to the others before each step, and
trained.safetensors is rank 0's. One process, or nnx, uses the whole batch's. Where the samples do not divide among the processes,
the last batch is padded with masked-out samples (DistributedSampler would repeat samples).

\`model.py\` also has \`linear_from_nnx\`, \`conv2d_weight_from_nnx\`, \`same_padding\`,
\`lstm_from_nnx\`, \`gru_from_nnx\` and \`batchnorm_from_nnx\`: nnx's (Keras') layers as
torch.nn's own modules, with the layouts, gate orders, TF 'same' padding, forget-gate bias and
BatchNorm momentum and ε converted.
`;
}
