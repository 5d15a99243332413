/**
 * WGSL for a row-block kernel (src/codegen/rows.ts): one workgroup; each invocation takes the
 * rows lid, lid + 64, …; the partials of a sum over rows are combined by a tree in workgroup
 * memory (a fixed order, so the result is the same on every run), and one invocation stores the
 * scalar roots at the end.
 */
import { type Graph, type Node, isBinary, isUnary } from '../../ir/graph.js';
import type { FusedKernel } from '../../ir/passes/fuse.js';
import { type RowIndex, type RowStep, rowProgram } from '../rows.js';
import { WORKGROUP_SIZE, f32Literal, indent } from './builder.js';
import { KernelWriter } from './fused.js';
import type { GeneratedKernel } from './operands.js';
import { WGSL_BINARY, WGSL_UNARY } from './ops.js';

/** The u32 expression of a flat index `r·row + c·col`. */
function indexExpr(i: RowIndex): string {
  const terms = [
    ...(i.row ? [i.row === 1 ? 'r' : `r * ${i.row}u`] : []),
    ...(i.col ? [i.col === 1 ? 'c' : `c * ${i.col}u`] : []),
  ];
  return terms.length ? terms.join(' + ') : '0u';
}

export function rowKernelName(g: Graph, k: FusedKernel): string {
  const ops = [...new Set([...k.members].sort((a, b) => a - b).map((m) => g.nodes[m]!.op))];
  return ['rows', ...ops.slice(0, 3)].join('_') + (ops.length > 3 ? '_etc' : '');
}

/**
 * The statements of a row block run by the invocation `lid` of one workgroup, reading and
 * storing through `w`, and the floats of workgroup memory (`red`) its sums over rows use.
 */
export function rowBlockBody(g: Graph, k: FusedKernel, w: KernelWriter): { body: string; red: number } {
  const program = rowProgram(g, k);
  const { rows, cols } = program.block;
  const names = new Map<number, string>();
  const partial = new Map(program.crossRow.map((x, i) => [x, `p${i}`]));
  let fresh = 0;

  const read = (n: Node, s: number): string => {
    const src = g.nodes[n.srcs[s]!]!;
    if (src.op === 'const') return f32Literal(src.params.value);
    if (k.members.has(src.id)) {
      const name = names.get(src.id);
      if (name === undefined) throw new Error(`internal: %${src.id} is read before it is computed`);
      return name;
    }
    return `${w.arrayOf(src.id)}[${indexExpr(program.reads.get(n.id)![s]!)}]`;
  };
  const define = (id: number, expr: string, out: string[]) => {
    const name = `v${fresh++}`;
    out.push(`let ${name} = ${expr};`);
    names.set(id, name);
  };
  const valueOf = (n: Node): string => {
    if (isUnary(n.op)) return WGSL_UNARY[n.op](read(n, 0));
    if (isBinary(n.op)) return WGSL_BINARY[n.op](read(n, 0), read(n, 1));
    if (n.op === 'one_hot') {
      const v = read(n, 0);
      return `select(0.0, 1.0, ${v} > -0.5 && floor(${v} + 0.5) == f32(c))`;
    }
    // A remap keeps the layout; a reduction over axes of size one is its source.
    return read(n, 0);
  };

  const render = (steps: readonly RowStep[], out: string[]): void => {
    for (const step of steps) {
      switch (step.op) {
        case 'value':
          define(step.node, valueOf(g.nodes[step.node]!), out);
          break;
        case 'reduceColumns': {
          const n = g.nodes[step.node]!;
          const acc = `a${fresh++}`;
          const body: string[] = [];
          render(step.body, body);
          const v = read(n, 0);
          // max starts from the first column, as the reference (no -inf literal in WGSL).
          body.push(
            n.op === 'sum' ? `${acc} = ${acc} + ${v};` : `${acc} = select(max(${acc}, ${v}), ${v}, c == 0u);`,
          );
          out.push(
            `var ${acc} = 0.0;`,
            `for (var c = 0u; c < ${cols}u; c++) {`,
            indent(body.join('\n'), 2),
            '}',
          );
          define(step.node, acc, out);
          break;
        }
        case 'columns': {
          const body: string[] = [];
          render(step.body, body);
          out.push(`for (var c = 0u; c < ${cols}u; c++) {`, indent(body.join('\n'), 2), '}');
          break;
        }
        case 'rows': {
          const body: string[] = [];
          render(step.body, body);
          out.push(
            `for (var r = lid; r < ${rows}u; r += ${WORKGROUP_SIZE}u) {`,
            indent(body.join('\n'), 2),
            '}',
          );
          break;
        }
        case 'partial': {
          const p = partial.get(step.node)!;
          out.push(`${p} = ${p} + ${read(g.nodes[step.node]!, 0)};`);
          break;
        }
        case 'combine': {
          // One tree for every sum of the stage: sum k's partials at red[k·64 + lid].
          const at = (k: number, i: string) => (k ? `${k * WORKGROUP_SIZE}u + ${i}` : i);
          const adds = step.nodes.map(
            (_, k) => `red[${at(k, 'lid')}] = red[${at(k, 'lid')}] + red[${at(k, 'lid + width')}];`,
          );
          out.push(
            ...step.nodes.map((x, k) => `red[${at(k, 'lid')}] = ${partial.get(x)!};`),
            'workgroupBarrier();',
            `for (var width = ${WORKGROUP_SIZE / 2}u; width > 0u; width = width >> 1u) {`,
            '  if (lid < width) {',
            indent(adds.join('\n'), 4),
            '  }',
            '  workgroupBarrier();',
            '}',
          );
          step.nodes.forEach((x, k) => define(x, `red[${at(k, '0u')}]`, out));
          out.push('workgroupBarrier();');
          break;
        }
        case 'store': {
          const at = indexExpr(program.storeIndex.get(step.node)!);
          out.push(`${w.arrayOf(step.node)}[${at}] = ${names.get(step.node)!};`);
          break;
        }
        case 'leader': {
          const body: string[] = [];
          render(step.body, body);
          // Every invocation has read what the scalars overwrite (accumulators) before this.
          if (out[out.length - 1] !== 'workgroupBarrier();') out.push('workgroupBarrier();');
          out.push('if (lid == 0u) {', indent(body.join('\n'), 2), '}');
          break;
        }
      }
    }
  };

  const body: string[] = program.crossRow.map((x) => `var ${partial.get(x)!} = 0.0;`);
  render(program.steps, body);
  // Workgroup memory for the widest stage's sums.
  const widest = Math.max(0, ...program.steps.map((s) => (s.op === 'combine' ? s.nodes.length : 0)));
  return { body: body.join('\n'), red: widest * WORKGROUP_SIZE };
}

/** The declaration of the workgroup memory of row blocks' sums over rows (none for 0 floats). */
export function redDecl(floats: number): string {
  return floats ? `\nvar<workgroup> red: array<f32, ${floats}>;` : '';
}

export function rowBlockKernel(
  g: Graph,
  k: FusedKernel,
  bufferOf: ReadonlyMap<number, number>,
): GeneratedKernel {
  const w = new KernelWriter(g, k, bufferOf);
  const { body, red } = rowBlockBody(g, k, w);
  const shared = redDecl(red);
  const code = [
    `@compute @workgroup_size(${WORKGROUP_SIZE})`,
    'fn main(@builtin(local_invocation_index) lid: u32) {',
    indent(body, 2),
    '}',
  ].join('\n');
  return {
    name: rowKernelName(g, k),
    wgsl: `${w.header()}${shared}\n\n${code}\n`,
    buffers: w.buffers,
    access: w.access(),
    workgroups: [1, 1, 1],
  };
}
