/**
 * Reads a `train` block into a checked configuration: dataset, loss, optimizer, metrics, batch
 * size and epochs. Command-line overrides are applied to the block before binding.
 */
import { ownEntry } from '../util/own.js';
import type { Argument, TrainDef } from '../parser/ast.js';
import { type Diagnostic, type Span, error } from '../util/diagnostics.js';
import { didYouMean } from '../util/suggest.js';
import { type LossName, METRIC_NAMES, type MetricName } from './losses.js';
import type { Augmentation } from './augment.js';
import type { OptimizerConfig } from './optimizers.js';
import {
  type ArgSchema,
  type ArgsOf,
  type CallValue,
  argsOf,
  bindArgs,
  unknownSpelling,
} from '../lower/args.js';
import { resolveSpelling } from '../lower/spellings.js';
import { bindAugment } from './augment.js';
import { fieldOrigin } from './origins.js';
import { type FrozenLayer, bindFreeze } from './freeze.js';
import { OPTIMIZERS } from './optimizers.js';
import { type OutputLoss, RECORD_FIELDS, bindRecordFields } from './train-fields.js';

/**
 * Datasets the CLI can load by name, and the arguments of those read from files. The loaders
 * and class names (src/data/datasets.ts, Node-only) are tables typed over these names.
 */
export const DATASET_SCHEMAS = {
  mnist: [{ name: 'invert', type: 'bool', default: false }],
  fashion_mnist: [{ name: 'invert', type: 'bool', default: false }],
  iris: [],
  majority: [],
  far_repeat: [],
  xor: [],
  csv: [
    { name: 'path', type: 'string' },
    { name: 'label', type: 'string' },
  ],
  npy: [
    { name: 'inputs', type: 'string' },
    { name: 'targets', type: 'string' },
  ],
} as const satisfies Readonly<Record<string, readonly ArgSchema[]>>;

export type DatasetName = keyof typeof DATASET_SCHEMAS;
/** A dataset's arguments, typed by its schema: `{ path: string; label: string }` for csv. */
export type DatasetArgs<N extends DatasetName = DatasetName> = ArgsOf<(typeof DATASET_SCHEMAS)[N]>;

/** Dataset names `data:` accepts. */
export const DATASETS = Object.keys(DATASET_SCHEMAS) as DatasetName[];

/** A train block's `data:`: `mnist`, or `csv("flowers.csv", label: "species")`. */
export interface DatasetConfig {
  readonly name: DatasetName;
  /** The call's arguments by name: file paths and column names, `invert: true`. */
  readonly args: DatasetArgs;
  readonly span: Span;
}

export interface TrainConfig {
  readonly model: string;
  readonly span: Span;
  /** The dataset's name. */
  readonly data: string;
  readonly dataset: DatasetConfig;
  /** The fraction of the training samples held out to validate on after each epoch. */
  readonly validationSplit: number;
  /** The loss of the first output; `outputLosses` has each output's, with its weight. */
  readonly loss: LossName;
  readonly outputLosses: readonly OutputLoss[];
  /** Sizes of the model's symbolic dimensions beyond the batch (`dims: { T: 8 }`). */
  readonly dims: ReadonlyMap<string, number>;
  readonly optimizer: OptimizerConfig;
  readonly metrics: readonly MetricName[];
  readonly batch: number;
  readonly epochs: number;
  /** Transforms applied to the inputs in the training step only, in order (`augment:`). */
  readonly augment: readonly Augmentation[];
  /** Layers whose parameters this training leaves unchanged (`freeze: [trunk_1]`). */
  readonly freeze: readonly FrozenLayer[];
  /** Where the block writes its loss and optimizer (its header when it does not), for the kernels' origins. */
  readonly spans: { readonly loss: Span; readonly optimizer: Span };
}

const NOWHERE: Span = { start: 0, end: 0 };

/**
 * What a train block without `optimizer:` trains with: Keras' `compile()` default, `'rmsprop'`,
 * i.e. RMSprop(lr 0.001, ρ 0.9, ε 1e-7) with ε inside the root, as Keras places it.
 */
export const DEFAULT_OPTIMIZER: CallValue = {
  callee: 'RMSProp',
  args: [
    {
      kind: 'argument',
      name: { kind: 'identifier', name: 'epsilon_placement', span: NOWHERE },
      value: { kind: 'name', name: 'keras', span: NOWHERE },
      span: NOWHERE,
    },
  ],
  span: NOWHERE,
};

const TRAIN_SCHEMA = [
  { name: 'data', type: 'call-or-name' },
  { name: 'validation_split', type: 'float', min: 0, max: 0.9, default: 0 },
  {
    name: 'optimizer',
    type: 'call-or-name',
    default: DEFAULT_OPTIMIZER,
  },
  { name: 'metrics', type: 'name-list', choices: METRIC_NAMES, default: [] },
  { name: 'batch', type: 'int', min: 1, default: 32 },
  { name: 'epochs', type: 'int', min: 1, default: 1 },
] as const satisfies readonly ArgSchema[];

export function bindOptimizer(given: CallValue, diags: Diagnostic[]): OptimizerConfig | undefined {
  const names = Object.keys(OPTIMIZERS);
  const call = spelledCall(given, 'optimizer', names, diags);
  if (!call) return undefined;
  const def = ownEntry(OPTIMIZERS, call.callee);
  if (!def) {
    const hint = didYouMean(call.callee, names);
    diags.push(
      error('E0101', call.span, `unknown optimizer \`${call.callee}\`${hint}`, [
        { message: `the optimizers are: ${names.join(', ')}` },
      ]),
    );
    return undefined;
  }
  const args = bindArgs(call.callee, call.args, def.schema, call.span, diags);
  return args ? def.config(args.values) : undefined;
}

export function bindDataset(given: CallValue, diags: Diagnostic[]): DatasetConfig | undefined {
  const call = spelledCall(given, 'dataset', DATASETS, diags);
  if (!call) return undefined;
  const name = call.callee;
  const schema = ownEntry<readonly ArgSchema[]>(DATASET_SCHEMAS, name);
  if (!schema || !isDataset(name)) {
    const hint = didYouMean(call.callee, DATASETS);
    diags.push(
      error('E0103', call.span, `unknown dataset \`${call.callee}\`${hint}`, [
        { message: `expected one of: ${DATASETS.join(', ')}` },
      ]),
    );
    return undefined;
  }
  const bound = bindArgs(`dataset ${call.callee}`, call.args, schema, call.span, diags);
  if (!bound) return undefined;
  return { name, args: argsOf(DATASET_SCHEMAS[name], bound.values), span: call.span };
}

function isDataset(name: string): name is DatasetName {
  return Object.hasOwn(DATASET_SCHEMAS, name);
}

/**
 * A call written as a string (`optimizer: 'adam'`) with the name it spells among `names`
 * (src/lower/spellings.ts); undefined, with a diagnostic listing them, when it spells none.
 */
export function spelledCall(
  call: CallValue,
  what: string,
  names: readonly string[],
  diags: Diagnostic[],
): CallValue | undefined {
  if (!call.spelled) return call;
  const name = resolveSpelling(call.callee, names);
  if (name !== undefined) return { callee: name, args: call.args, span: call.span };
  diags.push(unknownSpelling(what, call.callee, 'the train block', names, call.span));
  return undefined;
}

export function bindTrain(def: TrainDef, diags: Diagnostic[]): TrainConfig | undefined {
  const records = bindRecordFields(def, diags);
  const args: Argument[] = def.fields
    .filter((f) => !RECORD_FIELDS.has(f.name.name) && f.name.name !== 'freeze' && f.name.name !== 'augment')
    .map((f) => ({
      kind: 'argument',
      name: f.name,
      value: f.value,
      span: f.span,
    }));
  const augment = bindAugment(
    def.fields.find((f) => f.name.name === 'augment'),
    diags,
  );
  const bound = bindArgs(`train ${def.model.name}`, args, TRAIN_SCHEMA, def.model.span, diags);
  if (!bound || !augment) return undefined;
  const fields = argsOf(TRAIN_SCHEMA, bound.values);
  const optimizer = bindOptimizer(fields.optimizer, diags);
  const dataset = bindDataset(fields.data, diags);
  const freeze = bindFreeze(def, diags);
  if (!optimizer || !dataset || !records) return undefined;
  return {
    model: def.model.name,
    span: def.span,
    data: dataset.name,
    dataset,
    validationSplit: fields.validation_split,
    loss: records.loss,
    outputLosses: records.outputLosses,
    dims: records.dims,
    optimizer,
    metrics: fields.metrics,
    batch: fields.batch,
    epochs: fields.epochs,
    augment,
    freeze,
    spans: {
      loss: fieldOrigin(def, ['loss'], def.model.span),
      optimizer: fieldOrigin(def, ['optimizer'], def.model.span),
    },
  };
}
