/** Weights in and out of the page: a safetensors download, and loading one chosen by the user. */
import type { NnxModel } from 'nnx/runtime';

/** Offers the model's checkpoint (parameters and optimizer state) as a download. */
export async function downloadWeights(model: NnxModel, fileName: string): Promise<void> {
  const bytes = await model.saveBytes();
  // Blob wants bytes over an ArrayBuffer (not a possibly shared one): copy into one.
  const url = URL.createObjectURL(new Blob([new Uint8Array(bytes)], { type: 'application/octet-stream' }));
  const link = Object.assign(document.createElement('a'), { href: url, download: fileName });
  link.click();
  // The browser has started the download once click() returns; the URL is no longer needed.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** Loads a safetensors checkpoint file into `model`; nothing changes when the file does not fit. */
export async function loadWeights(model: NnxModel, file: File): Promise<void> {
  model.loadBytes(new Uint8Array(await file.arrayBuffer()));
}
