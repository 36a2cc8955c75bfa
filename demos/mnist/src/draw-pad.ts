/**
 * A canvas to draw a digit on (mouse, touch or pen), and the preprocessing that makes the
 * drawing look like an MNIST digit to the network.
 *
 * MNIST digits were size-normalized to fit a 20x20 box (keeping their aspect ratio) and then
 * placed in the 28x28 image so that their center of mass is at the center. A drawing that skips
 * these steps (a small digit in a corner, say) is far outside what the net was trained on, so
 * `toMnist` repeats them: crop to the ink, scale into 20x20 with area averaging (anti-aliased,
 * like the originals), shift the center of mass to (14, 14), then normalize with the same table
 * as the training images.
 */
import { PIXELS, PIXEL_TABLE } from './data.js';

/** Side of the square drawing canvas, in canvas pixels. */
const SIZE = 280;
/** Pen width relative to the canvas: MNIST strokes are about 2-3 px of 28, i.e. ~1/10. */
const PEN = SIZE / 13;

/** The drawing canvas. */
export class DrawPad {
  private readonly ctx: CanvasRenderingContext2D;
  private drawing = false;
  private last: { x: number; y: number } | null = null;
  private inked = false;

  /**
   * Makes `canvas` drawable; `onChange` fires (at most once per frame) while the user draws.
   *
   * @example
   * const pad = new DrawPad(canvas, () => predictor.request(pad.toMnist()));
   */
  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly onChange: () => void,
  ) {
    canvas.width = SIZE;
    canvas.height = SIZE;
    // Touch scrolling would steal the strokes on phones.
    canvas.style.touchAction = 'none';
    this.ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    this.clear();
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    for (const ev of ['pointerup', 'pointercancel', 'pointerleave'] as const) canvas.addEventListener(ev, () => this.up());
  }

  /** Whether anything has been drawn since the last clear. */
  get hasInk(): boolean {
    return this.inked;
  }

  /** Erases the drawing. */
  clear(): void {
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, SIZE, SIZE);
    this.inked = false;
    this.onChange();
  }

  private point(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * SIZE, y: ((e.clientY - r.top) / r.height) * SIZE };
  }

  private down(e: PointerEvent): void {
    e.preventDefault();
    this.canvas.setPointerCapture?.(e.pointerId);
    this.drawing = true;
    this.last = this.point(e);
    this.stroke(this.last, this.last);
  }

  private move(e: PointerEvent): void {
    if (!this.drawing) return;
    e.preventDefault();
    const p = this.point(e);
    this.stroke(this.last ?? p, p);
    this.last = p;
  }

  private up(): void {
    this.drawing = false;
    this.last = null;
  }

  private stroke(a: { x: number; y: number }, b: { x: number; y: number }): void {
    const c = this.ctx;
    c.strokeStyle = '#fff';
    c.lineWidth = PEN;
    c.lineCap = 'round';
    c.lineJoin = 'round';
    c.beginPath();
    c.moveTo(a.x, a.y);
    c.lineTo(b.x, b.y);
    c.stroke();
    this.inked = true;
    this.onChange();
  }

  /**
   * The drawing as MNIST sees a digit: 28x28 grey levels (0 background, 255 ink), cropped,
   * scaled into 20x20 and centered by mass. Null when the canvas is empty.
   */
  toMnistPixels(): Uint8Array | null {
    const { data } = this.ctx.getImageData(0, 0, SIZE, SIZE);
    const ink = new Float32Array(SIZE * SIZE);
    let x0 = SIZE,
      y0 = SIZE,
      x1 = -1,
      y1 = -1;
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const v = data[(y * SIZE + x) * 4]!; // red channel: the pen is white on black
        ink[y * SIZE + x] = v;
        if (v > 20) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
        }
      }
    }
    if (x1 < 0) return null;
    // Scale the ink's bounding box so its longer side is 20 px, keeping the aspect ratio.
    const bw = x1 - x0 + 1,
      bh = y1 - y0 + 1;
    const scale = 20 / Math.max(bw, bh);
    const tw = Math.max(1, Math.round(bw * scale)),
      th = Math.max(1, Math.round(bh * scale));
    const small = areaResample(ink, SIZE, x0, y0, bw, bh, tw, th);
    // Center of mass of the scaled digit, then paste it so that lands on (14, 14).
    let m = 0,
      mx = 0,
      my = 0;
    for (let y = 0; y < th; y++)
      for (let x = 0; x < tw; x++) {
        const v = small[y * tw + x]!;
        m += v;
        mx += v * x;
        my += v * y;
      }
    const dx = Math.round(14 - (m > 0 ? mx / m : tw / 2) - 0.5),
      dy = Math.round(14 - (m > 0 ? my / m : th / 2) - 0.5);
    const out = new Uint8Array(PIXELS);
    for (let y = 0; y < th; y++)
      for (let x = 0; x < tw; x++) {
        const tx = x + dx,
          ty = y + dy;
        if (tx >= 0 && tx < 28 && ty >= 0 && ty < 28) out[ty * 28 + tx] = Math.min(255, Math.round(small[y * tw + x]!));
      }
    return out;
  }

  /** The drawing as network input: 784 floats normalized exactly like the training images. */
  toInput(pixels: Uint8Array): Float32Array {
    const x = new Float32Array(PIXELS);
    for (let i = 0; i < PIXELS; i++) x[i] = PIXEL_TABLE[pixels[i]!]!;
    return x;
  }
}

/**
 * Box-filter downscaling of the region (x0, y0, w, h) of a square `stride`-wide image to tw x th:
 * each output pixel is the mean of the source area it covers, with partial pixels weighted by
 * coverage. This is the anti-aliasing MNIST's own preprocessing produced.
 */
function areaResample(src: Float32Array, stride: number, x0: number, y0: number, w: number, h: number, tw: number, th: number): Float32Array {
  const out = new Float32Array(tw * th);
  const sx = w / tw,
    sy = h / th;
  for (let ty = 0; ty < th; ty++) {
    const ya = ty * sy,
      yb = ya + sy;
    for (let tx = 0; tx < tw; tx++) {
      const xa = tx * sx,
        xb = xa + sx;
      let sum = 0,
        area = 0;
      for (let y = Math.floor(ya); y < Math.ceil(yb); y++) {
        const wy = Math.min(yb, y + 1) - Math.max(ya, y);
        for (let x = Math.floor(xa); x < Math.ceil(xb); x++) {
          const wx = Math.min(xb, x + 1) - Math.max(xa, x);
          sum += src[(y0 + y) * stride + x0 + x]! * wx * wy;
          area += wx * wy;
        }
      }
      out[ty * tw + tx] = area > 0 ? sum / area : 0;
    }
  }
  return out;
}

/**
 * Paints 28x28 grey levels into a canvas (white ink on black, as the net sees it), scaled up
 * by CSS. Used for the "what the network sees" preview and the test-digit grid.
 *
 * @example
 * paintDigit(previewCanvas, pad.toMnistPixels()!);
 */
export function paintDigit(canvas: HTMLCanvasElement, pixels: Uint8Array, offset = 0): void {
  canvas.width = 28;
  canvas.height = 28;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(28, 28);
  for (let i = 0; i < PIXELS; i++) {
    const v = pixels[offset + i]!;
    img.data[i * 4] = img.data[i * 4 + 1] = img.data[i * 4 + 2] = v;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
