/**
 * Relaxed-SIMD FMA where the engine has it. The wasm target writes every multiply-add of its
 * matmul micro-kernel as `get acc, get a, get b, f32x4.mul, f32x4.add, set acc` (valid on every
 * SIMD128 engine) and the spec lists where each starts (`maddSites`). An engine that validates
 * f32x4.relaxed_madd gets each rewritten in place, the same length, so no section moves:
 * `get a, get b, get acc, f32x4.relaxed_madd, nop, nop, nop`. The engine may then fuse the
 * multiply-add: one rounding instead of two, so sums can differ from the mul+add form in their
 * last bits (both stay within the tests' tolerance of the f64 reference).
 */

const F32X4_MUL = [0xfd, 0xe6, 0x01];
const F32X4_ADD = [0xfd, 0xe4, 0x01];
const F32X4_RELAXED_MADD = [0xfd, 0x85, 0x02];
const NOP = 0x01;
const LOCAL_GET = 0x20;

/** `(func (param v128 v128 v128) (result v128) local.get 0 local.get 1 local.get 2 f32x4.relaxed_madd)`. */
const PROBE = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
  ...[0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b], // type: (v128 v128 v128) → v128
  ...[0x03, 0x02, 0x01, 0x00], // one function of that type
  ...[0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, ...F32X4_RELAXED_MADD, 0x0b],
]);

let available: boolean | undefined;

/** Whether this engine validates f32x4.relaxed_madd (Node ≥ 22, Chrome ≥ 114; Node 20 behind --experimental-wasm-relaxed-simd). */
export function relaxedSimdAvailable(): boolean {
  available ??= typeof WebAssembly.validate === 'function' && WebAssembly.validate(PROBE);
  return available;
}

/** Length of the `local.get` instruction at `at`. */
function localGetLength(bytes: Uint8Array, at: number): number {
  if (bytes[at] !== LOCAL_GET) throw new Error(`internal: no local.get at madd site byte ${at}`);
  let end = at + 1;
  while (bytes[end]! & 0x80) end++;
  return end + 1 - at;
}

/** Rewrites every madd site of a module's bytes in place as one f32x4.relaxed_madd. */
export function useRelaxedMadd(bytes: Uint8Array, sites: readonly number[]): void {
  for (const at of sites) {
    const operands: number[][] = [];
    let end = at;
    for (let i = 0; i < 3; i++) {
      const length = localGetLength(bytes, end);
      operands.push([...bytes.subarray(end, end + length)]);
      end += length;
    }
    if (![...F32X4_MUL, ...F32X4_ADD].every((v, i) => bytes[end + i] === v))
      throw new Error(`internal: no f32x4.mul, f32x4.add at madd site byte ${at}`);
    const [acc, a, b] = operands as [number[], number[], number[]];
    bytes.set([...a, ...b, ...acc, ...F32X4_RELAXED_MADD, NOP, NOP, NOP], at);
  }
}
