/**
 * The decision-boundary picture: a model's P(class 1) over the plane as colour, the 0.5
 * contour where the colour turns, and the four XOR points on top.
 *
 * The probabilities come as a coarse n x n grid (a few thousand forward passes are one small
 * batch for the GPU); the canvas scales it up with smoothing, which reads as a continuous field.
 */
import { LABELS, PLANE, POINTS } from './models.js';

/** Class colours: blue for 0, orange for 1 (readable for the common colour-vision deficiencies). */
const C0 = [47, 111, 223] as const;
const C1 = [240, 140, 30] as const;

/** Colour of probability p: white at 0.5, saturating towards the class colour. */
function colour(p: number): [number, number, number] {
  const t = Math.min(1, Math.abs(p - 0.5) * 2) * 0.75;
  const c = p >= 0.5 ? C1 : C0;
  return [255 + (c[0] - 255) * t, 255 + (c[1] - 255) * t, 255 + (c[2] - 255) * t];
}

/** One heat-map canvas. */
export class HeatMap {
  private readonly ctx: CanvasRenderingContext2D;
  private readonly field: HTMLCanvasElement;

  /**
   * Draws on `canvas` (its CSS size may differ; it is drawn at `size` pixels).
   *
   * @example
   * const map = new HeatMap(canvas, 320);
   * map.draw(await model.planeProbabilities(64), 64, pointProbs);
   */
  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly size = 320,
  ) {
    canvas.width = canvas.height = size;
    this.ctx = canvas.getContext('2d')!;
    this.field = document.createElement('canvas');
    this.draw(null, 0, null);
  }

  /** Canvas position of a point of the plane. */
  private toCanvas(x: number, y: number): [number, number] {
    const s = this.size / (PLANE.max - PLANE.min);
    return [(x - PLANE.min) * s, (PLANE.max - y) * s];
  }

  /**
   * Paints the field (`grid`: n*n probabilities, row 0 at the top) or a blank plane when null,
   * then the points, each ringed in green when `pointProbs` classifies it right, red when not.
   */
  draw(grid: Float32Array | null, n: number, pointProbs: ArrayLike<number> | null): void {
    const c = this.ctx;
    c.fillStyle = '#fff';
    c.fillRect(0, 0, this.size, this.size);
    if (grid && n > 0) {
      this.field.width = this.field.height = n;
      const fctx = this.field.getContext('2d')!;
      const img = fctx.createImageData(n, n);
      for (let i = 0; i < n * n; i++) {
        const [r, g, b] = colour(grid[i]!);
        img.data[i * 4] = r;
        img.data[i * 4 + 1] = g;
        img.data[i * 4 + 2] = b;
        img.data[i * 4 + 3] = 255;
      }
      fctx.putImageData(img, 0, 0);
      c.imageSmoothingEnabled = true;
      c.imageSmoothingQuality = 'high';
      c.drawImage(this.field, 0, 0, this.size, this.size);
    }
    this.axes();
    POINTS.forEach(([x, y], i) => {
      const [px, py] = this.toCanvas(x, y);
      const label = LABELS[i]!;
      c.beginPath();
      c.arc(px, py, 11, 0, Math.PI * 2);
      c.fillStyle = `rgb(${(label ? C1 : C0).join(',')})`;
      c.fill();
      c.lineWidth = 3;
      c.strokeStyle = pointProbs ? ((pointProbs[i]! > 0.5 ? 1 : 0) === label ? '#1e9e5a' : '#d8363a') : '#333';
      c.stroke();
      c.fillStyle = '#fff';
      c.font = 'bold 12px system-ui, sans-serif';
      c.textAlign = 'center';
      c.textBaseline = 'middle';
      c.fillText(String(label), px, py + 0.5);
    });
  }

  /** Thin axes through the origin, named at their ends. */
  private axes(): void {
    const c = this.ctx;
    c.strokeStyle = 'rgba(0,0,0,0.25)';
    c.lineWidth = 1;
    const [ox, oy] = this.toCanvas(0, 0);
    c.beginPath();
    c.moveTo(0, oy);
    c.lineTo(this.size, oy);
    c.moveTo(ox, 0);
    c.lineTo(ox, this.size);
    c.stroke();
    // Axis names at the ends of the axes, where no point sits.
    c.fillStyle = 'rgba(0,0,0,0.55)';
    c.font = '12px system-ui, sans-serif';
    c.textAlign = 'right';
    c.textBaseline = 'bottom';
    c.fillText('x₁', this.size - 4, oy - 3);
    c.textAlign = 'left';
    c.textBaseline = 'top';
    c.fillText('x₂', ox + 4, 4);
  }
}
