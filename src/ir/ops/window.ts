/**
 * The windowed ops over NHWC images: conv2d (HWIO filters) with its two gradients, and max and
 * average pooling with theirs. Shape rule, reference loop and VJP of each, side by side; ops.ts
 * puts them in its tables. Padding is explicit (top, left, bottom, right), so `same` and
 * `valid` are decided once, by the layer, with {@link samePadding}.
 */
import type { GraphBuilder } from '../builder.js';
import {
  type Conv2dParams,
  type Dim,
  type Node,
  type Pool2dParams,
  type Shape,
  shapeToString,
  sliceOf,
} from '../graph.js';
import { type DType, type Tensor, allocate } from '../tensor.js';

type ShapeResult = Shape | { readonly error: string };
interface Ctx {
  readonly dtype: DType;
}

/** Output length of a window sweep: ⌊(n + before + after − d·(k − 1) − 1) / s⌋ + 1. */
export function windowOutput(
  n: number,
  k: number,
  s: number,
  d: number,
  before: number,
  after: number,
): number {
  return Math.floor((n + before + after - d * (k - 1) - 1) / s) + 1;
}

/**
 * TensorFlow's `same` padding: the output is ⌈n / s⌉ long and the padding needed for that is
 * split with the smaller half first (top/left), as Keras does.
 */
export function samePadding(n: number, k: number, s: number, d: number): [number, number] {
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + d * (k - 1) + 1 - n, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Everything a loop over one window sweep needs, with the image's spatial size bound. */
interface Sweep {
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  readonly dh: number;
  readonly dw: number;
  readonly pt: number;
  readonly pl: number;
}

function convSweep(p: Conv2dParams, kh: number, kw: number): Sweep {
  return {
    kh,
    kw,
    sh: p.strides[0],
    sw: p.strides[1],
    dh: p.dilation[0],
    dw: p.dilation[1],
    pt: p.pad[0],
    pl: p.pad[1],
  };
}

function poolSweep(p: Pool2dParams): Sweep {
  return {
    kh: p.window[0],
    kw: p.window[1],
    sh: p.strides[0],
    sw: p.strides[1],
    dh: 1,
    dw: 1,
    pt: p.pad[0],
    pl: p.pad[1],
  };
}

function spatialOut(h: number, w: number, s: Sweep, pad: readonly number[]): [number, number] {
  return [
    windowOutput(h, s.kh, s.sh, s.dh, pad[0]!, pad[2]!),
    windowOutput(w, s.kw, s.sw, s.dw, pad[1]!, pad[3]!),
  ];
}

// ---------------------------------------------------------------------------------------------
// Shape rules.

function imageError(what: string, x: Shape): string | undefined {
  if (x.length !== 4) return `${what} needs an NHWC image of rank 4, got ${shapeToString(x)}`;
  if (typeof x[1] !== 'number' || typeof x[2] !== 'number' || typeof x[3] !== 'number')
    return `${what} needs fixed height, width and channels, got ${shapeToString(x)}`;
  return undefined;
}

function checkOutput(what: string, x: Shape, oh: number, ow: number): string | undefined {
  return oh >= 1 && ow >= 1
    ? undefined
    : `${what}: the window does not fit the input ${shapeToString(x)} (the output would be ${oh}×${ow})`;
}

export function conv2dShape([x, w]: readonly Shape[], p: Conv2dParams): ShapeResult {
  const bad = imageError('conv2d', x!);
  if (bad) return { error: bad };
  if (w!.length !== 4 || w!.some((d) => typeof d !== 'number'))
    return { error: `conv2d needs a filter of shape [height, width, in, out], got ${shapeToString(w!)}` };
  const [kh, kw, ci, co] = w as number[];
  if (ci !== x![3])
    return {
      error: `conv2d: the input ${shapeToString(x!)} has ${x![3]} channels but the filter ${shapeToString(w!)} expects ${ci}`,
    };
  const [oh, ow] = spatialOut(x![1] as number, x![2] as number, convSweep(p, kh!, kw!), p.pad);
  const tooSmall = checkOutput('conv2d', x!, oh, ow);
  return tooSmall ? { error: tooSmall } : [x![0]!, oh, ow, co!];
}

export function conv2dInputGradShape(
  [g, w]: readonly Shape[],
  p: Conv2dParams & { inputHW: readonly [number, number] },
): ShapeResult {
  const x: Shape = [g![0]!, p.inputHW[0], p.inputHW[1], w![2]!];
  const forward = conv2dShape([x, w!], p);
  if ('error' in forward) return forward;
  return sameDims(forward, g!)
    ? x
    : { error: `conv2d_input_grad: ${shapeToString(g!)} is not the output shape ${shapeToString(forward)}` };
}

export function conv2dFilterGradShape(
  [x, g]: readonly Shape[],
  p: Conv2dParams & { kernelHW: readonly [number, number]; slices?: number },
): ShapeResult {
  const w: Shape = [p.kernelHW[0], p.kernelHW[1], x![3]!, g![3]!];
  const forward = conv2dShape([x!, w], p);
  if ('error' in forward) return forward;
  return sameDims(forward, g!)
    ? p.slices === undefined
      ? w
      : [p.slices, ...w]
    : { error: `conv2d_filter_grad: ${shapeToString(g!)} is not the output shape ${shapeToString(forward)}` };
}

export function poolShape(what: string): (srcs: readonly Shape[], p: Pool2dParams) => ShapeResult {
  return ([x], p) => {
    const bad = imageError(what, x!);
    if (bad) return { error: bad };
    const [oh, ow] = spatialOut(x![1] as number, x![2] as number, poolSweep(p), p.pad);
    const tooSmall = checkOutput(what, x!, oh, ow);
    return tooSmall ? { error: tooSmall } : [x![0]!, oh, ow, x![3]!];
  };
}

export function maxPoolGradShape([x, g]: readonly Shape[], p: Pool2dParams): ShapeResult {
  const forward = poolShape('max_pool2d_grad')([x!], p);
  if ('error' in forward) return forward;
  return sameDims(forward, g!)
    ? x!
    : { error: `max_pool2d_grad: ${shapeToString(g!)} is not the output shape ${shapeToString(forward)}` };
}

export function avgPoolGradShape(
  [g]: readonly Shape[],
  p: Pool2dParams & { inputHW: readonly [number, number] },
): ShapeResult {
  const x: Shape = [g![0]!, p.inputHW[0], p.inputHW[1], g![3]!];
  const forward = poolShape('avg_pool2d_grad')([x], p);
  if ('error' in forward) return forward;
  return sameDims(forward, g!)
    ? x
    : { error: `avg_pool2d_grad: ${shapeToString(g!)} is not the output shape ${shapeToString(forward)}` };
}

function sameDims(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d: Dim, i) => d === b[i]);
}

// ---------------------------------------------------------------------------------------------
// Reference implementations: the direct loops, one output (or input) element at a time.

/**
 * Visits every (output position, window tap) pair whose input position is inside the image:
 * `visit(n, oh, ow, kh, kw, ih, iw)`.
 */
function forEachTap(
  n: number,
  [oh, ow]: readonly number[],
  [h, w]: readonly number[],
  s: Sweep,
  visit: (b: number, y: number, x: number, ky: number, kx: number, iy: number, ix: number) => void,
): void {
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh!; y++)
      for (let x = 0; x < ow!; x++)
        for (let ky = 0; ky < s.kh; ky++) {
          const iy = y * s.sh + ky * s.dh - s.pt;
          if (iy < 0 || iy >= h!) continue;
          for (let kx = 0; kx < s.kw; kx++) {
            const ix = x * s.sw + kx * s.dw - s.pl;
            if (ix >= 0 && ix < w!) visit(b, y, x, ky, kx, iy, ix);
          }
        }
}

/** y[n,oh,ow,o] = Σ x[n, oh·s + kh·d − pt, ow·s + kw·d − pl, c] · w[kh,kw,c,o] over in-bounds taps. */
export function conv2dReference(
  x: Tensor,
  w: Tensor,
  p: Conv2dParams,
  out: readonly number[],
  ctx: Ctx,
): Tensor {
  const [n, h, wd, c] = x.shape as [number, number, number, number];
  const [kh, kw, , co] = w.shape as [number, number, number, number];
  const y = allocate(
    ctx.dtype,
    out.reduce((a, b) => a * b, 1),
  );
  const [oh, ow] = [out[1]!, out[2]!];
  forEachTap(n, [oh, ow], [h, wd], convSweep(p, kh, kw), (b, oy, ox, ky, kx, iy, ix) => {
    const xBase = ((b * h + iy) * wd + ix) * c;
    const yBase = ((b * oh + oy) * ow + ox) * co;
    for (let ci = 0; ci < c; ci++) {
      const xv = x.data[xBase + ci]!;
      const wBase = ((ky * kw + kx) * c + ci) * co;
      for (let o = 0; o < co; o++) y[yBase + o]! += xv * w.data[wBase + o]!;
    }
  });
  return { shape: out, data: y };
}

/** dx[n,ih,iw,c] = Σ g[n,oh,ow,o] · w[kh,kw,c,o] over the taps that read (ih, iw). */
export function conv2dInputGradReference(
  g: Tensor,
  w: Tensor,
  p: Conv2dParams,
  out: readonly number[],
  ctx: Ctx,
): Tensor {
  const [n, h, wd, c] = out as [number, number, number, number];
  const [kh, kw, , co] = w.shape as [number, number, number, number];
  const [oh, ow] = [g.shape[1]!, g.shape[2]!];
  const dx = allocate(ctx.dtype, n * h * wd * c);
  forEachTap(n, [oh, ow], [h, wd], convSweep(p, kh, kw), (b, oy, ox, ky, kx, iy, ix) => {
    const xBase = ((b * h + iy) * wd + ix) * c;
    const gBase = ((b * oh + oy) * ow + ox) * co;
    for (let ci = 0; ci < c; ci++) {
      const wBase = ((ky * kw + kx) * c + ci) * co;
      let acc = 0;
      for (let o = 0; o < co; o++) acc += g.data[gBase + o]! * w.data[wBase + o]!;
      dx[xBase + ci]! += acc;
    }
  });
  return { shape: out, data: dx };
}

/** dw[kh,kw,c,o] = Σ x[n, oh·s + kh·d − pt, ow·s + kw·d − pl, c] · g[n,oh,ow,o]. */
export function conv2dFilterGradReference(
  x: Tensor,
  g: Tensor,
  p: Conv2dParams & { slices?: number },
  out: readonly number[],
  ctx: Ctx,
): Tensor {
  const [n, h, wd, c] = x.shape as [number, number, number, number];
  const [kh, kw, , co] = out.slice(p.slices === undefined ? 0 : 1) as [number, number, number, number];
  const [oh, ow] = [g.shape[1]!, g.shape[2]!];
  const slices = p.slices ?? 1;
  const dw = allocate(ctx.dtype, slices * kh * kw * c * co);
  forEachTap(n, [oh, ow], [h, wd], convSweep(p, kh, kw), (b, oy, ox, ky, kx, iy, ix) => {
    const xBase = ((b * h + iy) * wd + ix) * c;
    const gBase = ((b * oh + oy) * ow + ox) * co;
    const slab = sliceOf(b * oh + oy, n * oh, slices) * kh * kw * c * co;
    for (let ci = 0; ci < c; ci++) {
      const xv = x.data[xBase + ci]!;
      const wBase = slab + ((ky * kw + kx) * c + ci) * co;
      for (let o = 0; o < co; o++) dw[wBase + o]! += xv * g.data[gBase + o]!;
    }
  });
  return { shape: out, data: dw };
}

/**
 * For each output element, the flat input offset of its window's first maximum (padding never
 * counts), or −1 for a window wholly in the padding.
 */
function argmaxOffsets(x: Tensor, p: Pool2dParams, out: readonly number[]): Int32Array {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [oh, ow] = [out[1]!, out[2]!];
  const best = new Int32Array(n * oh * ow * c).fill(-1);
  forEachTap(n, [oh, ow], [h, w], poolSweep(p), (b, oy, ox, _ky, _kx, iy, ix) => {
    const yBase = ((b * oh + oy) * ow + ox) * c;
    const xBase = ((b * h + iy) * w + ix) * c;
    for (let ci = 0; ci < c; ci++) {
      const cur = best[yBase + ci]!;
      if (cur < 0 || x.data[xBase + ci]! > x.data[cur]!) best[yBase + ci] = xBase + ci;
    }
  });
  return best;
}

export function maxPoolReference(x: Tensor, p: Pool2dParams, out: readonly number[], ctx: Ctx): Tensor {
  const best = argmaxOffsets(x, p, out);
  const y = allocate(ctx.dtype, best.length);
  best.forEach((o, i) => (y[i] = o < 0 ? 0 : x.data[o]!));
  return { shape: out, data: y };
}

export function maxPoolGradReference(x: Tensor, g: Tensor, p: Pool2dParams, ctx: Ctx): Tensor {
  const best = argmaxOffsets(x, p, g.shape);
  const dx = allocate(ctx.dtype, x.data.length);
  best.forEach((o, i) => {
    if (o >= 0) dx[o]! += g.data[i]!;
  });
  return { shape: x.shape, data: dx };
}

/** In-bounds taps of each output position (one value per (n, oh, ow); the same for every channel). */
function windowCounts(
  n: number,
  hw: readonly number[],
  out: readonly number[],
  p: Pool2dParams,
): Float64Array {
  const [oh, ow] = [out[1]!, out[2]!];
  const counts = new Float64Array(n * oh * ow);
  forEachTap(n, [oh, ow], hw, poolSweep(p), (b, oy, ox) => counts[(b * oh + oy) * ow + ox]!++);
  return counts;
}

/** The mean over the in-bounds part of each window: padding is not counted (Keras, TF). */
export function avgPoolReference(x: Tensor, p: Pool2dParams, out: readonly number[], ctx: Ctx): Tensor {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [oh, ow] = [out[1]!, out[2]!];
  const counts = windowCounts(n, [h, w], out, p);
  const y = allocate(ctx.dtype, n * oh * ow * c);
  forEachTap(n, [oh, ow], [h, w], poolSweep(p), (b, oy, ox, _ky, _kx, iy, ix) => {
    const pos = (b * oh + oy) * ow + ox;
    const xBase = ((b * h + iy) * w + ix) * c;
    for (let ci = 0; ci < c; ci++) y[pos * c + ci]! += x.data[xBase + ci]! / counts[pos]!;
  });
  return { shape: out, data: y };
}

/** The exact adjoint of {@link avgPoolReference}: each window's g spread over its in-bounds taps. */
export function avgPoolGradReference(g: Tensor, p: Pool2dParams, out: readonly number[], ctx: Ctx): Tensor {
  const [n, h, w, c] = out as [number, number, number, number];
  const [oh, ow] = [g.shape[1]!, g.shape[2]!];
  const counts = windowCounts(n, [h, w], g.shape, p);
  const dx = allocate(ctx.dtype, n * h * w * c);
  forEachTap(n, [oh, ow], [h, w], poolSweep(p), (b, oy, ox, _ky, _kx, iy, ix) => {
    const pos = (b * oh + oy) * ow + ox;
    const xBase = ((b * h + iy) * w + ix) * c;
    for (let ci = 0; ci < c; ci++) dx[xBase + ci]! += g.data[pos * c + ci]! / counts[pos]!;
  });
  return { shape: out, data: dx };
}

// ---------------------------------------------------------------------------------------------
// VJPs. conv2d and its two gradients are closed under differentiation: each one's VJP is built
// from the other two (and itself), so second derivatives need no new op.

const spatial = (b: GraphBuilder, id: number): [number, number] => {
  const s = b.shapeOf(id);
  return [s[1] as number, s[2] as number];
};

function convParams(p: Conv2dParams): Conv2dParams {
  return { strides: p.strides, dilation: p.dilation, pad: p.pad };
}

export function conv2dVjp(b: GraphBuilder, node: Node<'conv2d'>, g: number): (number | null)[] {
  const [x, w] = node.srcs as [number, number];
  const p = convParams(node.params);
  return [
    b.emit('conv2d_input_grad', [g, w], { ...p, inputHW: spatial(b, x) }),
    b.emit('conv2d_filter_grad', [x, g], {
      ...p,
      kernelHW: [b.shapeOf(w)[0] as number, b.shapeOf(w)[1] as number],
    }),
  ];
}

export function conv2dInputGradVjp(
  b: GraphBuilder,
  node: Node<'conv2d_input_grad'>,
  ct: number,
): (number | null)[] {
  const [g, w] = node.srcs as [number, number];
  const p = convParams(node.params);
  return [
    b.emit('conv2d', [ct, w], p),
    b.emit('conv2d_filter_grad', [ct, g], {
      ...p,
      kernelHW: [b.shapeOf(w)[0] as number, b.shapeOf(w)[1] as number],
    }),
  ];
}

export function conv2dFilterGradVjp(
  b: GraphBuilder,
  node: Node<'conv2d_filter_grad'>,
  ct: number,
): (number | null)[] {
  // Splits are made after autodiff, for occupancy: a split filter gradient is never differentiated.
  if (node.params.slices !== undefined)
    throw new Error('internal: a split conv2d_filter_grad has no gradient');
  const [x, g] = node.srcs as [number, number];
  const p = convParams(node.params);
  return [
    b.emit('conv2d_input_grad', [g, ct], { ...p, inputHW: spatial(b, x) }),
    b.emit('conv2d', [x, ct], p),
  ];
}

function poolParams(p: Pool2dParams): Pool2dParams {
  return { window: p.window, strides: p.strides, pad: p.pad };
}

export function maxPoolVjp(b: GraphBuilder, node: Node<'max_pool2d'>, g: number): (number | null)[] {
  return [b.emit('max_pool2d_grad', [node.srcs[0]!, g], poolParams(node.params))];
}

/** The argmax routing is piecewise constant in x; its adjoint in g would be a new op, not needed by any step. */
export function maxPoolGradVjp(): (number | null)[] {
  throw new Error('internal: the second derivative of max_pool2d is not implemented');
}

export function avgPoolVjp(b: GraphBuilder, node: Node<'avg_pool2d'>, g: number): (number | null)[] {
  return [b.emit('avg_pool2d_grad', [g], { ...poolParams(node.params), inputHW: spatial(b, node.srcs[0]!) })];
}

/** avg_pool2d_grad is linear and its adjoint is avg_pool2d itself. */
export function avgPoolGradVjp(
  b: GraphBuilder,
  node: Node<'avg_pool2d_grad'>,
  ct: number,
): (number | null)[] {
  return [b.emit('avg_pool2d', [ct], poolParams(node.params))];
}
