/**
 * One wasm module per model: its linear memory holds every buffer of the target-independent
 * buffer plan at a fixed address, and each entry (train, evaluate, predict) is an exported
 * function `(thread, threads)` calling its kernels' phases in plan order, with a barrier between
 * them when more than one thread runs it. Nothing runs in JavaScript between two kernels.
 */
import type { FusedGraph } from '../../ir/passes/fuse.js';
import { WASM_SPIN_LIMIT_OFFSET, WASM_SPIN_ONLY_OFFSET, type WasmModuleSpec } from '../../runtime/spec.js';
import type { EntryPlan } from '../plan.js';
import { F32, FunctionBody, I32, type ValType, encodeModuleWithSites } from './encoder.js';
import type { Node } from '../../ir/graph.js';
import { convEpilogue, convGemmKernel } from './conv-gemm.js';
import { type PoolOp, poolGradEpilogue, windowKernel } from './window.js';
import { wasmKernel } from './index.js';
import { MATH_IMPORT_DECLS } from './ops.js';
import type { WasmContext } from './writer.js';

/** The wasm32 limit: 65,536 pages of 64 KiB. */
export const WASM_MEMORY_LIMIT = 2 ** 32;
const PAGE = 65536;
/** Bytes before the first buffer: the barrier's arrival count (0) and generation (4). */
const HEADER_BYTES = 64;
const BARRIER_COUNT = 0;
const BARRIER_GENERATION = 4;
/** Spins before a waiting thread sleeps when the host has not set WASM_SPIN_LIMIT_OFFSET. */
const SPINS = 1 << 14;

/** Function indices after the imports. */
const PCG = MATH_IMPORT_DECLS.length;
const RANDOM_UNIT = PCG + 1;
const BARRIER = PCG + 2;
const FIRST_KERNEL = PCG + 3;

export interface WasmEntryInput {
  readonly name: string;
  readonly fused: FusedGraph;
  readonly plan: EntryPlan;
}

/** The buffer that would end past the wasm memory limit. */
export class WasmMemoryLimitError extends Error {
  constructor(label: string, bytes: number, end: number) {
    super(
      `buffer '${label}' (${bytes} bytes) would end at byte ${end} of the wasm memory, past its ` +
        `4 GiB limit; use a smaller batch or model, or --backend webgpu`,
    );
    this.name = 'WasmMemoryLimitError';
  }
}

const align16 = (n: number) => Math.ceil(n / 16) * 16;

/** Byte addresses of each buffer, and where the scratch region starts. */
export function layoutBuffers(buffers: readonly { bytes: number; label: string }[]): {
  offsets: number[];
  scratch: number;
} {
  let at = HEADER_BYTES;
  const offsets = buffers.map((b) => {
    const here = at;
    at = align16(at + b.bytes);
    if (here + b.bytes > WASM_MEMORY_LIMIT) throw new WasmMemoryLimitError(b.label, b.bytes, here + b.bytes);
    return here;
  });
  return { offsets, scratch: at };
}

/** pcg_hash(v) → u32, as src/ir/ops/random.ts. */
function pcgFunction(): FunctionBody {
  const f = new FunctionBody([I32]);
  const state = f.local(I32);
  const word = f.local(I32);
  f.get(0)
    .i32(747796405)
    .op(0x6c)
    .i32(2891336453 | 0)
    .op(0x6a)
    .set(state);
  // word = ((state >> ((state >> 28) + 4)) ^ state) · 277803737
  f.get(state).get(state).i32(28).op(0x76).i32(4).op(0x6a).op(0x76);
  f.get(state).op(0x73).i32(277803737).op(0x6c).set(word);
  f.get(word).i32(22).op(0x76).get(word).op(0x73);
  return f;
}

/** random_unit(salt, t, i) → f32 in [0, 1): the top 24 bits of pcg(i ^ pcg(t ^ pcg(salt))). */
function randomUnitFunction(): FunctionBody {
  const f = new FunctionBody([I32, I32, I32]);
  f.get(2).get(1).get(0).call(PCG).op(0x73).call(PCG).op(0x73).call(PCG);
  f.i32(8)
    .op(0x76)
    .op(0xb3 /* f32.convert_i32_u */)
    .f32(1 / 16777216)
    .op(0x94);
  return f;
}

const atomic = (f: FunctionBody, op: number, offset: number) => f.op(0xfe, op, 2, offset);

/**
 * barrier(thread, threads): the last thread to arrive resets the count and bumps the
 * generation; the others spin on the generation (as many polls as the header's spin-limit word
 * says), then sleep on it (memory.atomic.wait32), all
 * but thread 0 when the header's spin-only word is set (it runs on a page's main thread, which
 * may not wait).
 */
function barrierFunction(): FunctionBody {
  const f = new FunctionBody([I32, I32]);
  const generation = f.local(I32);
  const spins = f.local(I32);
  const limit = f.local(I32);
  f.i32(0);
  atomic(f, 0x10 /* i32.atomic.load */, BARRIER_GENERATION).set(generation);
  f.i32(0).i32(1);
  atomic(f, 0x1e /* i32.atomic.rmw.add */, BARRIER_COUNT).i32(1).op(0x6a).get(1).op(0x46 /* eq */);
  f.if();
  f.i32(0).i32(0);
  atomic(f, 0x17 /* i32.atomic.store */, BARRIER_COUNT);
  f.i32(0).i32(1);
  atomic(f, 0x1e, BARRIER_GENERATION).drop();
  f.i32(0).i32(0x7fffffff);
  atomic(f, 0x00 /* memory.atomic.notify */, BARRIER_GENERATION).drop();
  f.else();
  f.i32(0);
  atomic(f, 0x10, WASM_SPIN_LIMIT_OFFSET).tee(limit).op(0x45 /* eqz */);
  f.if();
  f.i32(SPINS).set(limit);
  f.end();
  f.block().loop();
  f.i32(0);
  atomic(f, 0x10, BARRIER_GENERATION).get(generation).op(0x47 /* ne */).brIf(1);
  f.get(spins).i32(1).op(0x6a).tee(spins).get(limit).op(0x4b /* gt_u */);
  f.i32(0);
  atomic(f, 0x10, WASM_SPIN_ONLY_OFFSET).op(0x45 /* eqz */);
  f.get(0).i32(0).op(0x47 /* ne */).op(0x72 /* or */).op(0x71 /* and */);
  f.if();
  f.i32(0).get(generation).op(0x42, 0x7f /* i64.const -1: no timeout */);
  atomic(f, 0x01 /* memory.atomic.wait32 */, BARRIER_GENERATION).drop();
  f.end();
  f.br(0).end().end();
  f.end();
  return f;
}

/** Encodes `bytes` as base64 (the spec is JSON). */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * The module of a model's entries over one buffer plan. Throws {@link WasmUnsupportedError}
 * (from the lowering table) naming the first op the target cannot run, and
 * {@link WasmMemoryLimitError} naming the buffer past 4 GiB.
 */
export function buildWasmModule(
  buffers: readonly { bytes: number; label: string }[],
  entries: readonly WasmEntryInput[],
): WasmModuleSpec {
  const { offsets, scratch } = layoutBuffers(buffers);
  const functions: { body: FunctionBody; results: ValType[] }[] = [
    { body: pcgFunction(), results: [I32] },
    { body: randomUnitFunction(), results: [F32] },
    { body: barrierFunction(), results: [] },
  ];
  // Identical phases (the same kernel over the same buffers in two entries) are written once.
  const byCode = new Map<string, number>();
  const phaseIndex = (body: FunctionBody): number => {
    const key = String.fromCharCode(...body.encode());
    let index = byCode.get(key);
    if (index === undefined) {
      index = FIRST_KERNEL + functions.length - 3;
      functions.push({ body, results: [] });
      byCode.set(key, index);
    }
    return index;
  };
  const ctx: WasmContext = {
    address: (b) => offsets[b]!,
    scratch,
    randomUnit: RANDOM_UNIT,
    phaseFunction: phaseIndex,
  };
  let scratchBytes = 0;
  const entryBodies = entries.map(({ name, fused, plan }) => {
    const f = new FunctionBody([I32, I32]);
    const kernels = plan.order.map((k) => fused.kernels[k]!);
    for (let at = 0; at < kernels.length; at++) {
      const planned = { g: fused.graph, kernel: kernels[at]!, bufferOf: plan.bufferOf };
      // A forward conv with its bias and activation in its stores, a pooling gradient with the
      // activation's gradient per image: the map kernel after each is skipped.
      const root = fused.graph.nodes[planned.kernel.roots[0]!]!;
      const conv = convEpilogue(fused.graph, kernels, at);
      const pool = conv ? undefined : poolGradEpilogue(fused.graph, kernels, at);
      const kernel = conv
        ? convGemmKernel(planned, root as Node<'conv2d'>, ctx, conv)
        : pool
          ? windowKernel(planned, root as Node<PoolOp>, ctx, pool)
          : wasmKernel(planned)(ctx);
      if (conv || pool) at++;
      scratchBytes = Math.max(scratchBytes, kernel.scratchBytes);
      for (const phase of kernel.phases) {
        f.get(0).get(1).call(phaseIndex(phase));
        // With more than one thread, every thread finishes this phase before any starts the next.
        f.get(1).i32(1).op(0x4b).if().get(0).get(1).call(BARRIER).end();
      }
    }
    return { name, f };
  });
  const entryBase = FIRST_KERNEL + functions.length - 3;
  for (const { f } of entryBodies) functions.push({ body: f, results: [] });
  const end = scratch + scratchBytes;
  if (end > WASM_MEMORY_LIMIT) throw new WasmMemoryLimitError('scratch', scratchBytes, end);
  const pages = Math.max(1, Math.ceil(end / PAGE));
  const { bytes, maddSites } = encodeModuleWithSites({
    imports: MATH_IMPORT_DECLS,
    memory: { pages, maxPages: pages, shared: false },
    functions,
    exports: entryBodies.map(({ name }, i) => ({ name, index: entryBase + i })),
  });
  return {
    module: toBase64(bytes),
    memoryBytes: pages * PAGE,
    offsets,
    memoryFlagOffset: memoryFlagOffset(bytes),
    ...(maddSites.length > 0 ? { maddSites } : {}),
  };
}

/**
 * Where the memory import's limits flag is (0x01 unshared, 0x03 shared), so the runtime can
 * instantiate the one module on a shared memory when it runs threads.
 */
function memoryFlagOffset(bytes: Uint8Array): number {
  const name = [6, ...new TextEncoder().encode('memory'), 0x02];
  for (let i = 8; i < bytes.length - name.length; i++) {
    if (name.every((b, j) => bytes[i + j] === b)) return i + name.length;
  }
  throw new Error('internal: the wasm module imports no memory');
}
