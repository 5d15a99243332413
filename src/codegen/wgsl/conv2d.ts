/**
 * The `conv2d` kernel kind: conv2d and its two gradients as implicit GEMMs over NHWC images and
 * HWIO filters, never materialising the patch matrix. Each invocation accumulates a TM×TN
 * register block of the output (rows: pixels or filter taps; columns: channels) straight from
 * storage with no barriers, as the matmul's `blocked` tiling, which suits CPU-like adapters.
 * The reduction loops are nested per window axis, so no division sits in the inner loop.
 * The GPU tiles (`gpu`, a kernel variant) run the same GEMMs through the matmul's `staged`
 * tiling, the patches gathered element by element as they are staged in workgroup memory.
 */
import type { Conv2dParams, Node } from '../../ir/graph.js';
import type { Tiles } from '../../runtime/spec.js';
import { type MatmulShape, gpuTilingFor, matmulMain, tilingNeeds } from './matmul.js';
import { type GeneratedKernel, type Operands, type WorkgroupNeeds, shapeOf } from './operands.js';

const TM = 8;
const TN = 8;
/** Invocations per workgroup, laid out to fit the columns (see {@link workgroupShape}). */
const WG_SIZE = 64;

/**
 * The workgroup's columns × rows of invocations: as many column blocks as the output has
 * (up to 8), the rest of the 64 on rows, so that a layer of 32 channels does not leave half of
 * every workgroup idle past the last column. On lavapipe, whose lanes load one by one anyway,
 * this measured no different (the CNN's input gradient: 35.7–38.3 ms before, 27.0–49.6 after,
 * loaded machine); it is for GPUs, where an idle lane holds a SIMD slot.
 */
function workgroupShape(n: number): [number, number] {
  const blocks = Math.ceil(n / TN);
  let x = 1;
  while (x < blocks && x < 8) x *= 2;
  return [x, WG_SIZE / x];
}

/** Workgroups of a convolution GEMM of m×n outputs (what a split is planned against). */
export function convWorkgroups(m: number, n: number): number {
  const [wgx, wgy] = workgroupShape(n);
  return Math.ceil(n / (TN * wgx)) * Math.ceil(m / (TM * wgy));
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

interface Block {
  /** Output rows and columns of the GEMM. */
  readonly m: number;
  readonly n: number;
  /** Statements run once per row `i` (clamped row `r${i}`), defining what the loads need. */
  readonly rowSetup: (i: number) => string[];
  /** The reduction loops around the body, outermost first, as `for (…) {` openers. */
  readonly loops: readonly string[];
  /** Statements per row just inside the next-to-innermost loop (hoisted out of the innermost). */
  readonly perTap?: (i: number) => string[];
  /** Statements per row at the top of the innermost loop. */
  readonly inner?: (i: number) => string[];
  readonly a: (i: number) => string;
  readonly b: (j: number) => string;
  /** Partial products, one per workgroup layer `gid.z`, each stored m·n apart (1 when absent). */
  readonly slices?: number;
}

/** A blocked GEMM main: row block `gid.y`, column block `gid.x`, masked stores. */
function blockedMain(blk: Block): { code: string; workgroups: [number, number, number] } {
  const rows = range(TM);
  const cols = range(TN);
  const ind = (depth: number) => '  '.repeat(depth + 1);
  const depth = blk.loops.length;
  const [wgx, wgy] = workgroupShape(blk.n);
  const lines = [
    `@compute @workgroup_size(${wgx}, ${wgy})`,
    'fn main(@builtin(global_invocation_id) gid: vec3<u32>) {',
    ...(blk.slices !== undefined ? [`  let slab = gid.z * ${blk.m * blk.n}u;`] : []),
    `  let row0 = gid.y * ${TM}u;`,
    `  let col0 = gid.x * ${TN}u;`,
    `  if (row0 >= ${blk.m}u || col0 >= ${blk.n}u) { return; }`,
    ...rows.map((i) => `  let r${i} = min(row0 + ${i}u, ${blk.m - 1}u);`),
    ...cols.map((j) => `  let c${j} = min(col0 + ${j}u, ${blk.n - 1}u);`),
    ...rows.flatMap((i) => blk.rowSetup(i).map((l) => `  ${l}`)),
    ...rows.flatMap((i) => cols.map((j) => `  var acc${i}_${j} = 0.0;`)),
    ...blk.loops.slice(0, -1).map((l, d) => `${ind(d)}${l}`),
    ...rows.flatMap((i) => (blk.perTap?.(i) ?? []).map((l) => `${ind(depth - 1)}${l}`)),
    `${ind(depth - 1)}${blk.loops[depth - 1]}`,
    ...rows.flatMap((i) => (blk.inner?.(i) ?? []).map((l) => `${ind(depth)}${l}`)),
    ...rows.map((i) => `${ind(depth)}let a${i} = ${blk.a(i)};`),
    ...cols.map((j) => `${ind(depth)}let b${j} = ${blk.b(j)};`),
    ...rows.flatMap((i) => cols.map((j) => `${ind(depth)}acc${i}_${j} = fma(a${i}, b${j}, acc${i}_${j});`)),
    ...blk.loops.map((_, d) => `${ind(depth - 1 - d)}}`),
    ...rows.flatMap((i) =>
      cols.map(
        (j) =>
          `  if (row0 + ${i}u < ${blk.m}u && col0 + ${j}u < ${blk.n}u) { out[${blk.slices !== undefined ? 'slab + ' : ''}(row0 + ${i}u) * ${blk.n}u + col0 + ${j}u] = acc${i}_${j}; }`,
      ),
    ),
    '}',
  ];
  return {
    code: lines.join('\n'),
    workgroups: [Math.ceil(blk.n / (TN * wgx)), Math.ceil(blk.m / (TM * wgy)), blk.slices ?? 1],
  };
}

interface Geometry {
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly oh: number;
  readonly ow: number;
  readonly o: number;
  readonly kh: number;
  readonly kw: number;
  readonly p: Conv2dParams;
}

/** y = conv2d(x, w): rows are output pixels (n, oy, ox), columns output channels, reduction (ky, kx, ci). */
function forward(ops: Operands, g: Geometry): Block {
  const { h, w, c, oh, ow, o, kh, kw, p } = g;
  return {
    m: g.n * oh * ow,
    n: o,
    rowSetup: (i) => [
      `let oy${i} = i32((r${i} / ${ow}u) % ${oh}u) * ${p.strides[0]} - ${p.pad[0]};`,
      `let ox${i} = i32(r${i} % ${ow}u) * ${p.strides[1]} - ${p.pad[1]};`,
      `let img${i} = (r${i} / ${oh * ow}u) * ${h * w * c}u;`,
    ],
    loops: [
      `for (var ky = 0; ky < ${kh}; ky++) {`,
      `for (var kx = 0; kx < ${kw}; kx++) {`,
      `for (var ci = 0u; ci < ${c}u; ci++) {`,
    ],
    // The tap's bounds check and address, once per (ky, kx) rather than per channel.
    perTap: (i) => [
      ...(i === 0 ? [`let wtap = u32(ky * ${kw} + kx) * ${c}u;`] : []),
      `let iy${i} = oy${i} + ky * ${p.dilation[0]};`,
      `let ix${i} = ox${i} + kx * ${p.dilation[1]};`,
      `let ok${i} = iy${i} >= 0 && iy${i} < ${h} && ix${i} >= 0 && ix${i} < ${w};`,
      `let at${i} = img${i} + (u32(max(iy${i}, 0)) * ${w}u + u32(max(ix${i}, 0))) * ${c}u;`,
    ],
    a: (i) => `select(0.0, ${ops.load(0, `at${i} + ci`)}, ok${i})`,
    b: (j) => ops.load(1, `(wtap + ci) * ${o}u + c${j}`),
  };
}

/** dx = conv2d_input_grad(g, w): rows are input pixels, columns input channels, reduction (ky, kx, o). */
function inputGrad(ops: Operands, g: Geometry): Block {
  const { h, w, c, oh, ow, o, kh, kw, p } = g;
  const [sh, sw] = p.strides;
  // Output row oy reads input row iy through tap ky when oy·s + ky·d − pt = iy.
  const tap = (v: string, i: number, k: string, s: number, d: number, pad: number, lim: number) => [
    `let t${v}${i} = ${v}${i} + ${pad} - ${k} * ${d};`,
    `let q${v}${i} = t${v}${i} / ${s};`,
    `let ok${v}${i} = t${v}${i} >= 0 && t${v}${i} % ${s} == 0 && q${v}${i} < ${lim};`,
  ];
  return {
    m: g.n * h * w,
    n: c,
    rowSetup: (i) => [
      `let y${i} = i32((r${i} / ${w}u) % ${h}u);`,
      `let x${i} = i32(r${i} % ${w}u);`,
      `let img${i} = (r${i} / ${h * w}u) * ${oh * ow * o}u;`,
    ],
    loops: [
      `for (var ky = 0; ky < ${kh}; ky++) {`,
      `for (var kx = 0; kx < ${kw}; kx++) {`,
      `for (var oc = 0u; oc < ${o}u; oc++) {`,
    ],
    perTap: (i) => [
      ...(i === 0 ? [`let wtap = u32(ky * ${kw} + kx) * ${c}u;`] : []),
      ...tap('y', i, 'ky', sh, p.dilation[0], p.pad[0], oh),
      ...tap('x', i, 'kx', sw, p.dilation[1], p.pad[1], ow),
      `let ok${i} = oky${i} && okx${i};`,
      `let at${i} = img${i} + (u32(max(qy${i}, 0)) * ${ow}u + u32(max(qx${i}, 0))) * ${o}u;`,
    ],
    a: (i) => `select(0.0, ${ops.load(0, `at${i} + oc`)}, ok${i})`,
    b: (j) => ops.load(1, `(wtap + c${j}) * ${o}u + oc`),
  };
}

/**
 * dw = conv2d_filter_grad(x, g): rows are filter taps (ky, kx, ci), columns output channels,
 * reduction (n, oy, ox). When the channels are a multiple of the block, a block's rows are one
 * tap's consecutive channels, so the bounds check and address are computed once for all rows.
 * Split into S slices, workgroup layer z sums the (n, oy) pairs of slice z (sliceStart).
 */
function filterGrad(ops: Operands, g: Geometry, slices: number | undefined): Block {
  const { h, w, c, oh, ow, o, kw, p } = g;
  const shared = c % TM === 0;
  const lead = (i: number) => (shared ? 0 : i);
  const pairs = g.n * oh;
  // Slice z's pairs [⌊z·T/S⌋, ⌊(z+1)·T/S⌋): as sliceStart (src/ir/graph.ts).
  const pairLoops =
    slices === undefined
      ? [`for (var b = 0u; b < ${g.n}u; b++) {`, `for (var oy = 0; oy < ${oh}; oy++) {`]
      : [
          `for (var t = (gid.z * ${pairs}u) / ${slices}u; t < ((gid.z + 1u) * ${pairs}u) / ${slices}u; t++) {`,
        ];
  const pairSetup = slices === undefined ? [] : [`let b = t / ${oh}u;`, `let oy = i32(t % ${oh}u);`];
  return {
    ...(slices !== undefined && { slices }),
    m: g.kh * kw * c,
    n: o,
    rowSetup: (i) =>
      shared && i > 0
        ? []
        : [
            `let ci${i} = r${i} % ${c}u;`,
            `let dy${i} = i32(r${i} / ${kw * c}u) * ${p.dilation[0]} - ${p.pad[0]};`,
            `let dx${i} = i32((r${i} / ${c}u) % ${kw}u) * ${p.dilation[1]} - ${p.pad[1]};`,
          ],
    loops: [...pairLoops, `for (var ox = 0; ox < ${ow}; ox++) {`],
    perTap: (i) => [
      ...(i === 0 ? pairSetup : []),
      ...(shared && i > 0
        ? []
        : [`let iy${i} = oy * ${p.strides[0]} + dy${i};`, `let oky${i} = iy${i} >= 0 && iy${i} < ${h};`]),
    ],
    inner: (i) => [
      ...(i === 0 ? [`let gat = ((b * ${oh}u + u32(oy)) * ${ow}u + u32(ox)) * ${o}u;`] : []),
      ...(shared && i > 0
        ? []
        : [
            `let ix${i} = ox * ${p.strides[1]} + dx${i};`,
            `let ok${i} = oky${i} && ix${i} >= 0 && ix${i} < ${w};`,
            `let at${i} = b * ${h * w * c}u + (u32(max(iy${i}, 0)) * ${w}u + u32(max(ix${i}, 0))) * ${c}u + ci${i};`,
          ]),
    ],
    a: (i) => `select(0.0, ${ops.load(0, shared ? `at0 + ${i}u` : `at${i}`)}, ok${lead(i)})`,
    b: (j) => ops.load(1, `gat + c${j}`),
  };
}

/**
 * The statements of a gather function: `zero` returned in the padding, `read(offset)` the load of
 * the operand at an element offset (one element, or the quad starting there).
 */
type Gather = (zero: string, read: (offset: string) => string) => string[];

/**
 * A convolution as the GEMM the GPU tiles compute: gathers of op(A) (source 0) and op(B) (source
 * 1) as WGSL functions (the padding, stride and dilation checks live there, so the matmul's
 * staged tiling runs them unchanged), and which axis each operand is stored contiguous along, in
 * the matmul's terms, so that a staged tile's quads follow the memory.
 */
interface ImplicitGemm {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transA: boolean;
  readonly transB: boolean;
  /** Element (r, k) of op(A) as `fn convA(r: u32, k: u32) -> f32`, 0 in the padding. */
  readonly a: Gather;
  /** Element (k, col) of op(B) as `fn convB(k: u32, col: u32) -> f32`. */
  readonly b: Gather;
  /**
   * Whether every quad of 4 along the operand's contiguous axis that starts at a multiple of 4 is
   * one aligned vec4 in memory, inside or outside the padding as a whole (one tap's channels, a
   * channel count that is a multiple of 4): the gather then reads it as one vec4.
   */
  readonly alignedA: boolean;
  readonly alignedB: boolean;
  readonly slices?: number;
}

/** The forward as a GEMM: A the patches (contiguous in k over channels), B the filter as a k×o matrix. */
function forwardGemm(g: Geometry): ImplicitGemm {
  const { h, w, c, oh, ow, o, kh, kw, p } = g;
  return {
    m: g.n * oh * ow,
    n: o,
    k: kh * kw * c,
    transA: false,
    transB: false,
    a: (zero, read) => [
      `let oy = i32((r / ${ow}u) % ${oh}u) * ${p.strides[0]} - ${p.pad[0]};`,
      `let ox = i32(r % ${ow}u) * ${p.strides[1]} - ${p.pad[1]};`,
      `let tap = k / ${c}u;`,
      `let iy = oy + i32(tap / ${kw}u) * ${p.dilation[0]};`,
      `let ix = ox + i32(tap % ${kw}u) * ${p.dilation[1]};`,
      `if (iy < 0 || iy >= ${h} || ix < 0 || ix >= ${w}) { return ${zero}; }`,
      `return ${read(`(r / ${oh * ow}u) * ${h * w * c}u + (u32(iy) * ${w}u + u32(ix)) * ${c}u + k % ${c}u`)};`,
    ],
    b: (_, read) => [`return ${read(`k * ${o}u + col`)};`],
    alignedA: c % 4 === 0,
    alignedB: o % 4 === 0,
  };
}

/** The input gradient: A the output gradient at the pixels a tap reaches, B the filter read as (tap, o)×c. */
function inputGradGemm(g: Geometry): ImplicitGemm {
  const { h, w, c, oh, ow, o, kh, kw, p } = g;
  const [sh, sw] = p.strides;
  return {
    m: g.n * h * w,
    n: c,
    k: kh * kw * o,
    transA: false,
    transB: true,
    a: (zero, read) => [
      `let tap = k / ${o}u;`,
      // Output row oy reads input row y through tap ky when oy·s + ky·d − pt = y.
      `let ty = i32((r / ${w}u) % ${h}u) + ${p.pad[0]} - i32(tap / ${kw}u) * ${p.dilation[0]};`,
      `let tx = i32(r % ${w}u) + ${p.pad[1]} - i32(tap % ${kw}u) * ${p.dilation[1]};`,
      `if (ty < 0 || tx < 0 || ty % ${sh} != 0 || tx % ${sw} != 0) { return ${zero}; }`,
      `let qy = u32(ty / ${sh});`,
      `let qx = u32(tx / ${sw});`,
      `if (qy >= ${oh}u || qx >= ${ow}u) { return ${zero}; }`,
      `return ${read(`(r / ${h * w}u) * ${oh * ow * o}u + (qy * ${ow}u + qx) * ${o}u + k % ${o}u`)};`,
    ],
    b: (_, read) => [`return ${read(`((k / ${o}u) * ${c}u + col) * ${o}u + k % ${o}u`)};`],
    alignedA: o % 4 === 0,
    alignedB: o % 4 === 0,
  };
}

/**
 * The filter gradient: rows the taps (ky, kx, ci), k the (image, output row, column) triples, A
 * the patches read along the channels, B the output gradient as a k×o matrix. Split into S
 * slices, layer z's k runs over the columns of its (image, row) pairs (sliceStart): k counts
 * from the slice's first pair, and beyond its last reads 0, as slices differ by up to one pair.
 */
function filterGradGemm(g: Geometry, slices: number | undefined): ImplicitGemm {
  const { h, w, c, oh, ow, o, kh, kw, p } = g;
  const pairs = g.n * oh;
  const sliced = slices !== undefined;
  const kLocal = (zero: string) =>
    sliced
      ? [
          `let first = (z * ${pairs}u) / ${slices}u * ${ow}u;`,
          `let k = first + kz;`,
          `if (k >= ((z + 1u) * ${pairs}u) / ${slices}u * ${ow}u) { return ${zero}; }`,
        ]
      : [];
  return {
    m: kh * kw * c,
    n: o,
    k: (sliced ? Math.ceil(pairs / slices) : pairs) * ow,
    transA: true,
    transB: false,
    ...(sliced && { slices }),
    a: (zero, read) => [
      ...kLocal(zero),
      `let t = k / ${ow}u;`,
      `let iy = i32(t % ${oh}u) * ${p.strides[0]} + i32(r / ${kw * c}u) * ${p.dilation[0]} - ${p.pad[0]};`,
      `let ix = i32(k % ${ow}u) * ${p.strides[1]} + i32((r / ${c}u) % ${kw}u) * ${p.dilation[1]} - ${p.pad[1]};`,
      `if (iy < 0 || iy >= ${h} || ix < 0 || ix >= ${w}) { return ${zero}; }`,
      `return ${read(`(t / ${oh}u) * ${h * w * c}u + (u32(iy) * ${w}u + u32(ix)) * ${c}u + r % ${c}u`)};`,
    ],
    b: (zero, read) => [...kLocal(zero), `return ${read(`k * ${o}u + col`)};`],
    alignedA: c % 4 === 0,
    alignedB: o % 4 === 0,
  };
}

/**
 * The GPU tiles of a convolution: its implicit GEMM through the matmul's `staged` tiling
 * (workgroup-memory tiles of A and B, 4×4 outputs per invocation, 64- or 32-wide output tiles),
 * each operand gathered as it is staged: by vec4 where its quads are aligned, else element by
 * element. Slices are the layers in z, each storing its partial m·n apart, as the
 * register-blocked kernel does.
 */
function stagedConv(
  ops: Operands,
  gemm: ImplicitGemm,
): { code: string; workgroups: [number, number, number]; needs: WorkgroupNeeds } {
  const sliced = gemm.slices !== undefined;
  const kName = sliced ? 'kz' : 'k';
  // The staged tiling names the layer in z `batch`, where it has more than one.
  const layer = (gemm.slices ?? 1) > 1 ? 'batch' : '0u';
  const z = sliced ? `, ${layer}` : '';
  const params = { A: `r: u32, ${kName}: u32`, B: `${kName}: u32, col: u32` };
  const fns: string[] = [];
  const define = (name: string, ret: string, args: string, body: string[]) =>
    fns.push(
      [`fn ${name}(${args}${sliced ? ', z: u32' : ''}) -> ${ret} {`, ...body.map((l) => `  ${l}`), '}'].join(
        '\n',
      ),
    );
  // Vectorised first: a vec4 binding changes how the element gathers read it too.
  const quadA = gemm.alignedA && ops.vectorize(0);
  const quadB = gemm.alignedB && ops.vectorize(1);
  // convA/convB gather one element of an operand, convA4/convB4 (where aligned) a quad.
  for (const [name, operand, quad] of [
    ['A', 0, quadA],
    ['B', 1, quadB],
  ] as const) {
    const gather = name === 'A' ? gemm.a : gemm.b;
    define(
      `conv${name}`,
      'f32',
      params[name],
      gather('0.0', (at) => ops.load(operand, at)),
    );
    if (quad)
      define(
        `conv${name}4`,
        'vec4<f32>',
        params[name],
        gather('vec4<f32>(0.0)', (at) => ops.quad(operand, at)),
      );
  }
  const shape: MatmulShape = {
    ...(sliced && { batch: gemm.slices }),
    m: gemm.m,
    n: gemm.n,
    k: gemm.k,
    transA: gemm.transA,
    transB: gemm.transB,
  };
  const tiling = gpuTilingFor(gemm.m, gemm.n);
  const slab = sliced ? `${layer} * ${gemm.m * gemm.n}u + ` : '';
  const main = matmulMain(shape, tiling, {
    a: (r, k) => `convA(${r}, ${k}${z})`,
    b: (k, col) => `convB(${k}, ${col}${z})`,
    ...(quadA && { a4: (r: string, k: string) => `convA4(${r}, ${k}${z})` }),
    ...(quadB && { b4: (k: string, col: string) => `convB4(${k}, ${col}${z})` }),
    store: (r, col, v) => `out[${slab}(${r}) * ${gemm.n}u + ${col}] = ${v};`,
  });
  return { code: [...fns, main.code].join('\n\n'), workgroups: main.workgroups, needs: tilingNeeds(tiling) };
}

type ConvOp = 'conv2d' | 'conv2d_input_grad' | 'conv2d_filter_grad';

function geometryOf(ops: Operands, node: Node<ConvOp>): Geometry {
  const p = node.params;
  if (node.op === 'conv2d') {
    const [n, h, w, c] = ops.shape(0);
    const [kh, kw, , o] = ops.shape(1);
    const [, oh, ow] = shapeOf(node);
    return { n: n!, h: h!, w: w!, c: c!, oh: oh!, ow: ow!, o: o!, kh: kh!, kw: kw!, p };
  }
  if (node.op === 'conv2d_input_grad') {
    const [n, oh, ow, o] = ops.shape(0);
    const [kh, kw, c] = ops.shape(1);
    const [, h, w] = shapeOf(node);
    return { n: n!, h: h!, w: w!, c: c!, oh: oh!, ow: ow!, o: o!, kh: kh!, kw: kw!, p };
  }
  const [n, h, w, c] = ops.shape(0);
  const [, oh, ow, o] = ops.shape(1);
  const [kh, kw] = (node as Node<'conv2d_filter_grad'>).params.kernelHW;
  return { n: n!, h: h!, w: w!, c: c!, oh: oh!, ow: ow!, o: o!, kh: kh!, kw: kw!, p };
}

/** A convolution kernel: the register blocks (`cpu`, the default) or the GPU tiles (`gpu`). */
export function conv2dKernel(ops: Operands, node: Node<ConvOp>, tiles: Tiles = 'cpu'): GeneratedKernel {
  const geometry = geometryOf(ops, node);
  const slices =
    node.op === 'conv2d_filter_grad' ? (node as Node<'conv2d_filter_grad'>).params.slices : undefined;
  let main: { code: string; workgroups: [number, number, number]; needs?: WorkgroupNeeds };
  if (tiles === 'gpu') {
    const gemm =
      node.op === 'conv2d'
        ? forwardGemm(geometry)
        : node.op === 'conv2d_input_grad'
          ? inputGradGemm(geometry)
          : filterGradGemm(geometry, slices);
    main = stagedConv(ops, gemm);
  } else {
    const block =
      node.op === 'conv2d'
        ? forward(ops, geometry)
        : node.op === 'conv2d_input_grad'
          ? inputGrad(ops, geometry)
          : filterGrad(ops, geometry, slices);
    main = blockedMain(block);
  }
  return {
    name: node.op,
    wgsl: `${ops.header()}\n\n${main.code}\n`,
    buffers: ops.buffers,
    access: ops.access(),
    workgroups: main.workgroups,
    ...(main.needs && { needs: main.needs }),
  };
}
