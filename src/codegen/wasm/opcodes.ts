/**
 * The WebAssembly instructions the wasm target writes, by name, once for every kernel writer.
 * Plain opcodes are one byte; SIMD128 instructions are the 0xfd prefix and their opcode as LEB128.
 * Names carry their type (I32_ADD is 0x6a, F32_ADD 0x92): writers may import them under short aliases.
 */

export const I32_LT_S = 0x48;
export const I32_LT_U = 0x49;
export const I32_GT_S = 0x4a;
export const I32_ADD = 0x6a;
export const I32_SUB = 0x6b;
export const I32_MUL = 0x6c;
export const I32_DIV_U = 0x6e;
export const I32_REM_U = 0x70;
export const I32_OR = 0x72;

export const F32_EQ = 0x5b;
export const F32_GT = 0x5e;
export const F32_GE = 0x60;
export const F32_ABS = 0x8b;
export const F32_NEG = 0x8c;
export const F32_FLOOR = 0x8e;
export const F32_SQRT = 0x91;
export const F32_ADD = 0x92;
export const F32_SUB = 0x93;
export const F32_MUL = 0x94;
export const F32_DIV = 0x95;
export const F32_MIN = 0x96;
export const F32_MAX = 0x97;
export const F32_COPYSIGN = 0x98;
export const F32_DEMOTE_F64 = 0xb6;
export const F64_PROMOTE_F32 = 0xbb;

export const SIMD_PREFIX = 0xfd;
const simd = (opcode: number): readonly number[] => [
  SIMD_PREFIX,
  ...(opcode < 0x80 ? [opcode] : [(opcode & 0x7f) | 0x80, opcode >> 7]),
];

/** v128.const of sixteen zero bytes. */
export const V128_ZERO = [...simd(0x0c), ...new Array<number>(16).fill(0)];
export const F32X4_SPLAT = simd(0x13);
export const F32X4_EQ = simd(0x41);
export const F32X4_GT = simd(0x44);
export const V128_AND = simd(0x4e);
export const V128_ANDNOT = simd(0x4f);
export const V128_OR = simd(0x50);
export const F32X4_ABS = simd(0xe0);
export const F32X4_NEG = simd(0xe1);
export const F32X4_SQRT = simd(0xe3);
export const F32X4_ADD = simd(0xe4);
export const F32X4_SUB = simd(0xe5);
export const F32X4_MUL = simd(0xe6);
export const F32X4_DIV = simd(0xe7);
export const F32X4_MIN = simd(0xe8);
export const F32X4_MAX = simd(0xe9);
export const F32X4_PMAX = simd(0xeb);
