/**
 * The reference interpreter: runs a graph on the CPU with each op's reference implementation, in
 * f64 (the oracle for gradients and kernels) or f32 (to compare with the GPU bit-for-bit-ish).
 */
import { type Graph, type Node, bindShape } from './graph.js';
import { type EvalContext, REFERENCE, type Reference } from './ops.js';
import { type DType, type Tensor, allocate } from './tensor.js';

export interface InterpretOptions {
  readonly dtype?: DType;
  /** Sizes of symbolic dims; `B` is inferred from data inputs when omitted. */
  readonly dims?: Readonly<Record<string, number>>;
}

/** Binds symbolic dims from the shapes of the supplied inputs. */
function inferDims(
  g: Graph,
  inputs: ReadonlyMap<string, Tensor>,
  given: Record<string, number>,
): Record<string, number> {
  const dims = { ...given };
  for (const n of g.nodes) {
    if (n.op !== 'input') continue;
    const t = inputs.get(n.params.name);
    if (!t) continue;
    n.shape.forEach((d, i) => {
      if (typeof d === 'string' && dims[d] === undefined) dims[d] = t.shape[i]!;
    });
  }
  return dims;
}

/** Evaluates every node; returns the values indexed by node id. */
export function interpret(
  g: Graph,
  inputs: ReadonlyMap<string, Tensor>,
  options: InterpretOptions = {},
): Tensor[] {
  const dtype = options.dtype ?? 'f64';
  const ctx: EvalContext = { dtype, dims: inferDims(g, inputs, { ...options.dims }) };
  const values: Tensor[] = [];
  for (const n of g.nodes) {
    if (n.op === 'input') {
      const name = n.params.name;
      const t = inputs.get(name);
      if (!t) throw new Error(`interpret: no value for input '${name}'`);
      const shape = bindShape(n.shape, ctx.dims);
      if (shape.length !== t.shape.length || shape.some((d, i) => d !== t.shape[i])) {
        throw new Error(`interpret: input '${name}' has shape [${t.shape}], expected [${shape}]`);
      }
      const data = allocate(dtype, t.data.length);
      data.set(t.data);
      values.push({ shape, data });
      continue;
    }
    const reference = REFERENCE[n.op] as Reference<typeof n.op>;
    values.push(
      reference(
        n.srcs.map((s) => values[s]!),
        n as never,
        ctx,
      ),
    );
  }
  return values;
}

/** Evaluates a graph and returns its outputs by name. */
export function interpretOutputs(
  g: Graph,
  inputs: ReadonlyMap<string, Tensor>,
  options: InterpretOptions = {},
): Map<string, Tensor> {
  const values = interpret(g, inputs, options);
  return new Map(g.outputs.map((o) => [o.name, values[o.node]!]));
}
