/**
 * A canvas to draw a digit on with the mouse, pen or a finger, and the conversion of the drawing
 * into what MNIST digits look like: white on black, the ink scaled into a 20×20 box and centred
 * by its centre of mass in a 28×28 image, values in [0, 1].
 */

/** MNIST's image side, and the side of the box its digits are scaled into. */
const IMAGE_SIDE = 28;
const DIGIT_BOX_SIDE = 20;
// Thick enough that, scaled into the 20×20 box, strokes are as wide as MNIST's (2–3 pixels).
const STROKE_WIDTH_FRACTION = 0.1;

/** Where the ink is in the drawing, and its centre of mass. */
interface InkExtent {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
  readonly centreX: number;
  readonly centreY: number;
}

/** The drawing surface: call `onStroke` after each stroke ends; `clear` wipes it. */
export class DrawingPad {
  private readonly context: CanvasRenderingContext2D;
  private drawing = false;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly onStroke: () => void,
  ) {
    this.context = canvas.getContext('2d', { willReadFrequently: true })!;
    this.clear();
    canvas.addEventListener('pointerdown', (event) => this.begin(event));
    canvas.addEventListener('pointermove', (event) => this.extend(event));
    for (const type of ['pointerup', 'pointercancel'] as const) {
      canvas.addEventListener(type, () => this.end());
    }
  }

  /** Paints the canvas black. */
  clear(): void {
    this.context.fillStyle = '#000';
    this.context.fillRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /** The drawing as a 28×28 MNIST-style image (784 values), or undefined when nothing is drawn. */
  toDigitImage(): Float32Array | undefined {
    const { width, height } = this.canvas;
    const ink = redChannel(this.context.getImageData(0, 0, width, height));
    const extent = inkExtent(ink, width, height);
    if (extent === undefined) return undefined;
    const scale = DIGIT_BOX_SIDE / Math.max(extent.width, extent.height);
    const small = new OffscreenCanvas(IMAGE_SIDE, IMAGE_SIDE).getContext('2d', { willReadFrequently: true })!;
    small.fillStyle = '#000';
    small.fillRect(0, 0, IMAGE_SIDE, IMAGE_SIDE);
    small.imageSmoothingQuality = 'high';
    small.drawImage(
      this.canvas,
      extent.left,
      extent.top,
      extent.width,
      extent.height,
      IMAGE_SIDE / 2 - (extent.centreX - extent.left) * scale,
      IMAGE_SIDE / 2 - (extent.centreY - extent.top) * scale,
      extent.width * scale,
      extent.height * scale,
    );
    return Float32Array.from(redChannel(small.getImageData(0, 0, IMAGE_SIDE, IMAGE_SIDE)), (v) => v / 255);
  }

  private begin(event: PointerEvent): void {
    this.drawing = true;
    this.canvas.setPointerCapture(event.pointerId);
    const { x, y } = this.position(event);
    this.context.lineWidth = this.canvas.width * STROKE_WIDTH_FRACTION;
    this.context.lineCap = 'round';
    this.context.lineJoin = 'round';
    this.context.strokeStyle = '#fff';
    this.context.beginPath();
    this.context.moveTo(x, y);
    // A tap leaves a dot, as a pen would.
    this.context.lineTo(x, y);
    this.context.stroke();
  }

  private extend(event: PointerEvent): void {
    if (!this.drawing) return;
    const { x, y } = this.position(event);
    this.context.lineTo(x, y);
    this.context.stroke();
  }

  private end(): void {
    if (!this.drawing) return;
    this.drawing = false;
    this.onStroke();
  }

  /** The pointer in canvas pixels (the canvas may be displayed at another size). */
  private position(event: PointerEvent): { x: number; y: number } {
    const box = this.canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) / box.width) * this.canvas.width,
      y: ((event.clientY - box.top) / box.height) * this.canvas.height,
    };
  }
}

/** Paints a 28×28 image (values in [0, 1]) onto `canvas`, scaled up without smoothing. */
export function showDigitImage(canvas: HTMLCanvasElement, image: Float32Array | undefined): void {
  const context = canvas.getContext('2d')!;
  const pixels = new ImageData(IMAGE_SIDE, IMAGE_SIDE);
  image?.forEach((value, i) => {
    pixels.data.fill(Math.round(value * 255), i * 4, i * 4 + 3);
  });
  for (let i = 3; i < pixels.data.length; i += 4) pixels.data[i] = 255;
  const tile = new OffscreenCanvas(IMAGE_SIDE, IMAGE_SIDE);
  tile.getContext('2d')!.putImageData(pixels, 0, 0);
  context.imageSmoothingEnabled = false;
  context.drawImage(tile, 0, 0, canvas.width, canvas.height);
}

// The strokes are white on black, so any channel is the ink's intensity.
function redChannel(image: ImageData): Uint8ClampedArray {
  const ink = new Uint8ClampedArray(image.width * image.height);
  for (let i = 0; i < ink.length; i++) ink[i] = image.data[i * 4]!;
  return ink;
}

function inkExtent(ink: Uint8ClampedArray, width: number, height: number): InkExtent | undefined {
  let left = width,
    right = -1,
    top = height,
    bottom = -1;
  let mass = 0,
    momentX = 0,
    momentY = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const value = ink[y * width + x]!;
      if (value === 0) continue;
      left = Math.min(left, x);
      right = Math.max(right, x);
      top = Math.min(top, y);
      bottom = Math.max(bottom, y);
      mass += value;
      momentX += value * x;
      momentY += value * y;
    }
  }
  if (mass === 0) return undefined;
  return {
    left,
    top,
    width: right - left + 1,
    height: bottom - top + 1,
    centreX: momentX / mass,
    centreY: momentY / mass,
  };
}
