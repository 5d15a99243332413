/**
 * Wasm for a whole-step kernel (src/codegen/whole-step.ts): thread 0 calls each step's phases
 * in order as one thread would run them (`thread` 0 of 1), so a step's numbers are its own
 * kernel's; the other threads wait at the one barrier after it instead of one per phase.
 */
import type { PlannedKernel } from '../target.js';
import { THREAD, type WasmContext, type WasmKernel, kernelFunction } from './writer.js';

export function wholeStepKernel(
  { g, kernel, bufferOf }: PlannedKernel,
  ctx: WasmContext,
  render: (planned: PlannedKernel) => (ctx: WasmContext) => WasmKernel,
): WasmKernel {
  const f = kernelFunction();
  f.get(THREAD).if().ret().end();
  let scratchBytes = 0;
  for (const step of kernel.steps!) {
    const k = render({ g, kernel: step, bufferOf })(ctx);
    scratchBytes = Math.max(scratchBytes, k.scratchBytes);
    for (const phase of k.phases) f.i32(0).i32(1).call(ctx.phaseFunction(phase));
  }
  return { name: 'whole_step', phases: [f], scratchBytes };
}
