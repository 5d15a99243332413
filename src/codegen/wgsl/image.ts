/**
 * The `image_shift` kernel kind: one invocation per output element reads the pixel its image's
 * (dy, dx, flip) row points at, or writes zero when that is outside the image; the adjoint
 * reads the other way. Same rounding as the reference (src/ir/ops/image.ts).
 */
import { type Node, sizeOf } from '../../ir/graph.js';
import { MOVE_COLUMNS } from '../../ir/ops/image.js';
import { grid1d, main1d } from './builder.js';
import { type GeneratedKernel, type Operands, shapeOf } from './operands.js';

/** The WGSL of one image_shift node (either direction), one invocation per output element. */
export function imageShiftKernel(ops: Operands, node: Node<'image_shift'>): GeneratedKernel {
  const out = shapeOf(node);
  const [, h, w, c] = out as [number, number, number, number];
  const move = (k: number) => ops.load(1, `s * ${MOVE_COLUMNS}u + ${k}u`);
  const mirror = (j: string) => `select(${j}, ${w - 1} - ${j}, flip)`;
  const body = [
    `let c = i % ${c}u;`,
    `let j = i32((i / ${c}u) % ${w}u);`,
    `let r = i32((i / ${c * w}u) % ${h}u);`,
    `let s = i / ${c * w * h}u;`,
    `let dy = i32(floor(${move(0)} + 0.5));`,
    `let dx = i32(floor(${move(1)} + 0.5));`,
    `let flip = ${move(2)} >= 0.5;`,
    node.params.adjoint ? 'let sr = r + dy;' : 'let sr = r - dy;',
    node.params.adjoint ? `let sj = ${mirror('(j + dx)')};` : `let sj = ${mirror('j')} - dx;`,
    `let inside = sr >= 0 && sr < ${h} && sj >= 0 && sj < ${w};`,
    `let at = ((s * ${h}u + u32(clamp(sr, 0, ${h - 1}))) * ${w}u + u32(clamp(sj, 0, ${w - 1}))) * ${c}u + c;`,
    `out[i] = select(0.0, ${ops.load(0, 'at')}, inside);`,
  ];
  const n = sizeOf(out);
  const { workgroups, strideX } = grid1d(n);
  const wgsl = [ops.header(), '', main1d(n, strideX, body.join('\n'))].join('\n') + '\n';
  return { name: node.op, wgsl, buffers: ops.buffers, access: ops.access(), workgroups };
}
