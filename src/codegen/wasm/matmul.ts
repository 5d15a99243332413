/**
 * The wasm matmul: C = op(A)·op(B), then the fused epilogue at every element. Two phases:
 *  1. pack op(B) into panels of NR columns, each panel k rows of NR contiguous floats (zero past
 *     column n), so the micro-kernel streams it with NR/4 v128 loads per k whatever B's layout;
 *  2. the threads share out (batch, row macro-block, panel) items, panel innermost: a thread
 *     keeps one macro-block of op(A) (MC rows · k, sized to stay in L2) while every panel passes
 *     over it, and each panel (k · NR floats, L1) serves every MR-row block of the macro-block.
 *     With few rows (the MLP's batch of 128) the items split over the columns instead.
 * The micro-kernel holds an MR×NR register tile in MR·NR/4 f32x4 accumulators. It reads op(A)
 * in place, transposed or not, through one pointer and constant memarg offsets (rows of op(A)
 * lie at a fixed stride), and unrolls k, so a k step is loads and multiply-adds only.
 * Multiply-adds are mul+add, rewritten as relaxed FMA where the engine has it (FunctionBody.madd).
 * The epilogue of a full tile runs on the accumulators four columns at a time (vector.ts) when
 * its ops have four-lane forms; other tiles and epilogues go element by element through a
 * per-thread scratch tile.
 */
import type { Graph, Node } from '../../ir/graph.js';
import { matmulGeometry } from '../../ir/ops/matmul.js';
import { type FusedKernel, matmulOperand } from '../../ir/passes/fuse.js';
import { WASM_MAX_THREADS as MAX_THREADS } from '../../runtime/spec.js';
import { F32, type FunctionBody, I32, V128 } from './encoder.js';
import { VectorEpilogue, vectorEpilogueFits } from './vector.js';
import { FusedWriter, THREAD, type WasmContext, kernelFunction, forThreadShare } from './writer.js';
import { I32_LT_U, I32_ADD, I32_MUL, I32_DIV_U, I32_REM_U, V128_ZERO } from './opcodes.js';

/** Rows and columns of the register tile (NR a multiple of 4). */
const MR = 4;
const NR = 8;
const VECS = NR / 4;
const TILE_BYTES = MR * NR * 4;
/**
 * k steps per loop iteration of the micro-kernel. Unrolling measured slower (512³: 4 steps
 * 2× slower than 1): V8 hoists the unrolled steps' loads together and runs out of registers.
 */
const K_UNROLL = 1;
/** Bytes of op(A) one macro-block keeps in L2 (512 KiB per core on the bench machines). */
const A_BLOCK_BYTES = 256 * 1024;

interface Geometry {
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transA: boolean;
  readonly transB: boolean;
  /** Elements between consecutive batches of A, B and C (0: shared). */
  readonly strideA: number;
  readonly strideB: number;
  /** Elements between consecutive stored rows of A and B (their row length, or K for a slice view). */
  readonly leadA: number;
  readonly leadB: number;
  /** Byte addresses of A, B and C (C is only where the epilogue's index starts). */
  readonly a: number;
  readonly b: number;
}

function geometryOf(w: FusedWriter, anchor: Node<'matmul'>): Geometry {
  const g = w.g;
  const [a, b] = anchor.srcs.map((s) => g.nodes[s]!) as [Node, Node];
  const { transA, transB } = anchor.params;
  const geo = matmulGeometry(a.shape as number[], b.shape as number[], anchor.params);
  // A batch of untransposed rows times one shared B is a single product of batch·m rows.
  const fold = geo.batchedA && !geo.batchedB && !transA;
  const batch = fold ? 1 : geo.batch;
  const m = fold ? geo.batch * geo.m : geo.m;
  const { k, n } = geo;
  // A reshape in this kernel is a view of its source's buffer; a slice view strides over it.
  const [va, vb] = [matmulOperand(g, w.k, a), matmulOperand(g, w.k, b)];
  return {
    batch,
    m,
    n,
    k,
    transA,
    transB,
    strideA: batch > 1 && geo.batchedA ? (va.batchStride ?? m * k) : 0,
    strideB: batch > 1 && geo.batchedB ? (vb.batchStride ?? k * n) : 0,
    leadA: va.lead ?? (transA ? m : k),
    leadB: vb.lead ?? (transB ? k : n),
    a: w.addressOf(va.stored),
    b: w.addressOf(vb.stored),
  };
}

/**
 * Whether the micro-kernel reads B where it lies: untransposed, with whole panels (n a multiple
 * of NR), each panel row is NR contiguous floats of a row of B, so packing only copies, which
 * costs as much as a pass of the product over B when there are few rows (the CNN's dense
 * layer: 32). With more rows a packed panel pays: it stays in L1 for every row block, where
 * rows of B a power of two apart would evict each other (the MLP's 784×256 gradient ran
 * 1.5-1.9 → 2.1-2.5 ms read in place).
 */
const IN_PLACE_MAX_ROWS = 64;
const readsBInPlace = (geo: Geometry) => !geo.transB && geo.n % NR === 0 && geo.m <= IN_PLACE_MAX_ROWS;

/** Batches of packed B: one when every batch shares B. */
const packedBatches = (geo: Geometry) => (geo.strideB === 0 ? 1 : geo.batch);

/** Pushes `value() · factor` as i32. */
function times(f: FunctionBody, local: number, factor: number): FunctionBody {
  f.get(local);
  if (factor !== 1) f.i32(factor).op(I32_MUL);
  return f;
}

/** `local += delta` (i32). */
function bump(f: FunctionBody, local: number, delta: number): void {
  f.get(local).i32(delta).op(I32_ADD).set(local);
}

/** Phase 1: every thread packs its share of the batch × panel pairs. */
function packPhase(geo: Geometry, packed: number): FunctionBody {
  const f = kernelFunction();
  const { n, k, transB } = geo;
  const panels = Math.ceil(n / NR);
  const fullPanels = Math.floor(n / NR);
  const [q, z, p, kk, dst, src] = Array.from({ length: 6 }, () => f.local(I32));
  // Byte steps of op(B) between consecutive k and consecutive columns.
  const kStep = transB ? 4 : geo.leadB * 4;
  const colStep = transB ? geo.leadB * 4 : 4;
  // Any panel, element by element: zero past column n.
  const scalarPanel = () =>
    f.forRange(
      kk,
      () => f.i32(0),
      () => f.i32(k),
      () => {
        for (let j = 0; j < NR; j++) {
          f.get(dst);
          f.get(p).i32(NR).op(I32_MUL).i32(j).op(I32_ADD).i32(n).op(I32_LT_U);
          f.if(F32);
          f.get(src).loadF32(geo.b + j * colStep);
          f.else().f32(0).end();
          f.storeF32(j * 4);
        }
        bump(f, dst, NR * 4);
        bump(f, src, kStep);
      },
    );
  forThreadShare(f, packedBatches(geo) * panels, q, () => {
    f.get(q).i32(panels).op(I32_DIV_U).set(z);
    f.get(q).i32(panels).op(I32_REM_U).set(p);
    times(f, q, k * NR * 4)
      .i32(packed)
      .op(I32_ADD)
      .set(dst);
    // Byte offset in B of op(B)(0, p·NR) in batch z.
    times(f, z, geo.strideB * 4);
    times(f, p, NR * colStep)
      .op(I32_ADD)
      .set(src);
    if (fullPanels === 0) return void scalarPanel();
    // A whole panel: untransposed, NR contiguous floats per k copied as vectors; transposed,
    // NR floats a column apart, copied one by one without the bounds test.
    f.get(p).i32(fullPanels).op(I32_LT_U).if();
    f.forRange(
      kk,
      () => f.i32(0),
      () => f.i32(k),
      () => {
        if (transB)
          for (let j = 0; j < NR; j++)
            f.get(dst)
              .get(src)
              .loadF32(geo.b + j * colStep)
              .storeF32(j * 4);
        else
          for (let v = 0; v < VECS; v++)
            f.get(dst)
              .get(src)
              .loadV128(geo.b + 16 * v)
              .storeV128(16 * v);
        bump(f, dst, NR * 4);
        bump(f, src, kStep);
      },
    );
    f.else();
    scalarPanel();
    f.end();
  });
  return f;
}

/** Phase 2: the register-tiled product and the epilogue, over this thread's items. */
function computePhase(
  geo: Geometry,
  g: Graph,
  k: FusedKernel,
  bufferOf: ReadonlyMap<number, number>,
  ctx: WasmContext,
  packed: number,
  tiles: number,
): FunctionBody {
  const f = kernelFunction();
  const w = new FusedWriter(f, g, k, bufferOf, ctx);
  const { batch, m, n, transA } = geo;
  const depth = geo.k;
  const inPlace = readsBInPlace(geo);
  // Bytes between consecutive k of the panel: a packed row, or a row of B.
  const bRow = inPlace ? n * 4 : NR * 4;
  const panels = Math.ceil(n / NR);
  const fullPanels = Math.floor(n / NR);
  const blocks = Math.ceil(m / MR);
  const fullBlocks = Math.floor(m / MR);
  // As few macro-blocks as fit A_BLOCK_BYTES, of equal size, so threads get equal shares.
  const macros = Math.ceil(blocks / Math.max(1, Math.floor(A_BLOCK_BYTES / (MR * depth * 4))));
  const macroBlocks = Math.ceil(blocks / macros);
  // Elements of A between consecutive rows, and consecutive k, of op(A).
  const rowStride = transA ? 1 : geo.leadA;
  const kStride = transA ? geo.leadA : 1;
  const I = () => f.local(I32);
  const [q, z, p, t, rb, pa, pb, pbEnd, panel, tile, base, r, j, rowBase, idx] = Array.from(
    { length: 15 },
    I,
  );
  const acc = Array.from({ length: MR * VECS }, () => f.local(V128));
  const bv = Array.from({ length: VECS }, () => f.local(V128));
  const av = f.local(V128);
  // Full tiles run the epilogue on the accumulators, four columns at a time, where its ops allow.
  const vector = new VectorEpilogue(w);
  const byVector = vectorEpilogueFits(g, k, n);

  /** One k step at unrolled position u: `rows` rows of A times the panel's row. */
  const step = (rows: number, u: number) => {
    for (let v = 0; v < VECS; v++)
      f.get(pb)
        .loadV128(u * bRow + 16 * v)
        .set(bv[v]!);
    for (let i = 0; i < rows; i++) {
      f.get(pa)
        .loadSplat(geo.a + (i * rowStride + u * kStride) * 4)
        .set(av);
      for (let v = 0; v < VECS; v++) f.madd(acc[i * VECS + v]!, av, bv[v]!);
    }
  };

  /** Every element of the tile through the fused epilogue, from the thread's scratch tile. */
  const epilogueByElement = (rows: number) => {
    for (let i = 0; i < rows; i++)
      for (let v = 0; v < VECS; v++)
        f.get(tile)
          .get(acc[i * VECS + v]!)
          .storeV128((i * NR + 4 * v) * 4);
    const jEnd = f.local(I32);
    f.i32(n).get(p).i32(NR).op(I32_MUL).op(0x6b /* sub */).set(jEnd);
    f.get(jEnd).i32(NR).get(jEnd).i32(NR).op(I32_LT_U).select().set(jEnd);
    f.forRange(
      r,
      () => f.i32(0),
      () => f.i32(rows),
      () => {
        f.get(r).i32(n).op(I32_MUL).get(base).op(I32_ADD).set(rowBase);
        f.forRange(
          j,
          () => f.i32(0),
          () => f.get(jEnd),
          () => {
            f.get(rowBase).get(j).op(I32_ADD).set(idx);
            const value = f.local(F32);
            f.get(r)
              .i32(NR)
              .op(I32_MUL)
              .get(j)
              .op(I32_ADD)
              .i32(2)
              .op(0x74 /* shl */)
              .get(tile)
              .op(I32_ADD)
              .loadF32(0)
              .set(value);
            w.anchorValue = value;
            w.storeRoots({ local: idx, key: 'idx' });
          },
        );
      },
    );
  };

  /** The epilogue of a tile whose NR columns all lie in C, four columns at a time from the accumulators. */
  const epilogueByVector = (rows: number) => {
    for (let i = 0; i < rows; i++)
      for (let v = 0; v < VECS; v++) {
        f.get(base)
          .i32(i * n + 4 * v)
          .op(I32_ADD)
          .set(idx);
        vector.storeRoots(acc[i * VECS + v]!, { local: idx, key: 'idx' });
      }
  };

  /** The tile of `rows` rows at row block rb, panel p. */
  const micro = (rows: number) => {
    for (let a = 0; a < rows * VECS; a++) f.op(...V128_ZERO).set(acc[a]!);
    // pa: byte offset in A of op(A)(rb·MR, 0) in batch z; pb: the panel's first row.
    times(f, z, geo.strideA * 4);
    times(f, rb, MR * rowStride * 4)
      .op(I32_ADD)
      .set(pa);
    f.get(panel).set(pb);
    const loops = Math.floor(depth / K_UNROLL);
    if (loops > 0) {
      f.get(pb)
        .i32(loops * K_UNROLL * bRow)
        .op(I32_ADD)
        .set(pbEnd);
      f.loop();
      for (let u = 0; u < K_UNROLL; u++) step(rows, u);
      bump(f, pa, K_UNROLL * kStride * 4);
      bump(f, pb, K_UNROLL * bRow);
      f.get(pb).get(pbEnd).op(I32_LT_U).brIf(0);
      f.end();
    }
    for (let u = 0; u < depth % K_UNROLL; u++) step(rows, u);
    // base = element index in C of (rb·MR, p·NR) in batch z.
    times(f, z, m * n);
    times(f, rb, MR * n)
      .op(I32_ADD)
      .get(p)
      .i32(NR)
      .op(I32_MUL)
      .op(I32_ADD)
      .set(base);
    if (!byVector || fullPanels === 0) return epilogueByElement(rows);
    if (fullPanels === panels) return epilogueByVector(rows);
    f.get(p).i32(fullPanels).op(I32_LT_U).if();
    epilogueByVector(rows);
    f.else();
    epilogueByElement(rows);
    f.end();
  };

  // This thread's tile: tiles + thread · TILE_BYTES.
  f.get(THREAD).i32(TILE_BYTES).op(I32_MUL).i32(tiles).op(I32_ADD).set(tile);
  forThreadShare(f, batch * macros * panels, q, () => {
    f.get(q).i32(panels).op(I32_REM_U).set(p);
    f.get(q).i32(panels).op(I32_DIV_U).set(t);
    f.get(t).i32(macros).op(I32_DIV_U).set(z);
    if (inPlace) {
      // panel = B + z·strideB·4 + p·NR·4: its first row, in place.
      times(f, z, geo.strideB * 4);
      times(f, p, NR * 4)
        .op(I32_ADD)
        .i32(geo.b)
        .op(I32_ADD)
        .set(panel);
    } else {
      // panel = packed + ((z if B is batched) · panels + p) · k·NR·4
      if (packedBatches(geo) > 1) times(f, z, panels).get(p).op(I32_ADD);
      else f.get(p);
      f.i32(depth * NR * 4)
        .op(I32_MUL)
        .i32(packed)
        .op(I32_ADD)
        .set(panel);
    }
    // Row blocks [mb·macroBlocks, min((mb + 1)·macroBlocks, blocks)) with mb = t mod macros.
    const rbEnd = f.local(I32);
    f.get(t).i32(macros).op(I32_REM_U).i32(macroBlocks).op(I32_MUL).set(rb);
    f.get(rb).i32(macroBlocks).op(I32_ADD).set(rbEnd);
    f.get(rbEnd).i32(blocks).get(rbEnd).i32(blocks).op(I32_LT_U).select().set(rbEnd);
    f.forRange(
      rb,
      () => f.get(rb),
      () => f.get(rbEnd),
      () => {
        if (fullBlocks === blocks) return micro(MR);
        if (fullBlocks === 0) return micro(m);
        f.get(rb).i32(fullBlocks).op(I32_LT_U).if();
        micro(MR);
        f.else();
        micro(m % MR);
        f.end();
      },
    );
  });
  return f;
}

/** The two phases of a fused matmul kernel and the scratch they use. */
export function matmulKernel(
  g: Graph,
  k: FusedKernel,
  anchor: Node<'matmul'>,
  bufferOf: ReadonlyMap<number, number>,
  ctx: WasmContext,
): { phases: FunctionBody[]; scratchBytes: number } {
  const probe = new FusedWriter(kernelFunction(), g, k, bufferOf, ctx);
  const geo = geometryOf(probe, anchor);
  const inPlace = readsBInPlace(geo);
  const packedBytes = inPlace ? 0 : packedBatches(geo) * Math.ceil(geo.n / NR) * geo.k * NR * 4;
  const packed = ctx.scratch;
  const tiles = ctx.scratch + packedBytes;
  const compute = computePhase(geo, g, k, bufferOf, ctx, packed, tiles);
  return {
    phases: inPlace ? [compute] : [packPhase(geo, packed), compute],
    scratchBytes: packedBytes + MAX_THREADS * TILE_BYTES,
  };
}
