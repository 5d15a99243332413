/**
 * Attention and what a transformer needs around it, on sequences `[B, T, F]`:
 * MultiHeadAttention (Keras' arguments and parameter names), the learned PositionEmbedding and
 * the fixed SinePositionEncoding (keras_nlp's: both return the positions' vectors, added by the
 * model), and pooling over the steps (GlobalAveragePooling1D, GlobalMaxPooling1D).
 */
import { type GraphBuilder, ShapeError } from '../../ir/builder.js';
import type { Dim, Shape } from '../../ir/graph.js';
import { initializerArg, paramSpec, regularizerArg } from './options.js';
import { createParam, defineLayer, type LayerDef, type ParamFactory, perSample } from './types.js';

/** Added to the scores of masked keys: exp of it underflows to 0 after the max is subtracted (Keras' -1e9). */
const MASKED_SCORE = -1e9;

const sequenceCheck = (layer: string) => (shape: Shape) =>
  shape.length === 3 && typeof shape[2] === 'number'
    ? undefined
    : `${layer} takes sequences of shape [steps, features] per sample, got ${perSample(shape)}`;

interface Projection {
  kernel: number;
  bias?: number;
}

/**
 * MultiHeadAttention(num_heads, key_dim, value_dim, output_dim, causal, use_bias): called on
 * one sequence it is self-attention; on (query, value) or (query, value, key) it attends from
 * the query's steps to the value's. Per head h: softmax(Q_h·K_hᵀ/√key_dim [+ causal mask])·V_h,
 * the heads concatenated and projected to `output_dim` (the query's features by default).
 * Kernels are Keras' `[features, heads, dim]` stored as `[features, heads·dim]` (the same
 * numbers in the same order); names `query/kernel`, …, `attention_output/kernel`.
 */
export const multiHeadAttention = defineLayer({
  schema: [
    { name: 'num_heads', type: 'int', min: 1 },
    { name: 'key_dim', type: 'int', min: 1 },
    { name: 'value_dim', type: 'int', min: 0, default: 0 },
    { name: 'output_dim', type: 'int', min: 0, default: 0, aliases: ['output_shape'] },
    { name: 'causal', type: 'bool', default: false, aliases: ['use_causal_mask'] },
    { name: 'use_bias', type: 'bool', default: true },
    initializerArg('kernel_initializer', 'glorot_uniform', ['init']),
    initializerArg('bias_initializer', 'zeros'),
    regularizerArg('kernel_regularizer'),
    regularizerArg('bias_regularizer'),
  ],
  accepts: sequenceCheck('MultiHeadAttention'),
  arity: { min: 1, max: 3 },
  create(args, path) {
    const { num_heads: heads, key_dim: keyDim, output_dim: outputDim, causal, use_bias: useBias } = args;
    const valueDim = args.value_dim || keyDim;
    const own = new Map<string, Projection>();

    /** x·W (+ b) on the last axis, with W created on the first call. */
    const project = (b: GraphBuilder, params: ParamFactory, name: string, x: number, units: number) => {
      const shape = b.shapeOf(x);
      const features = shape[shape.length - 1] as number;
      let p = own.get(name);
      if (!p) {
        const kernel = paramSpec(args.kernel_initializer, args.kernel_regularizer, features, units);
        p = { kernel: createParam(params, b, `${path}/${name}/kernel`, [features, units], kernel) };
        if (useBias) {
          const bias = paramSpec(args.bias_initializer, args.bias_regularizer, features, units);
          p.bias = createParam(params, b, `${path}/${name}/bias`, [units], bias);
        }
        own.set(name, p);
      }
      const y = b.matmul(x, p.kernel);
      return p.bias === undefined ? y : b.add(y, p.bias);
    };

    /** [B, T, heads·dim] → [B, heads, T, dim]: one batched product per sample and head. */
    const splitHeads = (b: GraphBuilder, x: number, dim: number) => {
      const [batch, steps] = b.shapeOf(x) as [Dim, Dim];
      return b.transpose(b.reshape(x, [batch, steps, heads, dim]), [0, 2, 1, 3]);
    };

    const attend = (b: GraphBuilder, xs: readonly number[], params: ParamFactory) => {
      const [query, value, key = value] = xs.length === 1 ? [xs[0]!, xs[0]!] : xs;
      checkInputs(b, query!, value!, key!, causal);
      const [batch, steps, features] = b.shapeOf(query!) as [Dim, number, number];
      const q = splitHeads(b, project(b, params, 'query', query!, heads * keyDim), keyDim);
      const k = splitHeads(b, project(b, params, 'key', key!, heads * keyDim), keyDim);
      const v = splitHeads(b, project(b, params, 'value', value!, heads * valueDim), valueDim);
      let scores = b.mul(b.matmul(q, k, false, true), b.constant(1 / Math.sqrt(keyDim)));
      if (causal) scores = b.add(scores, causalMask(b, b.shapeOf(scores)));
      const weights = attentionSoftmax(b, scores);
      const context = b.transpose(b.matmul(weights, v), [0, 2, 1, 3]);
      const joined = b.reshape(context, [batch, steps, heads * valueDim]);
      return project(b, params, 'attention_output', joined, outputDim || features);
    };
    return {
      path,
      call: (b, x, params) => attend(b, [x], params),
      callMany: (b, xs, params) => attend(b, xs, params),
    };
  },
});

/**
 * Softmax over the key axis (the last), as exp(x − lse) with lse = max + log Σ exp(x − max):
 * the same numbers as `softmax`, but no value is shared between the sum and the weights, so
 * fusion computes the exponentials of the sum inside its reduction loop and the weights in one
 * map: three kernels (max; sum and lse; weights), and no stored exponentials.
 */
function attentionSoftmax(b: GraphBuilder, x: number): number {
  const shape = b.shapeOf(x);
  const axis = shape.length - 1;
  const max = b.reduceMax(x, [axis], true);
  const sum = b.sum(b.unary('exp', b.sub(x, b.broadcast(max, shape))), [axis], true);
  const lse = b.add(max, b.unary('log', sum));
  return b.unary('exp', b.sub(x, b.broadcast(lse, shape)));
}

/** [Tq, Tk]: MASKED_SCORE where the key's step is after the query's, 0 elsewhere. */
function causalMask(b: GraphBuilder, scores: Shape): number {
  const square = scores.slice(-2);
  const later = b.binary('gt', b.iota(square, 1), b.iota(square, 0));
  return b.mul(later, b.constant(MASKED_SCORE));
}

/** The value and key must be sequences of as many steps as each other (and, if causal, as the query). */
function checkInputs(b: GraphBuilder, query: number, value: number, key: number, causal: boolean): void {
  const check = sequenceCheck('MultiHeadAttention');
  for (const [x, what] of [
    [value, 'value'],
    [key, 'key'],
  ] as const) {
    const problem = check(b.shapeOf(x));
    if (problem) throw new ShapeError(`${problem} (its ${what})`, b.span);
  }
  const [q, v, k] = [query, value, key].map((x) => b.shapeOf(x));
  if (v![1] !== k![1])
    throw new ShapeError(
      `MultiHeadAttention needs a key with as many steps as the value: the value is ${perSample(v!)} and the key ${perSample(k!)}`,
      b.span,
    );
  if (causal && q![1] !== k![1])
    throw new ShapeError(
      `a causal MultiHeadAttention needs as many query steps as key steps: the query is ${perSample(q!)} and the key ${perSample(k!)}`,
      b.span,
    );
}

/**
 * PositionEmbedding(sequence_length): a learned vector per step, `[B, T, F]` → the `[B, T, F]`
 * of the first T positions' vectors (keras_nlp's layer; add it to the tokens' embeddings).
 * `sequence_length` defaults to T; a longer one keeps rows for longer inputs of a later call.
 */
export const positionEmbedding = defineLayer({
  schema: [
    { name: 'sequence_length', type: 'int', min: 0, default: 0 },
    initializerArg('initializer', 'glorot_uniform', ['init']),
    regularizerArg('regularizer'),
  ],
  accepts: sequenceCheck('PositionEmbedding'),
  create(args, path) {
    const length = args.sequence_length;
    let table: { node: number; rows: number } | undefined;
    return {
      path,
      call(b, x, params) {
        const shape = b.shapeOf(x);
        const [steps, features] = [shape[1] as Dim, shape[2] as number];
        if (typeof steps !== 'number')
          throw new ShapeError(
            `PositionEmbedding needs a fixed number of steps, got ${perSample(shape)}`,
            b.span,
          );
        // A later call is checked against the table the first call created.
        const rows = table?.rows ?? (length || steps);
        if (steps > rows)
          throw new ShapeError(
            `PositionEmbedding has ${rows} positions (sequence_length) but the input has ${steps} steps`,
            b.span,
          );
        table ??= {
          rows,
          node: createParam(
            params,
            b,
            `${path}/embeddings`,
            [rows, features],
            paramSpec(args.initializer, args.regularizer, rows, features),
          ),
        };
        const own = b.shapeOf(table.node);
        if (own[1] !== features)
          throw new ShapeError(
            `PositionEmbedding was created for ${own[1]} features and is called on ${perSample(shape)}`,
            b.span,
          );
        const rowsUsed =
          steps === table.rows
            ? table.node
            : b.emit('slice', [table.node], { axis: 0, start: 0, size: steps });
        return b.broadcast(rowsUsed, shape);
      },
    };
  },
});

/**
 * SinePositionEncoding(max_wavelength: 10000): the fixed encoding of "Attention is all you
 * need", PE[t, 2i] = sin(t/λ^(2i/F)), PE[t, 2i+1] = cos(t/λ^(2i/F)), `[B, T, F]` → `[B, T, F]`
 * (keras_nlp's layer; add it to the tokens' embeddings). No parameters: computed in the kernel
 * that reads it, from the element's index.
 */
export const sinePositionEncoding = defineLayer({
  schema: [{ name: 'max_wavelength', type: 'float', min: 1, default: 10000 }],
  accepts: sequenceCheck('SinePositionEncoding'),
  create({ max_wavelength: wavelength }, path) {
    return {
      path,
      call(b, x) {
        const shape = b.shapeOf(x);
        const [steps, features] = [shape[1]!, shape[2] as number];
        const square = [steps, features];
        const c = (v: number) => b.constant(v);
        const position = b.iota(square, 0);
        const column = b.iota(square, 1);
        const pair = b.unary('floor', b.mul(column, c(0.5))); // i of columns 2i and 2i + 1
        const frequency = b.unary('exp', b.mul(pair, c((-2 * Math.log(wavelength)) / features)));
        // cos(a) = sin(a + π/2): odd columns are shifted by a quarter turn.
        const odd = b.sub(column, b.mul(pair, c(2)));
        const angle = b.add(b.mul(position, frequency), b.mul(odd, c(Math.PI / 2)));
        return b.broadcast(b.unary('sin', angle), shape);
      },
    };
  },
});

function globalPooling1d(layer: string, reduce: (b: GraphBuilder, x: number) => number): LayerDef {
  return {
    schema: [],
    accepts: sequenceCheck(layer),
    create: (_args, path) => ({ path, call: (b, x) => reduce(b, x) }),
  };
}

/** The mean over the steps: `[B, T, F]` → `[B, F]`. */
export const globalAvgPool1d = globalPooling1d('GlobalAveragePooling1D', (b, x) => b.mean(x, [1]));
/** The maximum over the steps: `[B, T, F]` → `[B, F]`. */
export const globalMaxPool1d = globalPooling1d('GlobalMaxPooling1D', (b, x) => b.reduceMax(x, [1]));
