/**
 * `tiles: 'measure'`: times each kernel that has a `gpu` variant in both tilings on the device
 * with timestamp queries, once per adapter and kernel (its WGSL fixes its shapes), and runs the
 * faster. The timing runs the kernel's first dispatch on the model's own, still empty buffers,
 * which the caller zeroes again before initialising them.
 */
import { adapterName } from './device.js';
import { type CompiledKernel, compileKernels } from './pipelines.js';
import type { PlannedBuffer } from './pipelines.js';
import type { DispatchSpec, EntrySpec, KernelSpec, KernelVariant, ModuleSpec } from './spec.js';
import { type TileLimits, variantFits, withVariants } from './tiles.js';

/** QUERY_RESOLVE | COPY_SRC, and MAP_READ | COPY_DST. */
const RESOLVE_USAGE = 0x0200 | 0x0004;
const READ_USAGE = 0x0001 | 0x0008;

/** Adapter and default WGSL to whether the `gpu` variant measured faster there. */
const measured = new Map<string, boolean>();

/** Whether `device` can time passes (the device was opened with the feature where offered). */
export function canMeasure(device: GPUDevice): boolean {
  return device.features.has('timestamp-query');
}

/**
 * `spec` with every kernel in its measured faster tiling. Without `timestamp-query`, or for a
 * variant the device cannot run, the default stays.
 */
export async function measureTiles<S extends ModuleSpec>(
  device: GPUDevice,
  spec: S,
  buffers: ReadonlyMap<number, PlannedBuffer>,
): Promise<S> {
  if (!canMeasure(device)) return spec;
  const limits: TileLimits = device.limits;
  const adapter = adapterName(device);
  const candidates = spec.kernels.flatMap((kernel, index) => {
    const variant = kernel.variants?.find((v) => v.tiles === 'gpu' && variantFits(v, limits));
    const dispatch = firstDispatch(spec, index);
    if (variant === undefined || dispatch === undefined || measured.has(`${adapter}\n${kernel.wgsl}`))
      return [];
    return [{ kernel, index, variant, dispatch }];
  });
  if (candidates.length > 0) {
    const asVariant = (k: KernelSpec, v: KernelVariant): KernelSpec => ({ ...k, wgsl: v.wgsl });
    const compiled = await compileKernels(device, [
      ...candidates.map((c) => c.kernel),
      ...candidates.map((c) => asVariant(c.kernel, c.variant)),
    ]);
    const times = await timeDispatches(
      device,
      [
        ...candidates.map((c, i) => ({ kernel: compiled[i]!, dispatch: c.dispatch })),
        ...candidates.map((c, i) => ({
          kernel: compiled[candidates.length + i]!,
          dispatch: { ...c.dispatch, workgroups: c.variant.workgroups },
        })),
      ],
      buffers,
    );
    candidates.forEach((c, i) =>
      measured.set(`${adapter}\n${c.kernel.wgsl}`, times[candidates.length + i]! < times[i]!),
    );
  }
  return withVariants(spec, (kernel) =>
    measured.get(`${adapter}\n${kernel.wgsl}`) ? kernel.variants!.find((v) => v.tiles === 'gpu') : undefined,
  );
}

function firstDispatch(spec: ModuleSpec, kernel: number): DispatchSpec | undefined {
  for (const entry of Object.values(spec.entries) as EntrySpec[]) {
    const found = entry.dispatches.find((d) => d.kernel === kernel);
    if (found) return found;
  }
  return undefined;
}

/** Timed rounds after the warm-up; each dispatch's fastest counts (a loaded machine is noisy). */
const ROUNDS = 3;

/**
 * Nanoseconds of each dispatch alone in a pass, the fastest of {@link ROUNDS} after an untimed
 * one: on a CPU adapter the first dispatch of a pipeline compiles it.
 */
async function timeDispatches(
  device: GPUDevice,
  runs: readonly { kernel: CompiledKernel; dispatch: DispatchSpec }[],
  buffers: ReadonlyMap<number, PlannedBuffer>,
): Promise<number[]> {
  const count = 2 * runs.length * ROUNDS;
  const querySet = device.createQuerySet({ type: 'timestamp', count });
  const resolve = device.createBuffer({ size: 8 * count, usage: RESOLVE_USAGE });
  const read = device.createBuffer({ size: 8 * count, usage: READ_USAGE });
  try {
    const bound = runs.map(({ kernel, dispatch }) => ({
      kernel,
      workgroups: dispatch.workgroups,
      group: device.createBindGroup({
        layout: kernel.layout,
        entries: dispatch.buffers.map((id, binding) => ({
          binding,
          resource: { buffer: buffers.get(id)!.gpu },
        })),
      }),
    }));
    for (let round = -1; round < ROUNDS; round++) {
      const encoder = device.createCommandEncoder({ label: 'nnx tile timing' });
      bound.forEach(({ kernel, group, workgroups }, i) => {
        const at = 2 * (round * runs.length + i);
        const pass = encoder.beginComputePass(
          round >= 0
            ? { timestampWrites: { querySet, beginningOfPassWriteIndex: at, endOfPassWriteIndex: at + 1 } }
            : {},
        );
        pass.setPipeline(kernel.pipeline);
        pass.setBindGroup(0, group);
        pass.dispatchWorkgroups(...(workgroups as [number, number, number]));
        pass.end();
      });
      if (round === ROUNDS - 1) {
        encoder.resolveQuerySet(querySet, 0, count, resolve, 0);
        encoder.copyBufferToBuffer(resolve, 0, read, 0, 8 * count);
      }
      device.queue.submit([encoder.finish()]);
    }
    await read.mapAsync(0x1);
    const stamps = new BigInt64Array(read.getMappedRange().slice(0));
    read.unmap();
    return runs.map((_, i) => {
      const rounds = Array.from({ length: ROUNDS }, (_, round) => 2 * (round * runs.length + i));
      return Math.min(...rounds.map((at) => Number(stamps[at + 1]! - stamps[at]!)));
    });
  } finally {
    querySet.destroy();
    resolve.destroy();
    read.destroy();
  }
}
