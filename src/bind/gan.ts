/**
 * Reads a `gan` block into a checked configuration: which models are the generator and the
 * discriminator, the noise they are fed, the dataset of real samples and the range they are
 * scaled to, the loss, an optimizer for each side, batch size and epochs. Then checks that the
 * two models fit each other: one input and one output each, the generator's output shaped as
 * the discriminator's input, and one score per sample out of the discriminator.
 */
import type { Argument, Expr, GanDef } from '../parser/ast.js';
import { type Diagnostic, type RelatedNote, type Span, error } from '../util/diagnostics.js';
import { inputsOf, type Shape, shapeToString } from '../ir/graph.js';
import type { OptimizerConfig } from './optimizers.js';
import { type ArgSchema, type CallValue, argsOf, bindArgs, convertArg } from '../lower/args.js';
import type { ModelIR } from '../lower/lower.js';
import { type DatasetConfig, bindDataset, bindOptimizer } from './train.js';
import { fieldOrigin } from './origins.js';

/** Losses a GAN can be trained with: cross-entropy on the discriminator's score, or least squares. */
export const GAN_LOSSES = ['binary_crossentropy', 'binary_crossentropy_from_logits', 'mse'] as const;
export type GanLoss = (typeof GAN_LOSSES)[number];

/** How the generator's noise is drawn: N(0, 1), or uniform in [−1, 1). */
export const NOISE_KINDS = ['normal', 'uniform'] as const;
export type NoiseKind = (typeof NOISE_KINDS)[number];

export interface GanConfig {
  readonly name: string;
  readonly span: Span;
  readonly generator: string;
  readonly discriminator: string;
  readonly noise: NoiseKind;
  readonly dataset: DatasetConfig;
  /** The range real samples are mapped to from the dataset's [0, 1] (`[-1, 1]` for a tanh generator). */
  readonly dataRange: readonly [number, number];
  readonly loss: GanLoss;
  readonly discriminatorOptimizer: OptimizerConfig;
  readonly generatorOptimizer: OptimizerConfig;
  readonly batch: number;
  readonly epochs: number;
  /** Where the block writes the fields its step kernels come from (its header when it does not). */
  readonly spans: GanStepSpans;
}

/** The source spans of the nodes a GAN's steps add to its two models'. */
export interface GanStepSpans {
  readonly loss: Span;
  readonly noise: Span;
  readonly dataRange: Span;
  readonly discriminatorOptimizer: Span;
  readonly generatorOptimizer: Span;
}

/** Where the models a GAN names are, to point at them. */
export interface GanModels {
  readonly generator: ModelIR;
  readonly discriminator: ModelIR;
}

const ADAM_DEFAULT: CallValue = { callee: 'Adam', args: [], span: { start: 0, end: 0 } };
/** The default of `d_optimizer` and `g_optimizer`: whatever `optimizer` is. */
const SAME_AS_OPTIMIZER: CallValue = { callee: '', args: [], span: { start: 0, end: 0 } };

const GAN_SCHEMA = [
  { name: 'generator', type: 'name' },
  { name: 'discriminator', type: 'name' },
  { name: 'data', type: 'call-or-name' },
  { name: 'noise', type: 'name', choices: NOISE_KINDS, default: 'normal' },
  { name: 'loss', type: 'name', choices: GAN_LOSSES, default: 'binary_crossentropy' },
  { name: 'optimizer', type: 'call-or-name', default: ADAM_DEFAULT },
  {
    name: 'd_optimizer',
    type: 'call-or-name',
    aliases: ['discriminator_optimizer'],
    default: SAME_AS_OPTIMIZER,
  },
  { name: 'g_optimizer', type: 'call-or-name', aliases: ['generator_optimizer'], default: SAME_AS_OPTIMIZER },
  { name: 'batch', type: 'int', min: 1, default: 64 },
  { name: 'epochs', type: 'int', min: 1, default: 1 },
] as const satisfies readonly ArgSchema[];

/** Fields bound here rather than by the schema. */
const DATA_RANGE = 'data_range';

/** Reads the fields of a `gan` block; undefined (with diagnostics) when one is wrong. */
export function bindGan(def: GanDef, diags: Diagnostic[]): GanConfig | undefined {
  const before = diags.length;
  const where = `gan ${def.name.name}`;
  const args: Argument[] = def.fields
    .filter((f) => f.name.name !== DATA_RANGE)
    .map((f) => ({ kind: 'argument', name: f.name, value: f.value, span: f.span }));
  const bound = bindArgs(where, args, GAN_SCHEMA, def.name.span, diags);
  const rangeField = def.fields.find((f) => f.name.name === DATA_RANGE);
  const dataRange = rangeField ? bindDataRange(where, rangeField.value, diags) : ([0, 1] as const);
  if (!bound) return undefined;
  const fields = argsOf(GAN_SCHEMA, bound.values);
  const optimizer = (own: CallValue) =>
    bindOptimizer(own === SAME_AS_OPTIMIZER ? fields.optimizer : own, diags);
  const discriminatorOptimizer = optimizer(fields.d_optimizer);
  const generatorOptimizer = optimizer(fields.g_optimizer);
  const dataset = bindDataset(fields.data, diags);
  if (diags.length > before || !discriminatorOptimizer || !generatorOptimizer || !dataset || !dataRange)
    return undefined;
  return {
    name: def.name.name,
    span: def.span,
    generator: fields.generator,
    discriminator: fields.discriminator,
    noise: fields.noise,
    dataset,
    dataRange,
    loss: fields.loss,
    discriminatorOptimizer,
    generatorOptimizer,
    batch: fields.batch,
    epochs: fields.epochs,
    spans: {
      loss: fieldOrigin(def, ['loss'], def.name.span),
      noise: fieldOrigin(def, ['noise'], def.name.span),
      dataRange: fieldOrigin(def, [DATA_RANGE], def.name.span),
      discriminatorOptimizer: fieldOrigin(
        def,
        ['d_optimizer', 'discriminator_optimizer', 'optimizer'],
        def.name.span,
      ),
      generatorOptimizer: fieldOrigin(
        def,
        ['g_optimizer', 'generator_optimizer', 'optimizer'],
        def.name.span,
      ),
    },
  };
}

/** `data_range: [-1, 1]`: two numbers, the first below the second. */
function bindDataRange(where: string, e: Expr, diags: Diagnostic[]): readonly [number, number] | undefined {
  const schema: ArgSchema = { name: DATA_RANGE, type: 'float' };
  const items = e.kind === 'list' ? e.items : [];
  const values = items.map((item) => convertArg(where, schema, item, diags));
  const [lo, hi] = values;
  if (values.length === 2 && typeof lo === 'number' && typeof hi === 'number' && lo < hi) return [lo, hi];
  if (values.every((v) => v !== undefined))
    diags.push(
      error(
        'E0105',
        e.span,
        `\`${DATA_RANGE}\` of ${where} must be two numbers, low then high, such as \`[-1, 1]\``,
      ),
    );
  return undefined;
}

/** The span of a field's value in the block, or of the block's name when the field is absent. */
export function fieldSpan(def: GanDef, name: string): Span {
  return def.fields.find((f) => f.name.name === name)?.value.span ?? def.name.span;
}

/**
 * Checks that the generator and the discriminator fit each other. `noteAt` gives a note at a
 * model's definition or its input declaration; undefined when there is nothing to point at.
 */
export function checkGanModels(
  def: GanDef,
  models: GanModels,
  diags: Diagnostic[],
  noteAt: (model: string, part: 'definition' | 'input') => RelatedNote | undefined,
): boolean {
  const before = diags.length;
  for (const role of ['generator', 'discriminator'] as const) {
    const m = models[role];
    if (m.inputs.length !== 1 || m.outputs.length !== 1) {
      const note = noteAt(m.name, 'definition');
      diags.push(
        error(
          'E0501',
          fieldSpan(def, role),
          `the ${role} of a GAN takes one input and gives one output; \`${m.name}\` has ${m.inputs.length} ` +
            `input${m.inputs.length === 1 ? '' : 's'} and ${m.outputs.length} output${m.outputs.length === 1 ? '' : 's'}`,
          note && [note],
        ),
      );
    } else if (inputsOf(m.graph, 'param').some((p) => p.params.regularizer)) {
      diags.push(
        error(
          'E0501',
          fieldSpan(def, role),
          `\`${m.name}\` has weight regularizers (kernel_regularizer, bias_regularizer), which a GAN's losses do not include yet`,
        ),
      );
    } else if (inputsOf(m.graph, 'param').some((p) => p.params.init?.adapt)) {
      diags.push(
        error(
          'E0501',
          fieldSpan(def, role),
          `\`${m.name}\` has a Normalization layer, whose mean and variance nnx adapts to the data only ` +
            `in a train block; in a GAN it would stay the identity`,
        ),
      );
    }
  }
  if (diags.length > before) return false;
  const noise = perSample(models.generator.inputs[0]!.shape);
  if (!noise.every((d) => typeof d === 'number')) {
    diags.push(
      error(
        'E0501',
        fieldSpan(def, 'generator'),
        `the generator's input is its noise, which needs a fixed shape; \`${models.generator.name}\` takes ${shapeToString(noise)}`,
      ),
    );
    return false;
  }
  const made = perSample(models.generator.outputs[0]!.shape);
  const taken = perSample(models.discriminator.inputs[0]!.shape);
  if (!sameDims(made, taken)) {
    const notes = [
      noteAt(models.generator.name, 'definition'),
      noteAt(models.discriminator.name, 'input'),
    ].filter((n): n is RelatedNote => n !== undefined);
    diags.push(
      error(
        'E0502',
        fieldSpan(def, 'discriminator'),
        `the generator \`${models.generator.name}\` makes samples of shape ${shapeToString(made)}, but the ` +
          `discriminator \`${models.discriminator.name}\` takes ${shapeToString(taken)}`,
        notes,
      ),
    );
    return false;
  }
  const score = perSample(models.discriminator.outputs[0]!.shape);
  if (!sameDims(score, [1])) {
    diags.push(
      error(
        'E0501',
        fieldSpan(def, 'discriminator'),
        `the discriminator \`${models.discriminator.name}\` must give one score per sample (shape [1]), ` +
          `not ${shapeToString(score)}; end it with \`Dense(1, activation: sigmoid)\``,
      ),
    );
    return false;
  }
  return true;
}

function perSample(shape: Shape): Shape {
  return shape.slice(1);
}

function sameDims(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
