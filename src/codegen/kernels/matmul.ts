/** The `matmul` kernel kind: op(A)·op(B) with transposed operands read in place. */
import type { Node } from '../../ir/graph.js';
import type { GeneratedKernel, Operands } from './operands.js';
import { shapeOf } from './operands.js';

const TILE = 16;

/** C = op(A)·op(B), 16×16 output tiles staged through workgroup memory; edges are masked. */
export function matmulKernel(ops: Operands, node: Node<'matmul'>): GeneratedKernel {
  const { transA, transB } = node.params;
  const [m, n] = shapeOf(node) as [number, number];
  const k = transA ? ops.shape(0)[0]! : ops.shape(0)[1]!;
  const aAt = (r: string, c: string) => ops.load(0, transA ? `${c} * ${m}u + ${r}` : `${r} * ${k}u + ${c}`);
  const bAt = (r: string, c: string) => ops.load(1, transB ? `${c} * ${k}u + ${r}` : `${r} * ${n}u + ${c}`);
  const wgsl = `${ops.header()}

var<workgroup> tileA: array<array<f32, ${TILE}>, ${TILE}>;
var<workgroup> tileB: array<array<f32, ${TILE}>, ${TILE}>;

@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wg.y * ${TILE}u + lid.y;
  let col = wg.x * ${TILE}u + lid.x;
  var acc = 0.0;
  for (var t = 0u; t < ${k}u; t += ${TILE}u) {
    let ak = t + lid.x;
    let bk = t + lid.y;
    tileA[lid.y][lid.x] = select(0.0, ${aAt('row', 'ak')}, row < ${m}u && ak < ${k}u);
    tileB[lid.y][lid.x] = select(0.0, ${bAt('bk', 'col')}, bk < ${k}u && col < ${n}u);
    workgroupBarrier();
    for (var j = 0u; j < ${TILE}u; j++) {
      acc += tileA[lid.y][j] * tileB[j][lid.x];
    }
    workgroupBarrier();
  }
  if (row < ${m}u && col < ${n}u) {
    out[row * ${n}u + col] = acc;
  }
}
`;
  return {
    name: `matmul${transA ? '_tA' : ''}${transB ? '_tB' : ''}`,
    wgsl,
    buffers: ops.buffers,
    workgroups: [Math.ceil(n / TILE), Math.ceil(m / TILE), 1],
  };
}
