/**
 * One Dawn `GPU` for the whole benchmark process, installed as `navigator.gpu`, so that nnx,
 * TensorFlow.js and jax-js all ask the same GPU instance for their adapter.
 */

interface NodeNavigator {
  gpu: GPU;
  userAgent: string;
}

/**
 * Installs Dawn's `webgpu` as `globalThis.navigator.gpu` (once) and returns it. Must run before
 * `@tensorflow/tfjs-backend-webgpu` or `@jax-js/jax` is imported: both look for `navigator.gpu`
 * at import or init time. nnx's `requestDevice` also prefers `navigator.gpu`, so it shares it.
 */
export async function installNodeGpu(): Promise<GPU> {
  const existing = (globalThis as { navigator?: Partial<NodeNavigator> }).navigator;
  if (existing?.gpu !== undefined) return existing.gpu;
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const gpu = create([]);
  // Node 21+ defines a getter-only `navigator` without `gpu`; defineProperty replaces it either way.
  const navigator: NodeNavigator = { gpu, userAgent: 'node' };
  Object.defineProperty(globalThis, 'navigator', { value: navigator, configurable: true, writable: true });
  return gpu;
}

/** The adapter a device runs on, as one line (to show that every framework ran on the same one). */
export function describeAdapter(device: GPUDevice): string {
  const info = device.adapterInfo as GPUAdapterInfo | undefined;
  if (info === undefined) return 'unknown adapter';
  return [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' / ');
}

/** Steps, repeats and warmup per model: xor is cheap and noisy, cnn costs ≈0.6 s per TF.js step here. */
export function stepOptions(model: 'xor' | 'mlp' | 'cnn'): {
  steps: number;
  repeats: number;
  warmup: number;
} {
  if (model === 'xor') return { steps: 200, repeats: 5, warmup: 20 };
  if (model === 'mlp') return { steps: 10, repeats: 5, warmup: 3 };
  return { steps: 5, repeats: 3, warmup: 2 };
}
