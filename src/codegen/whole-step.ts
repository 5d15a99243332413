/**
 * Whole-step kernels: when every tensor of an entry fits one workgroup's memory (xor: a 2-3-1
 * MLP on a batch of 4, 388 bytes in all), each dispatch costs far more than its work. Then the
 * planned kernels, in schedule order, are cut into as few runs as the limits allow, and each run
 * becomes ONE kernel of one workgroup that computes its kernels in order with a barrier between
 * them (the forward pass, the loss, the gradient, the optimizer update and the metric sums). A
 * value written and read only inside a run stays in workgroup memory; the others keep their
 * buffers and bindings. A run fits when it binds at most the adapter's storage buffers per stage
 * and its workgroup arrays fit the adapter's workgroup memory.
 *
 * This is a decision over the plan (the kernels and their buffers), not over the graph: every
 * step keeps its kernel's code, so the numbers do not change. wgsl/whole-step.ts and
 * wasm/whole-step.ts render it.
 */
import { type Graph, sizeOf } from '../ir/graph.js';
import { FUSED_ROOT_OPS, type FusedGraph, type FusedKernel, kernelReads } from '../ir/passes/fuse.js';
import type { AdapterProfile } from './adapter.js';
import type { BufferPool, EntryPlan } from './plan.js';
import { rowProgram } from './rows.js';
import { WORKGROUP_SIZE } from './wgsl/builder.js';

/** What a run of kernels must fit to become one. */
export interface WholeStepLimits {
  /** Storage buffers one kernel may bind. */
  readonly maxBindings: number;
  /** Bytes of workgroup memory; an entry whose buffers total more stays as it is. */
  readonly workgroupBytes: number;
}

export function wholeStepLimits(adapter: AdapterProfile): WholeStepLimits {
  return { maxBindings: adapter.maxStorageBuffers, workgroupBytes: adapter.workgroupStorageBytes };
}

/**
 * The most bytes a kernel of a run may read and write: four times the workgroup memory (64 KiB
 * by default), work one workgroup finishes in about the time a dispatch of its own costs.
 */
export function smallKernelBytes(limits: WholeStepLimits): number {
  return 4 * limits.workgroupBytes;
}

/** Kernels a whole step can run: the fused kinds and row blocks (the others have generators of their own). */
function runnable(g: Graph, k: FusedKernel): boolean {
  return !!k.rows || FUSED_ROOT_OPS.has(g.nodes[k.roots[0]!]!.op);
}

/** Floats of workgroup memory a row block's sums over rows use. */
function redFloats(g: Graph, k: FusedKernel): number {
  if (!k.rows) return 0;
  const widest = Math.max(0, ...rowProgram(g, k).steps.map((s) => (s.op === 'combine' ? s.nodes.length : 0)));
  return widest * WORKGROUP_SIZE;
}

/**
 * The kernels of `fused` in `plan`'s order cut into whole-step kernels where the entry is small
 * enough, with the plan over them; unchanged otherwise. Buffers are kept as planned (the wasm
 * target computes in them; WGSL keeps a run's own values in workgroup memory instead).
 */
export function formWholeSteps(
  fused: FusedGraph,
  plan: EntryPlan,
  pool: BufferPool,
  limits: WholeStepLimits,
): { fused: FusedGraph; plan: EntryPlan } {
  const { graph: g } = fused;
  const ks = plan.order.map((i) => fused.kernels[i]!);
  if (ks.length < 2) return { fused, plan };
  const buffer = (v: number) => plan.bufferOf.get(v)!;
  const touched = ks.map((k) => [...new Set([...kernelReads(g, k), ...k.roots])]);
  const bytesOf = (v: number) => 4 * sizeOf(g.nodes[v]!.shape as number[]);
  const small = ks.map(
    (k, i) => runnable(g, k) && touched[i]!.reduce((a, v) => a + bytesOf(v), 0) <= smallKernelBytes(limits),
  );

  const persistent = pool.persistentIds();
  const producer = new Map<number, number>();
  ks.forEach((k, i) => k.roots.forEach((r) => producer.set(r, i)));
  const readersOf = new Map<number, number[]>();
  ks.forEach((k, i) => kernelReads(g, k).forEach((v) => readersOf.set(v, [...(readersOf.get(v) ?? []), i])));
  const red = ks.map((k) => redFloats(g, k));

  /** The values run [a, b] keeps to itself, if it fits the limits. */
  const fit = (a: number, b: number): Set<number> | undefined => {
    if (!small.slice(a, b + 1).every(Boolean)) return undefined;
    const inRun = (i: number) => i >= a && i <= b;
    const values = new Set(touched.slice(a, b + 1).flat());
    const local = new Set(
      [...values].filter(
        (v) =>
          !persistent.has(buffer(v)) &&
          producer.has(v) &&
          inRun(producer.get(v)!) &&
          (readersOf.get(v) ?? []).every(inRun),
      ),
    );
    // A buffer is local only if every value the run touches in it is.
    for (const v of values)
      if (!local.has(v)) for (const l of local) if (buffer(l) === buffer(v)) local.delete(l);
    const localBuffers = new Set([...local].map(buffer));
    const bindings = new Set([...values].map(buffer).filter((x) => !localBuffers.has(x))).size;
    const bytes =
      [...localBuffers].reduce((s, x) => s + pool.buffers[x]!.bytes, 0) +
      4 * Math.max(0, ...red.slice(a, b + 1));
    return bindings <= limits.maxBindings && bytes <= limits.workgroupBytes ? local : undefined;
  };

  // The fewest runs: best[i] covers the first i kernels (a kernel alone always fits).
  const best: { count: number; from: number; local?: Set<number> }[] = [{ count: 0, from: 0 }];
  for (let end = 1; end <= ks.length; end++) {
    best[end] = { count: best[end - 1]!.count + 1, from: end - 1 };
    for (let a = 0; a < end - 1; a++) {
      if (best[a]!.count + 1 >= best[end]!.count) continue;
      const local = fit(a, end - 1);
      if (local) best[end] = { count: best[a]!.count + 1, from: a, local };
    }
  }
  const kernels: FusedKernel[] = [];
  for (let end = ks.length; end > 0; end = best[end]!.from) {
    const { from, local } = best[end]!;
    const steps = ks.slice(from, end);
    kernels.unshift(
      local
        ? {
            roots: steps.flatMap((k) => k.roots),
            members: new Set(steps.flatMap((k) => [...k.members])),
            prologue: new Set(),
            steps,
            local,
          }
        : steps[0]!,
    );
  }
  return {
    fused: { graph: g, kernels },
    plan: { ...plan, order: kernels.map((_, i) => i) },
  };
}
