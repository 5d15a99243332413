/**
 * The wasm matmul: C = op(A)·op(B), then the fused epilogue at every element. Two phases:
 *  1. pack op(B) into panels of 8 columns, each panel k rows of 8 contiguous floats (zero past
 *     column n), so the micro-kernel streams it with two v128 loads per k;
 *  2. for each panel (the threads share out the panels), for each block of 4 rows of op(A), a
 *     4×8 register tile of eight f32x4 accumulators, updated with a splat of A times the panel's
 *     row; the tile goes to a per-thread scratch tile, from which the epilogue reads each element.
 * A panel (8·k floats) stays in L1 while every row block of A passes over it.
 */
import type { Graph, Node } from '../../ir/graph.js';
import { matmulGeometry } from '../../ir/ops/matmul.js';
import type { FusedKernel } from '../../ir/passes/fuse.js';
import { F32, type FunctionBody, I32, V128 } from './encoder.js';
import { FusedWriter, type WasmContext, kernelFunction, threadRange } from './writer.js';

/** Rows and columns of the register tile. */
const MR = 4;
const NR = 8;
import { WASM_MAX_THREADS as MAX_THREADS } from '../../runtime/spec.js';
const TILE_BYTES = MR * NR * 4;

const F32X4_ADD = [0xfd, 0xe4, 0x01];
const F32X4_MUL = [0xfd, 0xe6, 0x01];

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
  // An operand that is a reshape in this kernel is a view of its source's buffer.
  const stored = (x: Node): number =>
    w.k.members.has(x.id) && x.op === 'reshape' ? stored(g.nodes[x.srcs[0]!]!) : x.id;
  return {
    batch,
    m,
    n,
    k,
    transA,
    transB,
    strideA: batch > 1 && geo.batchedA ? m * k : 0,
    strideB: batch > 1 && geo.batchedB ? k * n : 0,
    a: w.addressOf(stored(a)),
    b: w.addressOf(stored(b)),
  };
}

/** Pushes `value() · factor` as i32. */
function times(f: FunctionBody, local: number, factor: number): FunctionBody {
  f.get(local);
  if (factor !== 1) f.i32(factor).op(0x6c);
  return f;
}

/** Phase 1: every thread packs its share of the batch × panel pairs. */
function packPhase(geo: Geometry, packed: number): FunctionBody {
  const f = kernelFunction();
  const { batch, n, k, transB } = geo;
  const panels = Math.ceil(n / NR);
  const [lo, hi, q, z, p, kk, dst, src] = Array.from({ length: 8 }, () => f.local(I32));
  threadRange(f, batch * panels, lo, hi);
  f.forRange(
    q,
    () => f.get(lo),
    () => f.get(hi),
    () => {
      f.get(q).i32(panels).op(0x6e).set(z);
      f.get(q).i32(panels).op(0x70).set(p);
      times(f, q, k * NR * 4)
        .i32(packed)
        .op(0x6a)
        .set(dst);
      f.forRange(
        kk,
        () => f.i32(0),
        () => f.i32(k),
        () => {
          // Element index of B(kk, p·8) in the stored operand.
          times(f, z, geo.strideB);
          if (transB)
            times(f, p, NR * k)
              .get(kk)
              .op(0x6a, 0x6a);
          else times(f, kk, n).op(0x6a).get(p).i32(NR).op(0x6c, 0x6a);
          f.set(src);
          for (let j = 0; j < NR; j++) {
            // dst[j] = column p·8 + j < n ? B(kk, p·8 + j) : 0
            f.get(dst);
            f.get(p).i32(NR).op(0x6c).i32(j).op(0x6a).i32(n).op(0x49 /* lt_u */);
            f.if(F32);
            f.get(src)
              .i32(j * (transB ? k : 1))
              .op(0x6a)
              .i32(2)
              .op(0x74)
              .loadF32(geo.b);
            f.else().f32(0).end();
            f.storeF32(j * 4);
          }
          f.get(dst)
            .i32(NR * 4)
            .op(0x6a)
            .set(dst);
        },
      );
    },
  );
  return f;
}

/** Phase 2: the register-tiled product and the epilogue, over this thread's panels. */
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
  const panels = Math.ceil(n / NR);
  const blocks = Math.ceil(m / MR);
  const I = () => f.local(I32);
  const [lo, hi, q, z, p, rb, kk, bp, ak, tile, rEnd, jEnd, r, j, idx] = Array.from({ length: 15 }, I);
  const rows = Array.from({ length: MR }, I);
  const acc = Array.from({ length: MR * 2 }, () => f.local(V128));
  const [b0, b1] = [f.local(V128), f.local(V128)];
  // This thread's tile: tiles + thread · TILE_BYTES.
  f.get(0).i32(TILE_BYTES).op(0x6c).i32(tiles).op(0x6a).set(tile);
  threadRange(f, batch * panels, lo, hi);
  f.forRange(
    q,
    () => f.get(lo),
    () => f.get(hi),
    () => {
      f.get(q).i32(panels).op(0x6e).set(z);
      f.get(q).i32(panels).op(0x70).set(p);
      f.forRange(
        rb,
        () => f.i32(0),
        () => f.i32(blocks),
        () => {
          // Byte address of A(row, 0) for each row of the block (rows past m repeat the last).
          for (let i = 0; i < MR; i++) {
            f.get(rb).i32(MR).op(0x6c).i32(i).op(0x6a);
            const row = f.local(I32);
            f.tee(row)
              .i32(m - 1)
              .get(row)
              .i32(m - 1)
              .op(0x49)
              .select();
            f.i32(transA ? 1 : depth).op(0x6c);
            times(f, z, geo.strideA).op(0x6a).i32(2).op(0x74).set(rows[i]!);
          }
          for (const a of acc) f.op(0xfd, 0x0c, ...new Array(16).fill(0)).set(a);
          times(f, q, depth * NR * 4)
            .i32(packed)
            .op(0x6a)
            .set(bp);
          f.i32(0).set(ak);
          f.forRange(
            kk,
            () => f.i32(0),
            () => f.i32(depth),
            () => {
              f.get(bp).loadV128(0).set(b0);
              f.get(bp).loadV128(16).set(b1);
              for (let i = 0; i < MR; i++) {
                f.get(rows[i]!).get(ak).op(0x6a).loadSplat(geo.a);
                const a = f.local(V128);
                f.set(a);
                f.get(acc[2 * i]!)
                  .get(a)
                  .get(b0)
                  .op(...F32X4_MUL)
                  .op(...F32X4_ADD)
                  .set(acc[2 * i]!);
                f.get(acc[2 * i + 1]!)
                  .get(a)
                  .get(b1)
                  .op(...F32X4_MUL)
                  .op(...F32X4_ADD)
                  .set(acc[2 * i + 1]!);
              }
              f.get(bp)
                .i32(NR * 4)
                .op(0x6a)
                .set(bp);
              f.get(ak)
                .i32(transA ? m * 4 : 4)
                .op(0x6a)
                .set(ak);
            },
          );
          acc.forEach((a, i) =>
            f
              .get(tile)
              .get(a)
              .storeV128(i * 16),
          );
          // The epilogue over the tile's elements inside C.
          f.i32(m).get(rb).i32(MR).op(0x6c).op(0x6b).set(rEnd);
          f.get(rEnd).i32(MR).get(rEnd).i32(MR).op(0x49).select().set(rEnd);
          f.i32(n).get(p).i32(NR).op(0x6c).op(0x6b).set(jEnd);
          f.get(jEnd).i32(NR).get(jEnd).i32(NR).op(0x49).select().set(jEnd);
          f.forRange(
            r,
            () => f.i32(0),
            () => f.get(rEnd),
            () => {
              f.forRange(
                j,
                () => f.i32(0),
                () => f.get(jEnd),
                () => {
                  // idx = z·m·n + (rb·4 + r)·n + p·8 + j
                  times(f, z, m * n)
                    .get(rb)
                    .i32(MR)
                    .op(0x6c)
                    .get(r)
                    .op(0x6a)
                    .i32(n)
                    .op(0x6c, 0x6a);
                  f.get(p).i32(NR).op(0x6c).get(j).op(0x6a, 0x6a).set(idx);
                  const value = f.local(F32);
                  f.get(tile)
                    .get(r)
                    .i32(NR)
                    .op(0x6c)
                    .get(j)
                    .op(0x6a)
                    .i32(2)
                    .op(0x74, 0x6a)
                    .loadF32(0)
                    .set(value);
                  w.anchorValue = value;
                  w.storeRoots({ local: idx, key: 'idx' });
                },
              );
            },
          );
        },
      );
    },
  );
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
  const packedBytes = geo.batch * Math.ceil(geo.n / NR) * geo.k * NR * 4;
  const packed = ctx.scratch;
  const tiles = ctx.scratch + packedBytes;
  return {
    phases: [packPhase(geo, packed), computePhase(geo, g, k, bufferOf, ctx, packed, tiles)],
    scratchBytes: packedBytes + MAX_THREADS * TILE_BYTES,
  };
}
