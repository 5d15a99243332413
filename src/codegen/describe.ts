/**
 * The text of `nnxc compile --emit plan`: per entry, each kernel in execution order with the
 * ops fused into it, the bytes it reads and writes, and its grid; then the buffer plan.
 */
import { type Graph, sizeOf } from '../ir/graph.js';
import { kernelReads } from '../ir/passes/fuse.js';
import type { BufferSpec, KernelSpec } from '../runtime/spec.js';
import type { LoweredEntry } from './spec.js';
import { type AdapterProfile, DEFAULT_ADAPTER, LARGE_READ_BYTES } from './adapter.js';

/** What a plan is described from: a compiled model's or GAN's kernels, buffers and entries. */
export interface PlannedModule {
  readonly spec: { readonly kernels: readonly KernelSpec[]; readonly buffers: readonly BufferSpec[] };
  /** Each entry's kernels and buffer plan, in the order the entries are described. */
  readonly lowered: Readonly<Record<string, LoweredEntry>>;
}

/** `512 B`, `3.4 KiB`, `1.2 MiB`. */
export function formatBytes(n: number): string {
  return n < 1024
    ? `${n} B`
    : n < 1 << 20
      ? `${(n / 1024).toFixed(1)} KiB`
      : `${(n / (1 << 20)).toFixed(1)} MiB`;
}

function bytesOfValue(g: Graph, id: number): number {
  return 4 * sizeOf(g.nodes[id]!.shape as number[]);
}

/** Total bytes of every buffer the model allocates (the plan is static: this is its peak). */
export function totalBufferBytes(compiled: PlannedModule): number {
  return compiled.spec.buffers.reduce((a, b) => a + b.bytes, 0);
}

/** What the plan's figures say about one entry: dispatches, and its least parallel large kernel. */
export interface EntryOccupancy {
  readonly dispatches: number;
  /** The fewest workgroups any kernel reading more than 1 MiB launches; undefined when none does. */
  readonly leastLargeWorkgroups: number | undefined;
  /** Kernels reading more than 1 MiB with fewer workgroups than the adapter runs at once. */
  readonly underfilled: number;
}

function workgroupCount(workgroups: readonly number[]): number {
  return workgroups.reduce((a, b) => a * b, 1);
}

/** Each kernel of `entry` in execution order: what it reads (bytes) and how many workgroups it launches. */
function kernelFigures(g: Graph, lowered: LoweredEntry): { read: number; workgroups: number }[] {
  const { fused, plan, entry } = lowered;
  return plan.order.map((index, position) => ({
    read: kernelReads(g, fused.kernels[index]!).reduce((a, v) => a + bytesOfValue(g, v), 0),
    workgroups: workgroupCount(entry.dispatches[position]!.workgroups),
  }));
}

export function entryOccupancy(
  lowered: LoweredEntry,
  adapter: AdapterProfile = DEFAULT_ADAPTER,
): EntryOccupancy {
  const large = kernelFigures(lowered.fused.graph, lowered).filter((k) => k.read > LARGE_READ_BYTES);
  return {
    dispatches: lowered.entry.dispatches.length,
    leastLargeWorkgroups: large.length ? Math.min(...large.map((k) => k.workgroups)) : undefined,
    underfilled: large.filter((k) => k.workgroups < adapter.concurrentWorkgroups).length,
  };
}

export function describePlan(compiled: PlannedModule, adapter: AdapterProfile = DEFAULT_ADAPTER): string {
  const { spec } = compiled;
  const lines: string[] = [
    `adapter ${adapter.name}: ${adapter.concurrentWorkgroups} workgroups at once; ! marks a kernel reading over ${formatBytes(LARGE_READ_BYTES)} that launches fewer`,
  ];
  for (const [name, lowered] of Object.entries(compiled.lowered)) {
    const { fused, plan, entry } = lowered;
    const g = fused.graph;
    const occupancy = entryOccupancy(lowered, adapter);
    const least =
      occupancy.leastLargeWorkgroups === undefined
        ? ''
        : `; kernels over 1 MiB: ${occupancy.underfilled} below the adapter, fewest workgroups ${occupancy.leastLargeWorkgroups}`;
    lines.push(
      `${name}: ${entry.dispatches.length} kernels, batch ${entry.batch}, temporaries peak ${formatBytes(plan.peakTemporaryBytes)}${least}`,
    );
    plan.order.forEach((index, position) => {
      const k = fused.kernels[index]!;
      const ops = [...k.members]
        .sort((a, b) => a - b)
        .map((m) => `${g.nodes[m]!.op} %${m}${k.roots.includes(m) ? '*' : ''}`)
        .join(', ');
      const read = kernelReads(g, k).reduce((a, v) => a + bytesOfValue(g, v), 0);
      const written = k.roots.reduce((a, r) => a + bytesOfValue(g, r), 0);
      const d = entry.dispatches[position]!;
      const count = workgroupCount(d.workgroups);
      const mark = read > LARGE_READ_BYTES && count < adapter.concurrentWorkgroups ? '! ' : '  ';
      const kernel = spec.kernels[d.kernel]!;
      // The grid is the default (cpu) tiles'; a variant the runtime may pick instead has its own.
      const variants = (kernel.variants ?? []).map(
        (v) => `; or ${v.tiles} tiles, grid ${v.workgroups.join('×')}`,
      );
      lines.push(
        `${mark}${kernel.name}: ${ops}; reads ${formatBytes(read)}, writes ${formatBytes(written)}; grid ${d.workgroups.join('×')} = ${count} workgroups` +
          variants.join('') +
          (d.origin ? `; from ${d.origin}` : ''),
      );
    });
  }
  const persistent = spec.buffers.filter((b) => b.label !== 'tmp');
  const tmp = spec.buffers.filter((b) => b.label === 'tmp');
  const sum = (bs: typeof spec.buffers) => formatBytes(bs.reduce((a, b) => a + b.bytes, 0));
  lines.push(
    `buffers: ${spec.buffers.length}, ${formatBytes(totalBufferBytes(compiled))} in all (${persistent.length} named: ${sum(persistent)}; ${tmp.length} shared temporaries: ${sum(tmp)})`,
  );
  for (const b of spec.buffers) lines.push(`  #${b.id} ${b.label} ${formatBytes(b.bytes)}`);
  lines.push('(* marks the values a kernel stores; the others stay in registers)');
  return lines.join('\n') + '\n';
}
