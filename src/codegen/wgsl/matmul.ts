/**
 * The `matmul` kernel kind: C = op(A)·op(B) with transposed operands read in place (no
 * transpose kernels). Two tilings: `shared` stages 16×16 tiles through workgroup memory (good on
 * GPUs), `blocked` has each invocation accumulate a TM×TN register block straight from storage
 * with no barriers (good on CPU-like adapters such as lavapipe, where barriers are expensive).
 */

export interface MatmulShape {
  /** Independent products (1 when absent), one per workgroup layer in z; the body names its index `batch`. */
  readonly batch?: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transA: boolean;
  readonly transB: boolean;
}

export type MatmulTiling =
  | { readonly kind: 'shared'; readonly tile: number }
  | {
      readonly kind: 'blocked';
      readonly tm: number;
      readonly tn: number;
      readonly wgx: number;
      readonly wgy: number;
    };

/** The tiling used when nothing better is known: measured fastest on lavapipe for MLP shapes. */
export const DEFAULT_TILING: MatmulTiling = { kind: 'blocked', tm: 8, tn: 8, wgx: 4, wgy: 16 };

/** Shrinks the register block for small outputs, so a 4×3 product is not computed as 8×4. */
export function tilingFor(m: number, n: number, base: MatmulTiling = DEFAULT_TILING): MatmulTiling {
  if (base.kind !== 'blocked') return base;
  const fit = (size: number, block: number) => Math.min(block, 2 ** Math.ceil(Math.log2(Math.max(1, size))));
  return { ...base, tm: fit(m, base.tm), tn: fit(n, base.tn) };
}

/** Workgroups of an m×n product with the tiling chosen for its shape (what a split is planned against). */
export function matmulWorkgroups(m: number, n: number): number {
  const t = tilingFor(m, n);
  return t.kind === 'shared'
    ? Math.ceil(n / t.tile) * Math.ceil(m / t.tile)
    : Math.ceil(n / (t.tn * t.wgx)) * Math.ceil(m / (t.tm * t.wgy));
}

/** How the kernel reads A and B (row, column of op(A)/op(B)) and writes C. */
export interface MatmulAccess {
  readonly a: (row: string, col: string) => string;
  readonly b: (row: string, col: string) => string;
  /** A statement storing `value` at C[row, col]; where epilogues apply. */
  readonly store: (row: string, col: string, value: string) => string;
}

/** Element (r, c) of op(X) for X stored row-major with `cols` columns (before transposition). */
export function operandAt(
  name: string,
  trans: boolean,
  rows: number,
  cols: number,
): (r: string, c: string) => string {
  // op(X) is rows×cols; X itself is cols×rows when transposed.
  return trans
    ? (r, c) => `${name}[(${c}) * ${rows}u + ${r}]`
    : (r, c) => `${name}[(${r}) * ${cols}u + ${c}]`;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function blockedBody(
  s: MatmulShape,
  t: Extract<MatmulTiling, { kind: 'blocked' }>,
  io: MatmulAccess,
): { code: string; workgroups: [number, number, number] } {
  const { tm, tn } = t;
  const rows = range(tm);
  const cols = range(tn);
  const lines = [
    `@compute @workgroup_size(${t.wgx}, ${t.wgy})`,
    'fn main(@builtin(global_invocation_id) gid: vec3<u32>) {',
    ...((s.batch ?? 1) > 1 ? ['  let batch = gid.z;'] : []),
    `  let row0 = gid.y * ${tm}u;`,
    `  let col0 = gid.x * ${tn}u;`,
    `  if (row0 >= ${s.m}u || col0 >= ${s.n}u) { return; }`,
    // Loads use clamped indices so edge blocks read valid memory; stores are masked.
    ...rows.map((i) => `  let r${i} = min(row0 + ${i}u, ${s.m - 1}u);`),
    ...cols.map((j) => `  let c${j} = min(col0 + ${j}u, ${s.n - 1}u);`),
    ...rows.flatMap((i) => cols.map((j) => `  var acc${i}_${j} = 0.0;`)),
    `  for (var k = 0u; k < ${s.k}u; k++) {`,
    ...rows.map((i) => `    let a${i} = ${io.a(`r${i}`, 'k')};`),
    ...cols.map((j) => `    let b${j} = ${io.b('k', `c${j}`)};`),
    ...rows.flatMap((i) => cols.map((j) => `    acc${i}_${j} = fma(a${i}, b${j}, acc${i}_${j});`)),
    '  }',
    ...rows.flatMap((i) =>
      cols.map(
        (j) =>
          `  if (row0 + ${i}u < ${s.m}u && col0 + ${j}u < ${s.n}u) { ${io.store(`row0 + ${i}u`, `col0 + ${j}u`, `acc${i}_${j}`)} }`,
      ),
    ),
    '}',
  ];
  const workgroups: [number, number, number] = [
    Math.ceil(s.n / (tn * t.wgx)),
    Math.ceil(s.m / (tm * t.wgy)),
    s.batch ?? 1,
  ];
  return { code: lines.join('\n'), workgroups };
}

function sharedBody(
  s: MatmulShape,
  tile: number,
  io: MatmulAccess,
): { code: string; workgroups: [number, number, number] } {
  const code = `var<workgroup> tileA: array<array<f32, ${tile}>, ${tile}>;
var<workgroup> tileB: array<array<f32, ${tile}>, ${tile}>;

@compute @workgroup_size(${tile}, ${tile})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {${(s.batch ?? 1) > 1 ? '\n  let batch = wg.z;' : ''}
  let row = wg.y * ${tile}u + lid.y;
  let col = wg.x * ${tile}u + lid.x;
  let rowC = min(row, ${s.m - 1}u);
  let colC = min(col, ${s.n - 1}u);
  var acc = 0.0;
  for (var t = 0u; t < ${s.k}u; t += ${tile}u) {
    let ak = min(t + lid.x, ${s.k - 1}u);
    let bk = min(t + lid.y, ${s.k - 1}u);
    tileA[lid.y][lid.x] = select(0.0, ${io.a('rowC', 'ak')}, t + lid.x < ${s.k}u);
    tileB[lid.y][lid.x] = select(0.0, ${io.b('bk', 'colC')}, t + lid.y < ${s.k}u);
    workgroupBarrier();
    for (var j = 0u; j < ${tile}u; j++) {
      acc = fma(tileA[lid.y][j], tileB[j][lid.x], acc);
    }
    workgroupBarrier();
  }
  if (row < ${s.m}u && col < ${s.n}u) {
    ${io.store('row', 'col', 'acc')}
  }
}`;
  return { code, workgroups: [Math.ceil(s.n / tile), Math.ceil(s.m / tile), s.batch ?? 1] };
}

/** The compute entry point of a matmul with the given tiling. */
export function matmulMain(
  s: MatmulShape,
  t: MatmulTiling,
  io: MatmulAccess,
): { code: string; workgroups: [number, number, number] } {
  return t.kind === 'shared' ? sharedBody(s, t.tile, io) : blockedBody(s, t, io);
}
