/**
 * WGSL for a fused kernel (see src/ir/passes/fuse.ts): every member is an expression computed
 * in registers; only the kernel's reads come from buffers and only its roots are stored.
 * Three shapes of kernel: a plain map over the roots' index, a reduction (with its prologue in
 * the loop and its epilogue after it), and a matmul whose store applies the epilogue.
 */
import { type Graph, type Node, isBinary, isUnary, sizeOf, slicedRun } from '../../ir/graph.js';
import { WGSL_BINARY, WGSL_UNARY } from './ops.js';
import { matmulGeometry } from '../../ir/ops/matmul.js';
import { PCG_WGSL, counterValueWgsl } from './ops.js';
import { type FusedKernel, matmulOperand } from '../../ir/passes/fuse.js';
import type { BindingAccess, Tiles } from '../../runtime/spec.js';
import { broadcastStrides } from '../../ir/tensor.js';
import {
  type Binding,
  bindingDecls,
  contiguousStrides,
  elementOf,
  f32Literal,
  grid1d,
  indent,
  main1d,
  offsetExpr,
} from './builder.js';
import {
  type MatmulAccess,
  type MatmulShape,
  type MatmulTiling,
  gpuTilingFor,
  matmulMain,
  tilingFor,
  tilingNeeds,
} from './matmul.js';
import { type GeneratedKernel, type WorkgroupNeeds, accessOf } from './operands.js';

/** Statements emitted so far in one block, and the values already computed there. */
class Scope {
  readonly lines: string[] = [];
  readonly cache = new Map<string, string>();
}

/** Where a kernel's stored values live: storage bindings by buffer, in binding order. */
interface BindingLayout {
  readonly bindingOf: Map<number, Binding>;
  readonly bindingOrder: number[];
}

/** Emits the expressions of one kernel's members, tracking the buffers it binds (row blocks use its bindings). */
export class KernelWriter {
  private readonly bindingOf: Map<number, Binding>;
  private readonly bindingOrder: number[];
  private fresh = 0;
  /** The value of the anchor once computed (`acc`), while emitting its epilogue. */
  anchorValue: string | undefined;

  /**
   * `local` names the buffers kept in workgroup memory instead of bound (a whole step's
   * temporaries); `shared` makes this writer, for one step of a whole-step kernel, use the
   * bindings of the writer of the whole.
   */
  constructor(
    readonly g: Graph,
    readonly k: FusedKernel,
    readonly bufferOf: ReadonlyMap<number, number>,
    options: { readonly local?: ReadonlyMap<number, string>; readonly shared?: KernelWriter } = {},
  ) {
    const { shared } = options;
    const layout: BindingLayout = shared
      ? { bindingOf: shared.bindingOf, bindingOrder: shared.bindingOrder }
      : { bindingOf: new Map(), bindingOrder: [] };
    this.bindingOf = layout.bindingOf;
    this.bindingOrder = layout.bindingOrder;
    if (shared) return;
    for (const [buffer, name] of options.local ?? []) this.bindingOf.set(buffer, { name, writable: true });
    // Reads first, then the roots' buffers (written). A read of a root's own buffer (an
    // in-place update) goes through the writable binding: WebGPU forbids binding it twice.
    const rootBuffers = new Set(k.roots.map((r) => bufferOf.get(r)!));
    for (const m of k.members) {
      for (const s of g.nodes[m]!.srcs) {
        if (k.members.has(s) || g.nodes[s]!.op === 'const') continue;
        const b = bufferOf.get(s)!;
        if (!rootBuffers.has(b)) this.bind(b, false);
      }
    }
    for (const b of rootBuffers) this.bind(b, true);
  }

  private bind(buffer: number, writable: boolean): void {
    if (this.bindingOf.has(buffer)) return;
    this.bindingOf.set(buffer, {
      name: writable ? `out${this.bindingOrder.length}` : `in${this.bindingOrder.length}`,
      writable,
    });
    this.bindingOrder.push(buffer);
  }

  get buffers(): number[] {
    return this.bindingOrder;
  }

  header(): string {
    return bindingDecls(this.bindingOrder.map((b) => this.bindingOf.get(b)!));
  }

  access(): BindingAccess[] {
    return accessOf(this.bindingOrder.map((b) => this.bindingOf.get(b)!));
  }

  /** The storage array holding a stored value. */
  arrayOf(id: number): string {
    return this.bindingOf.get(this.bufferOf.get(id)!)!.name;
  }

  /** Element `index` of a stored value. */
  readAt(id: number, index: string): string {
    return elementOf(this.bindingOf.get(this.bufferOf.get(id)!)!, index);
  }

  /**
   * Declares the binding of stored value `id` as vec4s, for 16-byte loads; refused (false) for
   * a writable binding, whose stores are written element by element.
   */
  vectorize(id: number): boolean {
    const buffer = this.bufferOf.get(id)!;
    const binding = this.bindingOf.get(buffer)!;
    if (binding.writable) return false;
    this.bindingOf.set(buffer, { ...binding, vec4: true });
    return true;
  }

  /** An expression for the value of node `id` at flat index `index` of its own shape. */
  valueAt(id: number, index: string, scope: Scope): string {
    const n = this.g.nodes[id]!;
    if (n.op === 'const') return f32Literal(n.params.value);
    if (id === this.k.anchor && this.anchorValue !== undefined) return this.anchorValue;
    if (!this.k.members.has(id)) return this.readAt(id, index);
    const key = `${id}@${index}`;
    const hit = scope.cache.get(key);
    if (hit) return hit;
    const expr = this.compute(n, index, scope);
    // Index remaps are just reads elsewhere: no temporary needed.
    if (n.op === 'broadcast' || n.op === 'reshape' || n.op === 'transpose') return expr;
    const name = `v${this.fresh++}`;
    scope.lines.push(`let ${name} = ${expr};`);
    scope.cache.set(key, name);
    return name;
  }

  private compute(n: Node, index: string, scope: Scope): string {
    const shape = n.shape as number[];
    const src = (k: number, strides: number[]) => {
      const s = this.g.nodes[n.srcs[k]!]!;
      return this.valueAt(s.id, offsetExpr(shape, strides, index), scope);
    };
    const broadcastSrc = (k: number) =>
      src(k, broadcastStrides(this.g.nodes[n.srcs[k]!]!.shape as number[], shape));
    if (isUnary(n.op)) return WGSL_UNARY[n.op](broadcastSrc(0));
    if (isBinary(n.op)) return WGSL_BINARY[n.op](broadcastSrc(0), broadcastSrc(1));
    switch (n.op) {
      case 'broadcast':
        return broadcastSrc(0);
      case 'reshape':
        return this.valueAt(n.srcs[0]!, index, scope);
      case 'transpose': {
        const own = contiguousStrides(this.g.nodes[n.srcs[0]!]!.shape as number[]);
        return src(
          0,
          n.params.perm.map((p) => own[p]!),
        );
      }
      case 'random_uniform': {
        // The counter and seed are scalars: their broadcast reads are element 0. Same bits as the random kernel.
        const counter = counterValueWgsl(broadcastSrc(0));
        const seed = counterValueWgsl(broadcastSrc(1));
        return `random_unit(${n.params.salt}u ^ ${seed}, ${counter}, ${index})`;
      }
      case 'iota': {
        const { axis } = n.params;
        const stride = contiguousStrides(shape)[axis]!;
        const whole = /^\w+$/.test(index) ? index : `(${index})`;
        return `f32((${whole} / ${stride}u) % ${shape[axis]}u)`;
      }
      default:
        throw new Error(`internal: ${n.op} cannot be computed inside a fused kernel`);
    }
  }

  /** Statements storing every root at `index`, computed in a fresh block. */
  storeRoots(index: string, outer?: Scope): string[] {
    const scope = new Scope();
    if (outer) for (const [k, v] of outer.cache) scope.cache.set(k, v);
    const stores = this.k.roots.map(
      (r) => `${this.arrayOf(r)}[${index}] = ${this.valueAt(r, index, scope)};`,
    );
    return [...scope.lines, ...stores];
  }
}

export function kernelName(g: Graph, k: FusedKernel): string {
  const ops = [...k.members].sort((a, b) => a - b).map((m) => g.nodes[m]!.op);
  const anchor = k.anchor !== undefined ? g.nodes[k.anchor]!.op : undefined;
  const rest = [...new Set(ops.filter((o) => o !== anchor))];
  const name = [anchor, ...rest.slice(0, 3)].filter(Boolean).join('_');
  return rest.length > 3 ? `${name}_etc` : name;
}

export function mapKernel(w: KernelWriter, n: number): string {
  const { strideX } = grid1d(n);
  return main1d(n, strideX, w.storeRoots('i').join('\n'));
}

/**
 * A sliced reduction (the partial pass of a split): output (pre, s, post) reduces run elements
 * [⌊s·R/S⌋, ⌊(s+1)·R/S⌋) of [pre, R, post], one loop, `post` elements apart.
 */
function slicedReduceBody(w: KernelWriter, g: Graph, anchor: Node<'sum' | 'reduce_max'>): string {
  const x = g.nodes[anchor.srcs[0]!]!;
  const slices = anchor.params.slices!;
  const { run, post } = slicedRun(x.shape as number[], anchor.params.axes);
  const loop = new Scope();
  const value = w.valueAt(x.id, 'base + r * ' + `${post}u`, loop);
  const combine = anchor.op === 'sum' ? `acc + ${value}` : `max(acc, ${value})`;
  // max starts from the slice's first element: -inf is not a valid WGSL constant.
  const init = new Scope();
  const first = anchor.op === 'sum' ? '0.0' : w.valueAt(x.id, `base + lo * ${post}u`, init);
  w.anchorValue = 'acc';
  return [
    `let s = (i / ${post}u) % ${slices}u;`,
    `let base = (i / ${post * slices}u) * ${run * post}u + i % ${post}u;`,
    `let lo = (s * ${run}u) / ${slices}u;`,
    `let hi = ((s + 1u) * ${run}u) / ${slices}u;`,
    ...init.lines,
    `var acc = ${first};`,
    `for (var r = lo; r < hi; r++) {`,
    indent([...loop.lines, `acc = ${combine};`].join('\n'), 2),
    '}',
    ...w.storeRoots('i'),
  ].join('\n');
}

/** The statements computing output `i` of a reduction kernel and storing its roots there. */
export function reduceBody(w: KernelWriter, g: Graph, anchor: Node<'sum' | 'reduce_max'>): string {
  if (anchor.params.slices !== undefined) return slicedReduceBody(w, g, anchor);
  const x = g.nodes[anchor.srcs[0]!]!;
  const inShape = x.shape as number[];
  const inStrides = contiguousStrides(inShape);
  const { axes } = anchor.params;
  const kept = inShape.map((_, d) => d).filter((d) => !axes.includes(d));
  const base = offsetExpr(
    kept.map((d) => inShape[d]!),
    kept.map((d) => inStrides[d]!),
    'i',
  );
  const reduced = axes.filter((d) => inShape[d]! > 1);
  const offset = [
    'base',
    ...reduced.map((d) => (inStrides[d] === 1 ? `r${d}` : `r${d} * ${inStrides[d]}u`)),
  ].join(' + ');
  const loop = new Scope();
  const value = w.valueAt(x.id, offset, loop);
  const combine = anchor.op === 'sum' ? `acc + ${value}` : `max(acc, ${value})`;
  let body = [...loop.lines, `acc = ${combine};`].join('\n');
  for (const d of [...reduced].reverse()) {
    body = [`for (var r${d} = 0u; r${d} < ${inShape[d]}u; r${d}++) {`, indent(body, 2), '}'].join('\n');
  }
  // max starts from the first element: -inf is not a valid WGSL constant.
  const init = new Scope();
  const first = anchor.op === 'sum' ? '0.0' : w.valueAt(x.id, 'base', init);
  w.anchorValue = 'acc';
  return [`let base = ${base};`, ...init.lines, `var acc = ${first};`, body, ...w.storeRoots('i')].join('\n');
}

/** A fused matmul's product shape (a batch of rows folded), and how it reads A and B and stores C. */
export function matmulAccess(
  w: KernelWriter,
  g: Graph,
  anchor: Node<'matmul'>,
): {
  shape: Required<MatmulShape>;
  io: MatmulAccess;
  /** Declares the operands that can be as vec4s and gives their quad reads (for the GPU tiles). */
  quads: () => Pick<MatmulAccess, 'a4' | 'b4'>;
} {
  const [a, b] = anchor.srcs.map((s) => g.nodes[s]!) as [Node, Node];
  const { transA, transB } = anchor.params;
  const geometry = matmulGeometry(a.shape as number[], b.shape as number[], anchor.params);
  const { k, n, batchedA, batchedB } = geometry;
  // A batch of untransposed rows times one shared B is a single product of batch·m rows.
  const fold = batchedA && !batchedB && !transA;
  const batch = fold ? 1 : geometry.batch;
  const m = fold ? geometry.batch * geometry.m : geometry.m;
  const layout = (x: Node, batchStride: number, lead: number) => {
    const view = matmulOperand(g, w.k, x);
    return {
      stored: view.stored,
      array: w.arrayOf(view.stored),
      batchStride: view.batchStride ?? batchStride,
      lead: view.lead ?? lead,
    };
  };
  const A = layout(a, m * k, transA ? m : k);
  const B = layout(b, k * n, transB ? k : n);
  const offset = (batched: boolean, stride: number) => (batch > 1 && batched ? `batch * ${stride}u + ` : '');
  const [oa, ob, oc] = [
    offset(batchedA, A.batchStride),
    offset(batchedB, B.batchStride),
    offset(true, m * n),
  ];
  const at = {
    a: (r: string, c: string) =>
      transA ? `${oa}(${c}) * ${A.lead}u + ${r}` : `${oa}(${r}) * ${A.lead}u + ${c}`,
    b: (r: string, c: string) =>
      transB ? `${ob}(${c}) * ${B.lead}u + ${r}` : `${ob}(${r}) * ${B.lead}u + ${c}`,
  };
  const quads = () => {
    // vec4 loads need every stored row and batch of an operand to start at a multiple of 4;
    // one binding serving both operands is vectorised only if both qualify.
    const aligned = (x: typeof A, batched: boolean) =>
      x.lead % 4 === 0 && (batch === 1 || !batched || x.batchStride % 4 === 0);
    const [okA, okB] = [aligned(A, batchedA), aligned(B, batchedB)];
    const shared = A.stored === B.stored;
    const quadA = okA && (!shared || okB) && w.vectorize(A.stored);
    const quadB = okB && (!shared || okA) && w.vectorize(B.stored);
    return {
      ...(quadA && { a4: (r: string, c: string) => `${A.array}[(${at.a(r, c)}) / 4u]` }),
      ...(quadB && { b4: (r: string, c: string) => `${B.array}[(${at.b(r, c)}) / 4u]` }),
    };
  };
  const io: MatmulAccess = {
    a: (r, c) => w.readAt(A.stored, at.a(r, c)),
    b: (r, c) => w.readAt(B.stored, at.b(r, c)),
    store: (r, c, v) => {
      w.anchorValue = v;
      const lines = w.storeRoots('idx');
      return ['{', `  let idx = ${oc}(${r}) * ${n}u + ${c};`, ...lines.map((l) => '  ' + l), '}'].join('\n');
    },
  };
  return { shape: { batch, m, n, k, transA, transB }, io, quads };
}

function matmulKernel(
  w: KernelWriter,
  g: Graph,
  anchor: Node<'matmul'>,
  choice: MatmulTiling | Tiles,
): { code: string; workgroups: [number, number, number]; needs: WorkgroupNeeds } {
  const { shape, io, quads } = matmulAccess(w, g, anchor);
  const tiling =
    typeof choice !== 'string'
      ? choice
      : choice === 'gpu'
        ? gpuTilingFor(shape.m, shape.n)
        : tilingFor(shape.m, shape.n);
  const main = matmulMain(shape, tiling, tiling.kind === 'staged' ? { ...io, ...quads() } : io);
  return { ...main, needs: tilingNeeds(tiling) };
}

/** The WGSL of one fused kernel, given where every stored value lives. */
export function fusedKernel(
  g: Graph,
  k: FusedKernel,
  bufferOf: ReadonlyMap<number, number>,
  tiling: MatmulTiling | Tiles = 'cpu',
): GeneratedKernel {
  const w = new KernelWriter(g, k, bufferOf);
  const size = sizeOf(g.nodes[k.roots[0]!]!.shape as number[]);
  const anchor = k.anchor === undefined ? undefined : g.nodes[k.anchor]!;
  let code: string;
  let workgroups: readonly [number, number, number];
  let needs: WorkgroupNeeds | undefined;
  if (anchor?.op === 'matmul') {
    ({ code, workgroups, needs } = matmulKernel(w, g, anchor, tiling));
  } else if (anchor) {
    if (anchor.op !== 'sum' && anchor.op !== 'reduce_max')
      throw new Error(`internal: ${anchor.op} anchors a kernel`);
    code = main1d(size, grid1d(size).strideX, reduceBody(w, g, anchor));
    workgroups = grid1d(size).workgroups;
  } else {
    code = mapKernel(w, size);
    workgroups = grid1d(size).workgroups;
  }
  const draws = [...k.members].some((m) => g.nodes[m]!.op === 'random_uniform');
  const helpers = draws ? `\n\n${PCG_WGSL}` : '';
  return {
    name: kernelName(g, k),
    wgsl: `${w.header()}${helpers}\n\n${code}\n`,
    buffers: w.buffers,
    access: w.access(),
    workgroups,
    ...(needs && { needs }),
  };
}
