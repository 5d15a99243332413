/**
 * The seam between the kernel plan and the code a target writes. The plan (fusion groups, the
 * buffer plan, the dispatch order, the entries) is target-independent; a target renders each
 * planned kernel through a table typed over every op, keyed by the op of the kernel's first
 * root, so an op without a lowering for some target does not compile.
 */
import type { Graph, Node, Op } from '../ir/graph.js';
import type { FusedKernel } from '../ir/passes/fuse.js';

/** One planned kernel, as every target sees it. */
export interface PlannedKernel {
  /** The fused graph the kernel's members belong to (all shapes bound). */
  readonly g: Graph;
  readonly kernel: FusedKernel;
  /** Buffer id of every stored value (graph inputs and kernel roots). */
  readonly bufferOf: ReadonlyMap<number, number>;
}

/** How a target renders a kernel whose first root is a `P` node. */
export type KernelRenderer<Out, P extends Op = Op> = (planned: PlannedKernel, root: Node<P>) => Out;

/**
 * A target's lowering of every op: a kernel renderer per root op, and one for each kernel shape
 * that is not keyed by an op (a row block, src/codegen/rows.ts; a whole step,
 * src/codegen/whole-step.ts).
 */
export type TargetKernels<Out> = { readonly [P in Op]: KernelRenderer<Out, P> } & {
  readonly rowBlock: (planned: PlannedKernel) => Out;
  readonly wholeStep: (planned: PlannedKernel) => Out;
};

/** Renders `planned` with the renderer its shape or its first root's op names. */
export function renderKernel<Out>(table: TargetKernels<Out>, planned: PlannedKernel): Out {
  if (planned.kernel.steps) return table.wholeStep(planned);
  if (planned.kernel.rows) return table.rowBlock(planned);
  const root = planned.g.nodes[planned.kernel.roots[0]!]!;
  return (table[root.op] as KernelRenderer<Out>)(planned, root);
}

/** Fills a table's entries for a set of ops with one renderer. */
export function sameRenderer<Out, const K extends readonly Op[]>(
  ops: K,
  render: KernelRenderer<Out, K[number]>,
): { readonly [P in K[number]]: KernelRenderer<Out, P> } {
  return Object.fromEntries(ops.map((op) => [op, render])) as unknown as {
    readonly [P in K[number]]: KernelRenderer<Out, P>;
  };
}

/**
 * Inputs, scalar constants and dimension sizes are never a kernel's root (the planner binds
 * them to buffers or inlines them); reaching this is a compiler bug.
 */
export function runsNoKernel(_planned: PlannedKernel, root: Node): never {
  throw new Error(`internal: ${root.op} runs no kernel`);
}
