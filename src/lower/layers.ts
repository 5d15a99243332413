/**
 * The layer library, by the name used in .nnx files, and the functions of model expressions.
 * A layer is created from its bound arguments and owns its parameters; it creates them on its
 * first call, when the input shape is known. The layers themselves live in `layers/`, one file
 * per family; the lowering imports everything it needs from here.
 */
import type { GraphBuilder } from '../ir/builder.js';
import { ACTIVATIONS } from './layers/activations.js';
import {
  globalAvgPool1d,
  globalMaxPool1d,
  multiHeadAttention,
  positionEmbedding,
  sinePositionEncoding,
} from './layers/attention.js';
import {
  avgPool2d,
  conv2d,
  globalAvgPool2d,
  globalMaxPool2d,
  maxPool2d,
  upSampling2d,
} from './layers/conv.js';
import { activationLayer, dense, flatten, reshape } from './layers/core.js';
import { add, average, concatenate, maximum, multiply, subtract } from './layers/merge.js';
import { batchNormalization, dropout, layerNormalization, normalization } from './layers/norm.js';
import { embedding, gru, lstm, simpleRnn } from './layers/recurrent.js';
import type { LayerDef } from './layers/types.js';

export { ACTIVATIONS, ACTIVATION_NAMES, type Activation, logSoftmax, softmax } from './layers/activations.js';
export { INITIALIZERS } from './layers/options.js';
export {
  type LayerDef,
  type LayerInstance,
  type LowerMode,
  MASK_INPUT,
  type ParamFactory,
  type ParamSpec,
  RANDOM_COUNTER,
  type Regularizer,
  type StateUpdate,
  TrainingState,
} from './layers/types.js';

export const LAYERS: Readonly<Record<string, LayerDef>> = {
  Dense: dense,
  Activation: activationLayer,
  Flatten: flatten,
  Reshape: reshape,
  Conv2D: conv2d,
  MaxPool2D: maxPool2d,
  MaxPooling2D: maxPool2d,
  AveragePooling2D: avgPool2d,
  AvgPool2D: avgPool2d,
  GlobalAveragePooling2D: globalAvgPool2d,
  GlobalMaxPooling2D: globalMaxPool2d,
  UpSampling2D: upSampling2d,
  Dropout: dropout,
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
  Normalization: normalization,
  Embedding: embedding,
  SimpleRNN: simpleRnn,
  LSTM: lstm,
  GRU: gru,
  MultiHeadAttention: multiHeadAttention,
  PositionEmbedding: positionEmbedding,
  SinePositionEncoding: sinePositionEncoding,
  GlobalAveragePooling1D: globalAvgPool1d,
  GlobalMaxPooling1D: globalMaxPool1d,
  Concatenate: concatenate,
  Add: add,
  Multiply: multiply,
  Subtract: subtract,
  Average: average,
  Maximum: maximum,
};

/** Functions applied elementwise in model expressions: `relu(x)`, `abs(a - b)`. */
export const FUNCTIONS: Readonly<Record<string, (b: GraphBuilder, x: number) => number>> = {
  ...ACTIVATIONS,
  abs: (b, x) => b.unary('abs', x),
  exp: (b, x) => b.unary('exp', x),
  log: (b, x) => b.unary('log', x),
  sqrt: (b, x) => b.unary('sqrt', x),
};
