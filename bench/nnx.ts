/** nnx's side of the benchmark: compile a seed model and time its training step. */
import { compile } from '../src/compile.js';
import { entryOccupancy } from '../src/codegen/describe.js';
import { NnxModel } from '../src/runtime/index.js';
import { type BenchModel, syntheticBatch } from './models.js';
import { timeSteps } from './timing.js';

export interface NnxTiming {
  readonly ms: number;
  readonly dispatches: number;
  readonly kernels: number;
  /** The fewest workgroups of any training-step kernel reading over 1 MiB (null: none does). */
  readonly leastLargeWorkgroups: number | null;
}

export async function timeNnx(
  model: BenchModel,
  device: GPUDevice,
  opts: { steps: number; repeats: number; warmup: number },
): Promise<NnxTiming> {
  const result = compile(model.source);
  if (!result.compiled)
    throw new Error(
      `bench model ${model.name} does not compile: ${result.diagnostics.map((d) => d.message).join('; ')}`,
    );
  const { spec } = result.compiled;
  const m = await NnxModel.create(spec, { seed: 1, device });
  const { x, y } = syntheticBatch(model);
  const ms = await timeSteps(
    () => m.trainStep({ x, target: y }),
    () => device.queue.onSubmittedWorkDone(),
    opts,
  );
  m.destroy();
  return {
    ms,
    dispatches: spec.entries.train.dispatches.length,
    kernels: spec.kernels.length,
    leastLargeWorkgroups: entryOccupancy(result.compiled.lowered.train).leastLargeWorkgroups ?? null,
  };
}
