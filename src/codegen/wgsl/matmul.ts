/**
 * The `matmul` kernel kind: C = op(A)·op(B) with transposed operands read in place (no
 * transpose kernels). Three tilings: `blocked` has each invocation accumulate a TM×TN register
 * block straight from storage with no barriers (good on CPU-like adapters such as lavapipe,
 * where barriers are expensive); `staged` (the GPU tiles) stages tiles of A and B through
 * workgroup memory with vec4 loads, each invocation a 4×4 block of a 4·wg-square output tile;
 * `shared` is the plain one-output-per-invocation 16×16 staging, kept as a reference.
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
    }
  | {
      readonly kind: 'staged';
      /** Invocations per side of the square workgroup; the output tile is 4·wg on a side. */
      readonly wg: number;
      /** The K step: depth of one staged tile, a multiple of `wg` (whole vec4 quads per invocation). */
      readonly bk: number;
    };

/** Each invocation of the `staged` tiling computes this many rows and columns of C. */
const STAGED_BLOCK = 4;

/** The tiling used when nothing better is known: measured fastest on lavapipe for MLP shapes. */
export const DEFAULT_TILING: MatmulTiling = { kind: 'blocked', tm: 8, tn: 8, wgx: 4, wgy: 16 };

/**
 * The register blocks keep at least this many workgroups where the output allows: a CPU-like
 * adapter runs a workgroup per core thread (lavapipe's profile: 16), and a product that leaves
 * cores idle would otherwise be split in K (src/ir/passes/split.ts) at the cost of a kernel.
 */
const CPU_TILES_MIN_WORKGROUPS = 16;
/** Rows of invocations a register-blocked workgroup keeps at least: 4 × 4 = two 8-wide SIMD groups. */
const CPU_TILES_MIN_ROWS = 4;

/**
 * The register blocks for an m×n product: the block shrunk for small outputs, so a 4×3 product
 * is not computed as 8×4, and fewer rows of invocations per workgroup while that gives a grid
 * too small for the adapter more row blocks (100 rows, 256 columns: 8 → 16 workgroups).
 */
export function tilingFor(m: number, n: number, base: MatmulTiling = DEFAULT_TILING): MatmulTiling {
  if (base.kind !== 'blocked') return base;
  const fit = (size: number, block: number) => Math.min(block, 2 ** Math.ceil(Math.log2(Math.max(1, size))));
  let t = { ...base, tm: fit(m, base.tm), tn: fit(n, base.tn) };
  const rowBlocks = (wgy: number) => Math.ceil(m / (t.tm * wgy));
  while (
    t.wgy / 2 >= CPU_TILES_MIN_ROWS &&
    rowBlocks(t.wgy) * Math.ceil(n / (t.tn * t.wgx)) < CPU_TILES_MIN_WORKGROUPS &&
    rowBlocks(t.wgy / 2) > rowBlocks(t.wgy)
  )
    t = { ...t, wgy: t.wgy / 2 };
  return t;
}

/** Workgroups of an m×n product in tiling `t` (by default the one chosen for its shape: what a split is planned against). */
export function matmulWorkgroups(m: number, n: number, t: MatmulTiling = tilingFor(m, n)): number {
  if (t.kind === 'staged') return Math.ceil(n / (STAGED_BLOCK * t.wg)) * Math.ceil(m / (STAGED_BLOCK * t.wg));
  return t.kind === 'shared'
    ? Math.ceil(n / t.tile) * Math.ceil(m / t.tile)
    : Math.ceil(n / (t.tn * t.wgx)) * Math.ceil(m / (t.tm * t.wgy));
}

/**
 * The GPU tiles: 64×64 output tiles (16×16 invocations of 4×4) stepping K by 16, or 32×32 tiles
 * (8×8 invocations) when the output is small, so that a 10-column layer does not run 54 idle
 * columns per tile.
 */
export function gpuTilingFor(m: number, n: number): MatmulTiling {
  return Math.max(m, n) <= 32 ? { kind: 'staged', wg: 8, bk: 8 } : { kind: 'staged', wg: 16, bk: 16 };
}

/** Workgroup memory and invocations a tiling's workgroup uses (for the adapter's limits). */
export function tilingNeeds(t: MatmulTiling): { workgroupBytes: number; invocations: number } {
  if (t.kind === 'staged') return { workgroupBytes: 2 * t.bk * t.wg * 16, invocations: t.wg * t.wg };
  if (t.kind === 'shared') return { workgroupBytes: 2 * t.tile * t.tile * 4, invocations: t.tile * t.tile };
  return { workgroupBytes: 0, invocations: t.wgx * t.wgy };
}

/** How the kernel reads A and B (row, column of op(A)/op(B)) and writes C. */
export interface MatmulAccess {
  readonly a: (row: string, col: string) => string;
  readonly b: (row: string, col: string) => string;
  /**
   * Four elements of op(A) from (row, col) on as a vec4, along the axis A is stored contiguous in
   * (rows of op(A) when transposed, else columns); given only when every such run that starts at
   * a multiple of 4 is 16-byte aligned, i.e. A's stored rows are a multiple of 4 long. The
   * `staged` tiling reads with it where given, else element by element.
   */
  readonly a4?: (row: string, col: string) => string;
  /** The same for op(B): along its columns when not transposed, else along its rows. */
  readonly b4?: (row: string, col: string) => string;
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

/**
 * One operand's side of the staged tiling. Both tiles are stored in workgroup memory as
 * [k][outer / 4] vec4s (outer: rows of C for A, columns for B), so that the inner loop reads one
 * vec4 of A and one of B per k for 16 multiply-adds.
 */
interface StagedOperand {
  readonly tile: string;
  /** First row (A) or column (B) of C of this workgroup's tile. */
  readonly origin: string;
  /** Rows of op(A) or columns of op(B). */
  readonly outer: number;
  /** Whether the operand is stored contiguous along `outer` (Aᵀ, B) or along k (A, Bᵀ). */
  readonly alongOuter: boolean;
  /** Element and quad readers of op(X) at (outer, k). */
  readonly at: (o: string, k: string) => string;
  readonly quad?: (o: string, k: string) => string;
}

/**
 * Statements that load this invocation's share of one K step of `x` into its tile: whole quads
 * of 4 consecutive stored elements, zeros beyond the edges. Clamped indices keep edge reads in
 * bounds; a guarded vec4 where the operand is aligned, four guarded scalars where it is not.
 */
function stageLoads(
  x: StagedOperand,
  s: MatmulShape,
  t: Extract<MatmulTiling, { kind: 'staged' }>,
): string[] {
  const { wg, bk } = t;
  const invocations = wg * wg;
  const quadsPerInvocation = bk / wg;
  const lines: string[] = [];
  for (let q = 0; q < quadsPerInvocation; q++) {
    const flat = q === 0 ? 'lt' : `lt + ${q * invocations}u`;
    lines.push('  {');
    // Along outer: bk rows of wg quads. Along k: 4·wg rows of bk/4 quads.
    const [o, kk] = x.alongOuter
      ? [`(${flat} % ${wg}u) * 4u`, `(${flat}) / ${wg}u`]
      : [`(${flat}) / ${bk / 4}u`, `((${flat}) % ${bk / 4}u) * 4u`];
    lines.push(`    let o = ${o};`, `    let kk = ${kk};`);
    lines.push(`    let go = ${x.origin} + o;`, '    let gk = k0 + kk;');
    const oLast = `${x.outer - 1}u`;
    const kLast = `${s.k - 1}u`;
    let value: string;
    if (x.quad) {
      // The operand is aligned: a quad is all inside or all outside, and starts at a multiple of 4.
      const [oq, kq] = x.alongOuter ? [`${x.outer - 4}u`, kLast] : [oLast, `${s.k - 4}u`];
      value = `select(vec4<f32>(0.0), ${x.quad(`min(go, ${oq})`, `min(gk, ${kq})`)}, go < ${x.outer}u && gk < ${s.k}u)`;
    } else {
      const element = (c: number) => {
        const [oc, kc] = x.alongOuter ? [`go + ${c}u`, 'gk'] : ['go', `gk + ${c}u`];
        return `select(0.0, ${x.at(`min(${oc}, ${oLast})`, `min(${kc}, ${kLast})`)}, ${oc} < ${x.outer}u && ${kc} < ${s.k}u)`;
      };
      value = `vec4<f32>(${range(4).map(element).join(', ')})`;
    }
    lines.push(`    let v = ${value};`);
    if (x.alongOuter) lines.push(`    ${x.tile}[kk * ${wg}u + o / 4u] = v;`);
    else
      lines.push(...range(4).map((c) => `    ${x.tile}[(kk + ${c}u) * ${wg}u + o / 4u][o % 4u] = v[${c}];`));
    lines.push('  }');
  }
  return lines.map((l) => '  ' + l);
}

function stagedBody(
  s: MatmulShape,
  t: Extract<MatmulTiling, { kind: 'staged' }>,
  io: MatmulAccess,
): { code: string; workgroups: [number, number, number] } {
  const { wg, bk } = t;
  if (bk % wg !== 0 || bk % 4 !== 0)
    throw new Error(`internal: staged K step ${bk} is not a multiple of ${wg}`);
  const side = wg * STAGED_BLOCK;
  const block = range(STAGED_BLOCK);
  const a: StagedOperand = {
    tile: 'tileA',
    origin: 'row0',
    outer: s.m,
    alongOuter: s.transA,
    at: (o, k) => io.a(o, k),
    ...(io.a4 && { quad: (o: string, k: string) => io.a4!(o, k) }),
  };
  const b: StagedOperand = {
    tile: 'tileB',
    origin: 'col0',
    outer: s.n,
    alongOuter: !s.transB,
    at: (o, k) => io.b(k, o),
    ...(io.b4 && { quad: (o: string, k: string) => io.b4!(k, o) }),
  };
  const lines = [
    `var<workgroup> tileA: array<vec4<f32>, ${bk * wg}>;`,
    `var<workgroup> tileB: array<vec4<f32>, ${bk * wg}>;`,
    '',
    `@compute @workgroup_size(${wg}, ${wg})`,
    'fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,',
    '        @builtin(local_invocation_index) lt: u32) {',
    ...((s.batch ?? 1) > 1 ? ['  let batch = group.z;'] : []),
    `  let row0 = group.y * ${side}u;`,
    `  let col0 = group.x * ${side}u;`,
    ...block.map((i) => `  var acc${i} = vec4<f32>(0.0);`),
    // Every invocation runs every step (no early return): the barriers need uniform control flow.
    `  for (var k0 = 0u; k0 < ${s.k}u; k0 += ${bk}u) {`,
    ...stageLoads(a, s, t),
    ...stageLoads(b, s, t),
    '    workgroupBarrier();',
    `    for (var kk = 0u; kk < ${bk}u; kk++) {`,
    `      let a = tileA[kk * ${wg}u + lid.y];`,
    `      let b = tileB[kk * ${wg}u + lid.x];`,
    ...block.map((i) => `      acc${i} = fma(vec4<f32>(a[${i}]), b, acc${i});`),
    '    }',
    '    workgroupBarrier();',
    '  }',
    `  let r = row0 + lid.y * ${STAGED_BLOCK}u;`,
    `  let c = col0 + lid.x * ${STAGED_BLOCK}u;`,
    ...block.flatMap((i) =>
      block.map(
        (j) =>
          `  if (r + ${i}u < ${s.m}u && c + ${j}u < ${s.n}u) { ${io.store(`r + ${i}u`, `c + ${j}u`, `acc${i}[${j}]`)} }`,
      ),
    ),
    '}',
  ];
  return {
    code: lines.join('\n'),
    workgroups: [Math.ceil(s.n / side), Math.ceil(s.m / side), s.batch ?? 1],
  };
}

/** The compute entry point of a matmul with the given tiling. */
export function matmulMain(
  s: MatmulShape,
  t: MatmulTiling,
  io: MatmulAccess,
): { code: string; workgroups: [number, number, number] } {
  if (t.kind === 'shared') return sharedBody(s, t.tile, io);
  if (t.kind === 'staged') return stagedBody(s, t, io);
  return blockedBody(s, t, io);
}
