/**
 * WGSL for a whole-step kernel (src/codegen/whole-step.ts): one workgroup of 64 invocations runs
 * the kernels of the step in order, each over its outputs strided by the invocation index, a
 * barrier between them. Values the step keeps to itself live in workgroup arrays (`w<buffer>`),
 * the rest in their storage buffers. Each step computes exactly what its own kernel would (a
 * matmul accumulates over k in the same order), so the numbers are the multi-kernel plan's.
 */
import { type Graph, type Node, sizeOf } from '../../ir/graph.js';
import type { FusedKernel } from '../../ir/passes/fuse.js';
import { WORKGROUP_SIZE, indent } from './builder.js';
import { KernelWriter, matmulAccess, reduceBody } from './fused.js';
import type { GeneratedKernel } from './operands.js';
import { PCG_WGSL } from './ops.js';
import { redDecl, rowBlockBody } from './rows.js';

/** A loop of the invocations over `0..n`, `i` its index. */
function strided(index: string, n: number, body: string): string {
  return [
    `for (var ${index} = lid; ${index} < ${n}u; ${index} += ${WORKGROUP_SIZE}u) {`,
    indent(body, 2),
    '}',
  ].join('\n');
}

/** A matmul over one workgroup: each invocation computes whole output elements, k in order. */
function matmulStep(w: KernelWriter, g: Graph, anchor: Node<'matmul'>): string {
  const { shape, io } = matmulAccess(w, g, anchor);
  const { batch, m, n, k } = shape;
  const body = [
    ...(batch > 1 ? [`let batch = e / ${m * n}u;`] : []),
    `let row = (e / ${n}u) % ${m}u;`,
    `let col = e % ${n}u;`,
    'var acc = 0.0;',
    `for (var k = 0u; k < ${k}u; k++) {`,
    `  acc = fma(${io.a('row', 'k')}, ${io.b('k', 'col')}, acc);`,
    '}',
    io.store('row', 'col', 'acc'),
  ].join('\n');
  return strided('e', batch * m * n, body);
}

/** The statements of one step of the whole, and the `red` floats a row block among them needs. */
function stepBody(g: Graph, step: FusedKernel, w: KernelWriter): { body: string; red: number } {
  if (step.rows) return rowBlockBody(g, step, w);
  const anchor = step.anchor === undefined ? undefined : g.nodes[step.anchor]!;
  const size = sizeOf(g.nodes[step.roots[0]!]!.shape as number[]);
  if (anchor?.op === 'matmul') return { body: matmulStep(w, g, anchor), red: 0 };
  if (anchor?.op === 'sum' || anchor?.op === 'reduce_max')
    return { body: strided('i', size, reduceBody(w, g, anchor)), red: 0 };
  if (anchor) throw new Error(`internal: ${anchor.op} anchors a kernel`);
  return { body: strided('i', size, w.storeRoots('i').join('\n')), red: 0 };
}

export function wholeStepKernel(
  g: Graph,
  k: FusedKernel,
  bufferOf: ReadonlyMap<number, number>,
): GeneratedKernel {
  const localBuffers = new Map<number, string>();
  for (const v of k.local ?? []) localBuffers.set(bufferOf.get(v)!, `w${bufferOf.get(v)!}`);
  const whole = new KernelWriter(g, k, bufferOf, { local: localBuffers });
  let red = 0;
  const stages = k.steps!.map((step) => {
    const stage = stepBody(g, step, new KernelWriter(g, step, bufferOf, { shared: whole }));
    red = Math.max(red, stage.red);
    // A block of its own: the steps' value names do not meet.
    return ['{', indent(stage.body, 2), '}'].join('\n');
  });
  // Every invocation's stores of one step are seen by every invocation of the next.
  const code = [
    `@compute @workgroup_size(${WORKGROUP_SIZE})`,
    'fn main(@builtin(local_invocation_index) lid: u32) {',
    indent(stages.join('\nworkgroupBarrier();\nstorageBarrier();\n'), 2),
    '}',
  ].join('\n');
  const floatsOf = (v: number) => sizeOf(g.nodes[v]!.shape as number[]);
  const localFloats = new Map<number, number>();
  for (const v of k.local ?? []) {
    const b = bufferOf.get(v)!;
    localFloats.set(b, Math.max(localFloats.get(b) ?? 1, floatsOf(v)));
  }
  const arrays = [...localFloats]
    .sort(([a], [b]) => a - b)
    .map(([b, n]) => `\nvar<workgroup> w${b}: array<f32, ${n}>;`)
    .join('');
  const draws = [...k.members].some((m) => g.nodes[m]!.op === 'random_uniform');
  const helpers = draws ? `\n\n${PCG_WGSL}` : '';
  return {
    name: 'whole_step',
    wgsl: `${whole.header()}${redDecl(red)}${arrays}${helpers}\n\n${code}\n`,
    buffers: whole.buffers,
    access: whole.access(),
    workgroups: [1, 1, 1],
  };
}
