/**
 * `auto`, the default backend of NnxModel.create: wasm on a CPU adapter (lavapipe here), WebGPU
 * on a hardware one or on a device the caller gives; a model auto would put on wasm but wasm
 * cannot run falls back to WebGPU with one line saying why.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compile.js';
import { isCpuAdapter } from '../../src/runtime/choose-backend.js';
import { NnxModel, requestDevice } from '../../src/runtime/index.js';

const DENSE = `model D(x: [3]) -> (y: [2]) { y = Dense(2, activation: sigmoid)(x) }
train D { data: xor, loss: mse, batch: 2 }
`;

const AUGMENTED = `model C(x: [6, 6, 1]) -> (y: [2]) {
  y = Dense(2)(Flatten()(Conv2D(2, 3)(x)))
}
train C { data: mnist, loss: mse, batch: 2, augment: [shift(pixels: 1)] }
`;

/** What auto picks on this machine for a model wasm can run. */
async function expectedAuto(): Promise<'wasm' | 'webgpu'> {
  return isCpuAdapter(await requestDevice()) ? 'wasm' : 'webgpu';
}

describe('the auto backend', () => {
  it('is the default: wasm on a CPU adapter, WebGPU on a hardware one, WebGPU on a given device', async () => {
    // Augmentation too: image_shift has a wasm lowering.
    for (const text of [DENSE, AUGMENTED]) {
      const notices: string[] = [];
      const model = await NnxModel.create(compile(text, { wasm: true }).compiled!.spec, {
        onNotice: (line) => notices.push(line),
      });
      expect(model.backend.kind).toBe(await expectedAuto());
      expect(notices).toEqual([]);
      model.destroy();
    }
    const spec = compile(DENSE, { wasm: true }).compiled!.spec;
    const onDevice = await NnxModel.create(spec, { device: await requestDevice() });
    expect(onDevice.backend.kind).toBe('webgpu');
    onDevice.destroy();
  });

  it('runs a model wasm cannot run on WebGPU, saying why in one line where it would have taken wasm', async () => {
    const cpu = (await expectedAuto()) === 'wasm';
    // Every op lowers to wasm now: a spec compiled without the wasm target is what wasm cannot run.
    for (const [text, why] of [[DENSE, 'was compiled without the wasm target']] as const) {
      const spec = compile(text).compiled!.spec;
      const notices: string[] = [];
      const model = await NnxModel.create(spec, { onNotice: (line) => notices.push(line) });
      expect(model.backend.kind).toBe('webgpu');
      if (cpu) {
        expect(notices).toHaveLength(1);
        expect(notices[0]).toMatch(
          new RegExp(
            `^nnx: model '${spec.name}' runs on WebGPU: the wasm backend cannot run this model: .*${why}`,
          ),
        );
        expect(notices[0]).not.toContain('\n');
      } else expect(notices).toEqual([]);
      model.destroy();
    }
  });
});
