/**
 * Wasm for a row-block kernel (src/codegen/rows.ts): thread 0 runs the whole program, rows in
 * order, each sum over rows in one f32 local. The blocks this shape takes are small (at most
 * MAX_ROW_BLOCK_ELEMENTS); what it saves is the phases and barriers of a dozen kernels.
 */
import { type Node, isBinary, isUnary } from '../../ir/graph.js';
import type { PlannedKernel } from '../target.js';
import { type RowIndex, type RowStep, rowProgram } from '../rows.js';
import { rowKernelName } from '../wgsl/rows.js';
import { F32, I32 } from './encoder.js';
import { WASM_BINARY, WASM_UNARY } from './ops.js';
import { THREAD, type WasmContext, type WasmKernel, kernelFunction } from './writer.js';

export function rowBlockKernel({ g, kernel: k, bufferOf }: PlannedKernel, ctx: WasmContext): WasmKernel {
  const program = rowProgram(g, k);
  const { rows, cols } = program.block;
  const f = kernelFunction();
  const [r, c] = [f.local(I32), f.local(I32)];
  const names = new Map<number, number>();
  const partial = new Map(program.crossRow.map((x) => [x, f.local(F32)]));
  const address = (id: number) => ctx.address(bufferOf.get(id)!);

  /** Pushes the byte offset of flat index `r·row + c·col`. */
  const pushOffset = (i: RowIndex) => {
    f.i32(0);
    if (i.row) f.get(r).i32(i.row).op(0x6c /* mul */, 0x6a /* add */);
    if (i.col) f.get(c).i32(i.col).op(0x6c, 0x6a);
    f.i32(2).op(0x74 /* shl */);
  };
  /** An f32 local holding source `s` of `n`. */
  const read = (n: Node, s: number): number => {
    const src = g.nodes[n.srcs[s]!]!;
    if (k.members.has(src.id)) {
      const local = names.get(src.id);
      if (local === undefined) throw new Error(`internal: %${src.id} is read before it is computed`);
      return local;
    }
    const local = f.local(F32);
    if (src.op === 'const') f.f32(src.params.value);
    else {
      pushOffset(program.reads.get(n.id)![s]!);
      f.loadF32(address(src.id));
    }
    f.set(local);
    return local;
  };
  /** Pushes the value of member `n` from its sources. */
  const pushValue = (n: Node) => {
    if (isUnary(n.op)) return void WASM_UNARY[n.op](f, read(n, 0));
    if (isBinary(n.op)) {
      const a = read(n, 0);
      return void WASM_BINARY[n.op](f, a, read(n, 1));
    }
    const v = read(n, 0);
    if (n.op === 'one_hot') {
      // v > −½ and ⌊v + ½⌋ = c, as the reference rounds an index.
      f.get(v).f32(-0.5).op(0x5e /* gt */);
      f.get(v).f32(0.5).op(0x92 /* add */, 0x8e /* floor */);
      f.get(c).op(0xb3 /* f32.convert_i32_u */, 0x5b /* eq */, 0x71 /* i32.and */, 0xb3);
      return;
    }
    // A remap keeps the layout; a reduction over axes of size one is its source.
    f.get(v);
  };
  const define = (id: number) => {
    const local = f.local(F32);
    f.set(local);
    names.set(id, local);
  };

  const render = (steps: readonly RowStep[]): void => {
    for (const step of steps) {
      const n = 'node' in step ? g.nodes[step.node]! : undefined;
      switch (step.op) {
        case 'value':
          pushValue(n!);
          define(n!.id);
          break;
        case 'reduceColumns': {
          const acc = f.local(F32);
          f.f32(0).set(acc);
          f.forRange(
            c,
            () => f.i32(0),
            () => f.i32(cols),
            () => {
              render(step.body);
              const v = read(n!, 0);
              // max starts from the first column, as the reference.
              if (n!.op === 'sum') f.get(acc).get(v).op(0x92).set(acc);
              else f.get(v).get(acc).get(v).op(0x97 /* max */).get(c).op(0x45 /* eqz */).select().set(acc);
            },
          );
          names.set(n!.id, acc);
          break;
        }
        case 'columns':
          f.forRange(
            c,
            () => f.i32(0),
            () => f.i32(cols),
            () => render(step.body),
          );
          break;
        case 'rows':
          f.forRange(
            r,
            () => f.i32(0),
            () => f.i32(rows),
            () => render(step.body),
          );
          break;
        case 'partial': {
          const p = partial.get(n!.id)!;
          const v = read(n!, 0);
          f.get(p).get(v).op(0x92).set(p);
          break;
        }
        case 'combine':
          for (const x of step.nodes) names.set(x, partial.get(x)!);
          break;
        case 'store':
          pushOffset(program.storeIndex.get(n!.id)!);
          f.get(names.get(n!.id)!).storeF32(address(n!.id));
          break;
        case 'leader':
          render(step.body);
          break;
      }
    }
  };

  // One thread runs the block; the others wait at the phase's barrier.
  f.get(THREAD).if().ret().end();
  for (const p of partial.values()) f.f32(0).set(p);
  render(program.steps);
  return { name: rowKernelName(g, k), phases: [f], scratchBytes: 0 };
}
