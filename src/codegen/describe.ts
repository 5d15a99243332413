/**
 * The text of `nnxc compile --emit plan`: per entry, each kernel in execution order with the
 * ops fused into it, the bytes it reads and writes, and its grid; then the buffer plan.
 */
import { type Graph, sizeOf } from '../ir/graph.js';
import { kernelReads } from '../ir/passes/fuse.js';
import type { BufferSpec, KernelSpec } from '../runtime/spec.js';
import type { LoweredEntry } from './spec.js';

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

export function describePlan(compiled: PlannedModule): string {
  const { spec } = compiled;
  const lines: string[] = [];
  for (const [name, { fused, plan, entry }] of Object.entries(compiled.lowered)) {
    const g = fused.graph;
    lines.push(
      `${name}: ${entry.dispatches.length} kernels, batch ${entry.batch}, temporaries peak ${formatBytes(plan.peakTemporaryBytes)}`,
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
      lines.push(
        `  ${spec.kernels[d.kernel]!.name}: ${ops}; reads ${formatBytes(read)}, writes ${formatBytes(written)}; grid ${d.workgroups.join('×')}` +
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
