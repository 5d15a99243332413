/**
 * Small named pieces WGSL is assembled from: literals, storage bindings, index arithmetic and
 * the dispatch grid. Kernels in kernels.ts compose these; none of them is a big template.
 */

/**
 * A WGSL f32 literal. WGSL evaluates constant expressions at shader creation and rejects
 * non-finite results, so kernels must never need one (reductions start from an element).
 */
export function f32Literal(v: number): string {
  if (!Number.isFinite(Math.fround(v)))
    throw new Error(`internal: the constant ${v} cannot be written in WGSL`);
  const s = String(Math.fround(v));
  return /[.e]/.test(s) ? `f32(${s})` : `f32(${s}.0)`;
}

export interface Binding {
  readonly name: string;
  readonly writable: boolean;
  /** Declared as `array<vec4<f32>>` (for 16-byte loads); read an element as `x[i / 4u][i % 4u]`. */
  readonly vec4?: boolean;
}

export function bindingDecls(bindings: readonly Binding[]): string {
  return bindings
    .map(
      (b, i) =>
        `@group(0) @binding(${i}) var<storage, ${b.writable ? 'read_write' : 'read'}> ${b.name}: array<${b.vec4 ? 'vec4<f32>' : 'f32'}>;`,
    )
    .join('\n');
}

/** Element `index` (a u32 expression) of a binding, whether declared by element or by vec4. */
export function elementOf(b: Binding, index: string): string {
  return b.vec4 ? `${b.name}[(${index}) / 4u][(${index}) % 4u]` : `${b.name}[${index}]`;
}

/** Row-major strides. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= shape[i]!;
  }
  return out;
}

/**
 * The offset into a source, as a u32 expression of the flat output index `idx`, when the source
 * is read with `strides` over the output's multi-index (0 on broadcast dims).
 */
export function offsetExpr(outShape: readonly number[], strides: readonly number[], idx: string): string {
  const own = contiguousStrides(outShape);
  if (strides.every((s, d) => s === own[d] || outShape[d] === 1)) return idx;
  const terms: string[] = [];
  // `idx` may itself be a sum (a reduction's `base + r1`): keep it whole under / and %.
  const whole = /^\w+$/.test(idx) ? idx : `(${idx})`;
  outShape.forEach((size, d) => {
    const s = strides[d]!;
    if (s === 0 || size === 1) return;
    const q = own[d] === 1 ? whole : `(${whole} / ${own[d]}u)`;
    const coord = d === 0 ? q : `(${q} % ${size}u)`;
    terms.push(s === 1 ? coord : `${coord} * ${s}u`);
  });
  return terms.length ? terms.join(' + ') : '0u';
}

export const WORKGROUP_SIZE = 64;
const MAX_GROUPS = 65535;

/** A 1-D grid covering `n` invocations, spilling into y beyond the per-dimension limit. */
export function grid1d(n: number): { workgroups: [number, number, number]; strideX: number } {
  const groups = Math.max(1, Math.ceil(n / WORKGROUP_SIZE));
  const x = Math.min(groups, MAX_GROUPS);
  const y = Math.ceil(groups / x);
  return { workgroups: [x, y, 1], strideX: x * WORKGROUP_SIZE };
}

/** The entry point of a 1-D kernel: computes the flat index `i` and returns when out of range. */
export function main1d(n: number, strideX: number, body: string): string {
  return [
    `@compute @workgroup_size(${WORKGROUP_SIZE})`,
    'fn main(@builtin(global_invocation_id) gid: vec3<u32>) {',
    `  let i = gid.x + gid.y * ${strideX}u;`,
    `  if (i >= ${n}u) { return; }`,
    indent(body, 2),
    '}',
  ].join('\n');
}

export function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((l) => (l ? pad + l : l))
    .join('\n');
}
