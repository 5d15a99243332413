/**
 * The WebAssembly lowering of every elementwise op: the wasm target's own table, typed over the
 * ops, so an op added to the IR without a lowering here does not compile. Each entry pushes the
 * op's f32 result, reading its operands from f32 locals. WebAssembly has no transcendental
 * instructions: exp, log, tanh, sin and cos are the host's `Math` functions, imported, and
 * computed in f64 before rounding to f32 (as the reference interpreter does).
 */
import type { BinaryOp, UnaryOp } from '../../ir/graph.js';
import { F32, F64, type FunctionBody, type ImportedFunction } from './encoder.js';
import {
  F32_ABS as ABS,
  F32_NEG as NEG,
  F32_FLOOR as FLOOR,
  F32_SQRT as SQRT,
  F32_ADD as ADD,
  F32_SUB as SUB,
  F32_MUL as MUL,
  F32_DIV as DIV,
  F32_MIN as MIN,
  F32_MAX as MAX,
  F32_COPYSIGN as COPYSIGN,
  F32_GT as GT,
  F32_GE as GE,
  F32_EQ as EQ,
  F64_PROMOTE_F32 as PROMOTE,
  F32_DEMOTE_F64 as DEMOTE,
  F32X4_SPLAT,
  F32X4_EQ,
  F32X4_GT,
  V128_AND,
  F32X4_ABS,
  F32X4_NEG,
  F32X4_SQRT,
  F32X4_ADD,
  F32X4_SUB,
  F32X4_MUL,
  F32X4_DIV,
  F32X4_MIN,
  F32X4_MAX,
} from './opcodes.js';

/** The host functions a module imports, in import order (their function indices). */
export const MATH_IMPORTS = ['exp', 'log', 'tanh', 'sin', 'cos'] as const;
export type MathImport = (typeof MATH_IMPORTS)[number];

export const MATH_IMPORT_DECLS: readonly ImportedFunction[] = MATH_IMPORTS.map((name) => ({
  name,
  params: [F64],
  results: [F64],
}));

const MATH_INDEX = Object.fromEntries(MATH_IMPORTS.map((name, i) => [name, i])) as Record<MathImport, number>;

/** Pushes `name(x)` of the f32 local `x`, through f64. */
function math(f: FunctionBody, name: MathImport, x: number): FunctionBody {
  return f.get(x).op(PROMOTE).call(MATH_INDEX[name]).op(DEMOTE);
}

/** Pushes 1 or 0 as f32 for the i32 condition on the stack. */
function boolToF32(f: FunctionBody): FunctionBody {
  return f.op(0xb3 /* f32.convert_i32_u */);
}

/** Pushes sigmoid(x) in the two-sided form that never overflows exp. */
function sigmoid(f: FunctionBody, x: number): FunctionBody {
  // t = exp(−|x|); x ≥ 0 ? 1/(1+t) : t/(1+t), in f64.
  const t = f.local(F64);
  f.get(x).op(ABS, NEG, PROMOTE).call(MATH_INDEX.exp).set(t);
  f.get(x).f32(0).op(GE).if(F64);
  f.f64(1);
  f.else();
  f.get(t);
  f.end();
  f.f64(1).get(t).op(0xa0 /* f64.add */).op(0xa3 /* f64.div */).op(DEMOTE);
  return f;
}

/** Pushes erf(x) by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), in f64. */
function erf(f: FunctionBody, x: number): FunctionBody {
  const ax = f.local(F64);
  const t = f.local(F64);
  f.get(x).op(ABS, PROMOTE).set(ax);
  f.f64(1).f64(1).f64(0.3275911).get(ax).op(0xa2, 0xa0, 0xa3).set(t);
  // poly = t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))
  const coeffs = [0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429];
  f.f64(coeffs[4]!);
  for (let i = 3; i >= 0; i--) f.get(t).op(0xa2).f64(coeffs[i]!).op(0xa0);
  f.get(t).op(0xa2);
  // 1 − poly·exp(−x²)
  f.get(ax).get(ax).op(0xa2, 0x9a).call(MATH_INDEX.exp).op(0xa2);
  f.set(t);
  f.f64(1).get(t).op(0xa1, DEMOTE);
  // sign(x)·|erf| (erf(0) = 0 comes out as 1 − 1 = 0 up to rounding, like WGSL's form).
  return f.get(x).op(COPYSIGN);
}

/** Pushes sign(x): −1, 0 or 1. */
function sign(f: FunctionBody, x: number): FunctionBody {
  f.get(x).f32(0).op(GT);
  boolToF32(f);
  f.f32(0).get(x).op(GT);
  boolToF32(f);
  return f.op(SUB);
}

/** Each unary op, pushing its f32 result for the operand in the f32 local `x`. */
export const WASM_UNARY: { readonly [P in UnaryOp]: (f: FunctionBody, x: number) => FunctionBody } = {
  neg: (f, x) => f.get(x).op(NEG),
  exp: (f, x) => math(f, 'exp', x),
  log: (f, x) => math(f, 'log', x),
  sqrt: (f, x) => f.get(x).op(SQRT),
  abs: (f, x) => f.get(x).op(ABS),
  sign,
  relu: (f, x) => f.get(x).f32(0).op(MAX),
  sigmoid,
  tanh: (f, x) => math(f, 'tanh', x),
  softplus: (f, x) => {
    // max(x, 0) + log(1 + exp(−|x|))
    f.get(x).f32(0).op(MAX, PROMOTE);
    f.f64(1).get(x).op(ABS, NEG, PROMOTE).call(MATH_INDEX.exp).op(0xa0).call(MATH_INDEX.log);
    return f.op(0xa0, DEMOTE);
  },
  elu: (f, x) => {
    // x > 0 ? x : exp(x) − 1
    f.get(x);
    math(f, 'exp', x).f32(1).op(SUB);
    return f.get(x).f32(0).op(GT).select();
  },
  gelu: (f, x) => {
    // 0.5·x·(1 + erf(x/√2))
    const scaled = f.local(F32);
    f.get(x).f32(Math.SQRT1_2).op(MUL).set(scaled);
    f.f32(0.5).get(x).op(MUL).f32(1);
    erf(f, scaled);
    return f.op(ADD, MUL);
  },
  erf,
  swish: (f, x) => {
    f.get(x);
    return sigmoid(f, x).op(MUL);
  },
  sin: (f, x) => math(f, 'sin', x),
  cos: (f, x) => math(f, 'cos', x),
  floor: (f, x) => f.get(x).op(FLOOR),
};

const binary = (opcode: number) => (f: FunctionBody, a: number, b: number) => f.get(a).get(b).op(opcode);

/** Each binary op, pushing its f32 result for the operands in the f32 locals `a` and `b`. */
export const WASM_BINARY: {
  readonly [P in BinaryOp]: (f: FunctionBody, a: number, b: number) => FunctionBody;
} = {
  add: binary(ADD),
  sub: binary(SUB),
  mul: binary(MUL),
  div: binary(DIV),
  max: binary(MAX),
  min: binary(MIN),
  gt: (f, a, b) => boolToF32(f.get(a).get(b).op(GT)),
  eq: (f, a, b) => boolToF32(f.get(a).get(b).op(EQ)),
};

/** Pushes the f32x4 splat of `v`. */
export function pushSplat(f: FunctionBody, v: number): FunctionBody {
  return f.f32(v).op(...F32X4_SPLAT);
}

/** 1 or 0 per lane for the lane mask on the stack. */
const maskToF32 = (f: FunctionBody) => pushSplat(f, 1).op(...V128_AND);

/**
 * The ops with a four-lane form, for vectorised epilogues: each lane the same IEEE operation as
 * the scalar entry above (so the same bits). Ops without one (the host transcendentals) keep
 * their kernel on the scalar path.
 */
export const WASM_VECTOR_UNARY: { readonly [P in UnaryOp]?: (f: FunctionBody, x: number) => FunctionBody } = {
  neg: (f, x) => f.get(x).op(...F32X4_NEG),
  sqrt: (f, x) => f.get(x).op(...F32X4_SQRT),
  abs: (f, x) => f.get(x).op(...F32X4_ABS),
  relu: (f, x) => pushSplat(f.get(x), 0).op(...F32X4_MAX),
};

const vector = (opcode: readonly number[]) => (f: FunctionBody, a: number, b: number) =>
  f
    .get(a)
    .get(b)
    .op(...opcode);

export const WASM_VECTOR_BINARY: {
  readonly [P in BinaryOp]: (f: FunctionBody, a: number, b: number) => FunctionBody;
} = {
  add: vector(F32X4_ADD),
  sub: vector(F32X4_SUB),
  mul: vector(F32X4_MUL),
  div: vector(F32X4_DIV),
  max: vector(F32X4_MAX),
  min: vector(F32X4_MIN),
  gt: (f, a, b) =>
    maskToF32(
      f
        .get(a)
        .get(b)
        .op(...F32X4_GT),
    ),
  eq: (f, a, b) =>
    maskToF32(
      f
        .get(a)
        .get(b)
        .op(...F32X4_EQ),
    ),
};
