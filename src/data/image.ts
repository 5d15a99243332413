/**
 * A PNG picture as one sample for an image model (`nnxc predict … --input digit.png`): decoded by
 * pngjs, composited over white, turned to grey, scaled to the model's height and width by area
 * averaging, and inverted when the background is light — MNIST digits are white on black,
 * while a digit drawn in a paint program is usually black on white.
 */
import pngjs from 'pngjs';
import { DatasetError } from './errors.js';
import { elementsOf } from './samples.js';

/** A grey picture with values in [0, 1]. */
export interface GreyImage {
  readonly width: number;
  readonly height: number;
  readonly pixels: Float32Array;
}

/** Decodes PNG bytes to grey values in [0, 1] (transparent pixels count as white). */
export function decodePngGrey(bytes: Uint8Array, source: string): GreyImage {
  let png: pngjs.PNGWithMetadata;
  try {
    png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    throw new DatasetError(`${source} is not a readable PNG file: ${(error as Error).message}`);
  }
  const pixels = new Float32Array(png.width * png.height);
  for (let i = 0; i < pixels.length; i++) {
    const [r, g, b, a] = [png.data[4 * i]!, png.data[4 * i + 1]!, png.data[4 * i + 2]!, png.data[4 * i + 3]!];
    const grey = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    const alpha = a / 255;
    pixels[i] = grey * alpha + (1 - alpha);
  }
  return { width: png.width, height: png.height, pixels };
}

/** Scales `image` to `height`×`width`, each output pixel the mean of the input area it covers. */
export function resizeArea(image: GreyImage, height: number, width: number): Float32Array {
  const out = new Float32Array(height * width);
  const sy = image.height / height;
  const sx = image.width / width;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [y0, y1, x0, x1] = [y * sy, (y + 1) * sy, x * sx, (x + 1) * sx];
      let sum = 0;
      let area = 0;
      for (let iy = Math.floor(y0); iy < Math.min(Math.ceil(y1), image.height); iy++) {
        const wy = Math.min(iy + 1, y1) - Math.max(iy, y0);
        for (let ix = Math.floor(x0); ix < Math.min(Math.ceil(x1), image.width); ix++) {
          const w = wy * (Math.min(ix + 1, x1) - Math.max(ix, x0));
          sum += w * image.pixels[iy * image.width + ix]!;
          area += w;
        }
      }
      out[y * width + x] = area > 0 ? sum / area : 0;
    }
  }
  return out;
}

/** Height and width of an image input shape: `[H, W]`, `[H, W, 1]`, or `[N]` with N a square. */
export function imageSize(shape: readonly number[]): { height: number; width: number } | undefined {
  if (shape.length === 2 || (shape.length === 3 && shape[2] === 1))
    return { height: shape[0]!, width: shape[1]! };
  const side = Math.round(Math.sqrt(elementsOf(shape)));
  return shape.length === 1 && side * side === shape[0] ? { height: side, width: side } : undefined;
}

/**
 * One sample for an input of `shape` from PNG bytes; `inverted` says whether a light background
 * was flipped to dark.
 */
export function pngSample(
  bytes: Uint8Array,
  source: string,
  shape: readonly number[],
): { values: Float32Array; inverted: boolean } {
  const size = imageSize(shape);
  if (!size) {
    throw new DatasetError(
      `${source}: a picture can only feed a model whose input is an image, [H, W] or [H, W, 1] or a square [N]; ` +
        `this model's input has shape [${shape.join(', ')}]`,
    );
  }
  const values = resizeArea(decodePngGrey(bytes, source), size.height, size.width);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const inverted = mean > 0.5;
  if (inverted) for (let i = 0; i < values.length; i++) values[i] = 1 - values[i]!;
  return { values, inverted };
}

/** The size and channels {@link encodeImageGrid} draws images of `shape` at; undefined if it cannot. */
export function gridImageSize(
  shape: readonly number[],
): { height: number; width: number; channels: 1 | 3 } | undefined {
  if (shape.length === 3 && shape[2] === 3) return { height: shape[0]!, width: shape[1]!, channels: 3 };
  const size = imageSize(shape);
  return size && { ...size, channels: 1 };
}

/**
 * A PNG of `count` images laid out `columns` to a row with a 2-pixel dark border: each image
 * `[H, W]`, `[H, W, 1]`, `[H, W, 3]` or a square `[N]`, its values mapped from `range` to 0–255
 * (values outside it are clipped). What `nnxc train` writes of a GAN's samples every epoch.
 */
export function encodeImageGrid(
  images: Float32Array,
  count: number,
  shape: readonly number[],
  range: readonly [number, number],
  columns: number,
): Uint8Array {
  const size = gridImageSize(shape);
  if (!size)
    throw new Error(
      `images of shape [${shape.join(', ')}] cannot be drawn: they are not [H, W], [H, W, 1|3] or a square [N]`,
    );
  const { channels } = size;
  const border = 2;
  const rows = Math.ceil(count / columns);
  const png = new pngjs.PNG({
    width: columns * (size.width + border) + border,
    height: rows * (size.height + border) + border,
  });
  png.data.fill(0);
  const [lo, hi] = range;
  const byte = (v: number) => Math.round(Math.min(1, Math.max(0, (v - lo) / (hi - lo))) * 255);
  const perImage = size.height * size.width * channels;
  for (let n = 0; n < count; n++) {
    const top = border + Math.floor(n / columns) * (size.height + border);
    const left = border + (n % columns) * (size.width + border);
    for (let y = 0; y < size.height; y++) {
      for (let x = 0; x < size.width; x++) {
        const at = 4 * ((top + y) * png.width + left + x);
        const from = n * perImage + (y * size.width + x) * channels;
        for (let c = 0; c < 3; c++) png.data[at + c] = byte(images[from + (channels === 3 ? c : 0)]!);
        png.data[at + 3] = 255;
      }
    }
  }
  for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
  return new Uint8Array(pngjs.PNG.sync.write(png));
}
