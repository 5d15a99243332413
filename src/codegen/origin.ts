/**
 * Where a kernel comes from in the .nnx source: the layers whose nodes it computes, each as
 * `file:line layer`. Every IR node records the span (and, for an imported definition, the file)
 * of the construct that produced it, gradients their forward node's; a fused kernel names the
 * distinct places of its members, in node order. `--emit plan` prints it and the runtime's
 * errors about a dispatch or kernel quote it.
 */
import type { Graph } from '../ir/graph.js';
import type { FusedKernel } from '../ir/passes/fuse.js';
import type { SourceFile, Span } from '../util/diagnostics.js';

/** `file:line` of a span in the main file (`file` undefined) or in an imported one. */
export type Locate = (file: string | undefined, span: Span) => string;

/** Places named before the rest are counted: a kernel of a long recurrent unroll stays one line. */
const MAX_PLACES = 4;

/** The places a kernel's members come from, or undefined when none is known. */
export function kernelOrigin(g: Graph, k: FusedKernel, locate: Locate | undefined): string | undefined {
  if (!locate) return undefined;
  const places: string[] = [];
  for (const m of [...k.members].sort((a, b) => a - b)) {
    const n = g.nodes[m]!;
    const place = n.span ? `${locate(n.file, n.span)}${n.label ? ` ${n.label}` : ''}` : n.label;
    if (place !== undefined && !places.includes(place)) places.push(place);
  }
  if (places.length === 0) return undefined;
  const more = places.length - MAX_PLACES;
  return more > 1 ? [...places.slice(0, MAX_PLACES), `${more} more`].join(', ') : places.join(', ');
}

/**
 * A {@link Locate} over the compiled file (`main`) and the files it imports (`imported`, keyed
 * as nodes record them), each shown by its path: line numbers from 1.
 */
export function locateIn(main: SourceFile, imported: ReadonlyMap<string, SourceFile>): Locate {
  const lineStarts = new Map<string | undefined, number[]>();
  const startsOf = (file: string | undefined, text: string) => {
    let starts = lineStarts.get(file);
    if (!starts) {
      starts = [0];
      for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
      lineStarts.set(file, starts);
    }
    return starts;
  };
  return (file, span) => {
    const source = file === undefined ? main : imported.get(file);
    if (!source) return `${file}:?`;
    const starts = startsOf(file, source.text);
    // The last line start at or before the span's start (binary search).
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= span.start) lo = mid;
      else hi = mid - 1;
    }
    return `${source.path}:${lo + 1}`;
  };
}
