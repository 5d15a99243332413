/**
 * The `pool` kernel kind: max and average pooling over NHWC windows and their gradients, one
 * invocation per output element. Padded positions never count: a max ignores them, an average
 * divides by the in-bounds taps (docs/numerics.md). The max gradient recomputes each window's
 * first maximum rather than storing argmax indices, so it needs no extra buffer.
 */
import { type Node, type Pool2dParams, sizeOf } from '../../ir/graph.js';
import { grid1d, main1d } from './builder.js';
import { type GeneratedKernel, type Operands, shapeOf } from './operands.js';

type PoolOp = 'max_pool2d' | 'avg_pool2d' | 'max_pool2d_grad' | 'avg_pool2d_grad';

/** Decomposes the flat index `i` of an NHWC tensor into `b`, `y`, `x`, `ch`. */
function nhwc(shape: readonly number[]): string[] {
  const [, h, w, c] = shape as [number, number, number, number];
  return [
    `let ch = i % ${c}u;`,
    `let x = i32((i / ${c}u) % ${w}u);`,
    `let y = i32((i / ${c * w}u) % ${h}u);`,
    `let b = i / ${c * w * h}u;`,
  ];
}

/** Loops over the in-bounds taps of output window (oy, ox), with `iy`, `ix` in scope in `body`. */
function windowLoop(p: Pool2dParams, h: number, w: number, oy: string, ox: string, body: string[]): string[] {
  return [
    `for (var ky = 0; ky < ${p.window[0]}; ky++) {`,
    `  let iy = ${oy} * ${p.strides[0]} - ${p.pad[0]} + ky;`,
    `  if (iy < 0 || iy >= ${h}) { continue; }`,
    `  for (var kx = 0; kx < ${p.window[1]}; kx++) {`,
    `    let ix = ${ox} * ${p.strides[1]} - ${p.pad[1]} + kx;`,
    `    if (ix < 0 || ix >= ${w}) { continue; }`,
    ...body.map((l) => `    ${l}`),
    '  }',
    '}',
  ];
}

/** Loops over the output windows that contain input pixel (y, x), with `oy`, `ox` in scope. */
function coveringWindows(p: Pool2dParams, oh: number, ow: number, body: string[]): string[] {
  const [sh, sw] = p.strides;
  return [
    `for (var ky = 0; ky < ${p.window[0]}; ky++) {`,
    `  let ty = y + ${p.pad[0]} - ky;`,
    `  if (ty < 0 || ty % ${sh} != 0 || ty / ${sh} >= ${oh}) { continue; }`,
    `  let oy = ty / ${sh};`,
    `  for (var kx = 0; kx < ${p.window[1]}; kx++) {`,
    `    let tx = x + ${p.pad[1]} - kx;`,
    `    if (tx < 0 || tx % ${sw} != 0 || tx / ${sw} >= ${ow}) { continue; }`,
    `    let ox = tx / ${sw};`,
    ...body.map((l) => `    ${l}`),
    '  }',
    '}',
  ];
}

function pixel(img: string, y: string, x: string, h: number, w: number, c: number): string {
  return `((${img} * ${h}u + u32(${y})) * ${w}u + u32(${x})) * ${c}u + ch`;
}

export function poolKernel(ops: Operands, node: Node<PoolOp>): GeneratedKernel {
  const out = shapeOf(node);
  const p = node.params;
  let body: string[];
  if (node.op === 'max_pool2d' || node.op === 'avg_pool2d') {
    const [, h, w, c] = ops.shape(0) as [number, number, number, number];
    const load = ops.load(0, pixel('b', 'iy', 'ix', h, w, c));
    const tap =
      node.op === 'max_pool2d'
        ? [`let v = ${load};`, 'if (count == 0.0 || v > acc) { acc = v; }', 'count += 1.0;']
        : [`acc += ${load};`, 'count += 1.0;']; // the mean over in-bounds taps
    body = [
      ...nhwc(out),
      'var acc = 0.0;',
      'var count = 0.0;',
      ...windowLoop(p, h, w, 'y', 'x', tap),
      node.op === 'max_pool2d' ? 'out[i] = acc;' : 'out[i] = acc / max(count, 1.0);',
    ];
  } else if (node.op === 'avg_pool2d_grad') {
    const [, oh, ow, c] = ops.shape(0) as [number, number, number, number];
    const [, h, w] = out as [number, number, number];
    body = [
      ...nhwc(out),
      'var acc = 0.0;',
      ...coveringWindows(p, oh, ow, [
        'var count = 0.0;',
        ...windowLoop(p, h, w, 'oy', 'ox', ['count += 1.0;']),
        `acc += ${ops.load(0, pixel('b', 'oy', 'ox', oh, ow, c))} / count;`,
      ]),
      'out[i] = acc;',
    ];
  } else {
    // max_pool2d_grad(x, g): g flows to the window's first maximum, as the reference.
    const [, h, w, c] = ops.shape(0) as [number, number, number, number];
    const [, oh, ow] = ops.shape(1) as [number, number, number];
    body = [
      ...nhwc(out),
      'var acc = 0.0;',
      ...coveringWindows(p, oh, ow, [
        'var best = 0.0;',
        'var by = -1;',
        'var bx = -1;',
        ...windowLoop(p, h, w, 'oy', 'ox', [
          `let v = ${ops.load(0, pixel('b', 'iy', 'ix', h, w, c))};`,
          'if (by < 0 || v > best) { best = v; by = iy; bx = ix; }',
        ]),
        `if (by == y && bx == x) { acc += ${ops.load(1, pixel('b', 'oy', 'ox', oh, ow, c))}; }`,
      ]),
      'out[i] = acc;',
    ];
  }
  const n = sizeOf(out);
  const { workgroups, strideX } = grid1d(n);
  const wgsl = [ops.header(), '', main1d(n, strideX, body.join('\n'))].join('\n') + '\n';
  return { name: node.op, wgsl, buffers: ops.buffers, access: ops.access(), workgroups };
}
