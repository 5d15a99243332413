/**
 * The WGSL lowering of every elementwise op and of the counter-based random hash: the WGSL
 * target's own table, typed over the ops, so an op added to the IR without a WGSL expression
 * here does not compile. The scalar functions they must agree with live in src/ir/ops.ts.
 */
import type { BinaryOp, UnaryOp } from '../../ir/graph.js';

/** erf in WGSL (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7: below f32 resolution near 1). */
function erfWgsl(x: string): string {
  const t = `(1.0 / (1.0 + 0.3275911 * abs(${x})))`;
  const poly = `(${t} * (0.254829592 + ${t} * (-0.284496736 + ${t} * (1.421413741 + ${t} * (-1.453152027 + ${t} * 1.061405429)))))`;
  return `(sign(${x}) * (1.0 - ${poly} * exp(-(${x}) * (${x}))))`;
}

// The two-sided form never overflows exp for large |x|.
const sigmoidWgsl = (x: string) =>
  `select(exp(${x}) / (1.0 + exp(${x})), 1.0 / (1.0 + exp(-${x})), ${x} >= 0.0)`;

/** The WGSL expression of each unary op applied to the expression `x`. */
export const WGSL_UNARY: { readonly [P in UnaryOp]: (x: string) => string } = {
  neg: (x) => `(-${x})`,
  exp: (x) => `exp(${x})`,
  log: (x) => `log(${x})`,
  sqrt: (x) => `sqrt(${x})`,
  abs: (x) => `abs(${x})`,
  sign: (x) => `sign(${x})`,
  relu: (x) => `max(${x}, 0.0)`,
  sigmoid: sigmoidWgsl,
  // tanh saturates in f32 beyond |x| = 10; clamping avoids exp overflow inside some drivers' tanh.
  tanh: (x) => `tanh(clamp(${x}, -10.0, 10.0))`,
  softplus: (x) => `(max(${x}, 0.0) + log(1.0 + exp(-abs(${x}))))`,
  elu: (x) => `select(exp(min(${x}, 0.0)) - 1.0, ${x}, ${x} > 0.0)`,
  gelu: (x) => `(0.5 * ${x} * (1.0 + ${erfWgsl(`(${x} * ${Math.SQRT1_2})`)}))`,
  erf: erfWgsl,
  swish: (x) => `(${x} * ${sigmoidWgsl(x)})`,
  sin: (x) => `sin(${x})`,
  cos: (x) => `cos(${x})`,
  floor: (x) => `floor(${x})`,
};

/** The WGSL expression of each binary op applied to the expressions `a` and `b`. */
export const WGSL_BINARY: { readonly [P in BinaryOp]: (a: string, b: string) => string } = {
  add: (a, b) => `(${a} + ${b})`,
  sub: (a, b) => `(${a} - ${b})`,
  mul: (a, b) => `(${a} * ${b})`,
  div: (a, b) => `(${a} / ${b})`,
  max: (a, b) => `max(${a}, ${b})`,
  min: (a, b) => `min(${a}, ${b})`,
  gt: (a, b) => `select(0.0, 1.0, ${a} > ${b})`,
  eq: (a, b) => `select(0.0, 1.0, ${a} == ${b})`,
};

/** The hash of src/ir/ops/random.ts in WGSL, as helper functions a drawing kernel includes. */
export const PCG_WGSL = `fn pcg_hash(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

fn random_unit(salt: u32, t: u32, i: u32) -> f32 {
  let bits = pcg_hash(i ^ pcg_hash(t ^ pcg_hash(salt)));
  return f32(bits >> 8u) / 16777216.0;
}`;

/** WGSL for `counterValue` (src/ir/ops/random.ts) of the f32 expression `v`. */
export function counterValueWgsl(v: string): string {
  return `u32(max(trunc(${v}), 0.0))`;
}
