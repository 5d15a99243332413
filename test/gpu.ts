/**
 * Runs one lowered entry on the real WebGPU adapter with plain WebGPU calls, independent of
 * NnxModel, so kernel tests check the generated WGSL and nothing else. No adapter is a failure
 * with the runtime's explanation, never a skip.
 */
import { BufferPool } from '../src/codegen/plan.js';
import { KernelTable, type LowerOptions, lowerEntry } from '../src/codegen/spec.js';
import type { GraphBuilder } from '../src/ir/builder.js';
import { type Graph, inputsOf } from '../src/ir/graph.js';
import { requestDevice } from '../src/runtime/index.js';
import type { Tiles } from '../src/runtime/spec.js';
import { type OracleOptions, worstErrorAgainstInterpreter } from './kernel-oracle.js';

/** Lowering options, and which tiles to run: `gpu` runs every kernel's GPU tiles variant, where it has one. */
export type RunOptions = LowerOptions & { readonly tiles?: Tiles };

const STORAGE = 0x80 | 0x4 | 0x8; // STORAGE | COPY_SRC | COPY_DST
const MAP_READ = 0x1 | 0x8; // MAP_READ | COPY_DST

/** Lowers `g` (all shapes bound) and runs it once; returns each prediction output by name. */
export async function runGraphOnGpu(
  g: Graph,
  inputs: ReadonlyMap<string, Float32Array>,
  options: RunOptions = {},
): Promise<Map<string, Float32Array>> {
  const device = await requestDevice();
  const pool = new BufferPool();
  const table = new KernelTable();
  const { entry, fused, plan } = lowerEntry('run', g, 1, pool, table, options);
  const buffers = pool.buffers.map((b) =>
    device.createBuffer({ size: Math.ceil(b.bytes / 4) * 4, usage: STORAGE }),
  );
  // Every input the kernels read, whatever its role (data, param, state), must be given:
  // an unwritten buffer would silently read as zeros.
  for (const n of inputsOf(fused.graph)) {
    const buffer = plan.bufferOf.get(n.id);
    if (buffer === undefined) continue; // not read by any kernel
    const data = inputs.get(n.params.name);
    if (!data) throw new Error(`no value for input '${n.params.name}' (${n.params.role})`);
    device.queue.writeBuffer(buffers[buffer]!, 0, data);
  }
  device.pushErrorScope('validation');
  const variants = table.kernels.map((k) =>
    options.tiles === undefined || options.tiles === 'cpu'
      ? undefined
      : k.variants?.find((v) => v.tiles === options.tiles),
  );
  // Asking for a variant no kernel has would test the default kernels under another name.
  if (options.tiles === 'gpu' && variants.every((v) => v === undefined))
    throw new Error('tiles: gpu was asked for, but no kernel has gpu tiles');
  const pipelines = table.kernels.map((k, i) =>
    device.createComputePipeline({
      layout: 'auto',
      compute: {
        module: device.createShaderModule({ code: variants[i]?.wgsl ?? k.wgsl }),
        entryPoint: 'main',
      },
    }),
  );
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  for (const d of entry.dispatches) {
    const pipeline = pipelines[d.kernel]!;
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: d.buffers.map((b, i) => ({ binding: i, resource: { buffer: buffers[b]! } })),
      }),
    );
    pass.dispatchWorkgroups(
      ...((variants[d.kernel]?.workgroups ?? d.workgroups) as [number, number, number]),
    );
  }
  pass.end();
  const staging = entry.outputs.map((o) => {
    const size = buffers[o.buffer]!.size;
    const s = device.createBuffer({ size, usage: MAP_READ });
    encoder.copyBufferToBuffer(buffers[o.buffer]!, 0, s, 0, size);
    return s;
  });
  device.queue.submit([encoder.finish()]);
  const error = await device.popErrorScope();
  if (error) throw new Error(`WebGPU validation failed: ${error.message}`);
  const out = new Map<string, Float32Array>();
  await Promise.all(staging.map((s) => s.mapAsync(1)));
  entry.outputs.forEach((o, i) => {
    const n = o.shape.reduce((a, b) => a * b, 1);
    out.set(o.name, new Float32Array(staging[i]!.getMappedRange().slice(0, 4 * n)));
    staging[i]!.destroy();
  });
  for (const b of buffers) b.destroy();
  return out;
}

/** {@link worstErrorAgainstInterpreter} with the graph run on the adapter. */
export function worstErrorOnGpu(
  shapes: number[][],
  f: (b: GraphBuilder, xs: number[]) => number,
  options: OracleOptions & { readonly run?: RunOptions } = {},
): Promise<number> {
  return worstErrorAgainstInterpreter(
    shapes,
    f,
    (g, values) => runGraphOnGpu(g, values, options.run),
    options,
  );
}
