/**
 * Pictures of what the network does: a grid of test digits labelled with its predictions
 * (mistakes marked), and its first-layer filters as small images.
 *
 * The grid shows the same first test images after every evaluation, so one can watch single
 * digits flip from wrong to right. The filters are coloured by sign (red positive, blue
 * negative) and scaled per filter by the largest absolute weight: the shape of each detector
 * (an edge, a stroke at an angle) is what matters, and a shared scale would leave weak filters
 * blank.
 */
import { PIXELS, type Split } from './data.js';
import { paintDigit } from './draw-pad.js';

/** The test-digit grid. */
export class Gallery {
  private readonly cells: { cell: HTMLElement; label: HTMLElement }[] = [];

  /**
   * Shows the first `count` images of `test` in `mount`, without predictions yet.
   *
   * @example
   * const gallery = new Gallery(el, data.test, 40);
   * gallery.update(predictions);
   */
  constructor(
    private readonly mount: HTMLElement,
    private readonly test: Split,
    readonly count: number,
  ) {
    mount.classList.add('gallery');
    for (let i = 0; i < Math.min(count, test.count); i++) {
      const cell = document.createElement('figure');
      cell.className = 'digit';
      const canvas = document.createElement('canvas');
      canvas.className = 'pixelated';
      paintDigit(canvas, test.pixels.subarray(i * PIXELS, (i + 1) * PIXELS));
      const label = document.createElement('figcaption');
      label.textContent = '·';
      cell.append(canvas, label);
      mount.append(cell);
      this.cells.push({ cell, label });
    }
  }

  /**
   * Labels each digit with its prediction (`predictions[i]` for test image i); a wrong one shows
   * "predicted (true)" and is marked. Returns the number of mistakes shown.
   */
  update(predictions: ArrayLike<number> | null): number {
    let wrong = 0;
    this.cells.forEach(({ cell, label }, i) => {
      if (!predictions || i >= predictions.length) {
        label.textContent = '·';
        cell.classList.remove('wrong', 'right');
        return;
      }
      const p = predictions[i]!;
      const t = this.test.labels[i]!;
      const ok = p === t;
      if (!ok) wrong++;
      label.textContent = ok ? String(p) : `${p} (${t})`;
      label.title = ok ? `predicted ${p}, correct` : `predicted ${p}, true label ${t}`;
      cell.classList.toggle('wrong', !ok);
      cell.classList.toggle('right', ok);
    });
    this.mount.dataset['mistakes'] = String(wrong);
    return wrong;
  }
}

/** The filter strip. */
export class FilterView {
  private readonly canvases: HTMLCanvasElement[] = [];

  /**
   * Prepares `count` filter images of `size` x `size` weights inside `mount`.
   *
   * @example
   * const view = new FilterView(el, 6, 5);
   * view.show(await model.firstLayerFilters());
   */
  constructor(
    mount: HTMLElement,
    count: number,
    private readonly size: number,
  ) {
    mount.classList.add('filters');
    for (let i = 0; i < count; i++) {
      const c = document.createElement('canvas');
      c.className = 'pixelated';
      c.width = c.height = size;
      c.title = `conv1 filter ${i}`;
      mount.append(c);
      this.canvases.push(c);
    }
  }

  /** Paints the filters (each `size * size` weights, row-major). */
  show(filters: readonly Float32Array[]): void {
    filters.forEach((w, i) => {
      const canvas = this.canvases[i];
      if (!canvas) return;
      const ctx = canvas.getContext('2d')!;
      const img = ctx.createImageData(this.size, this.size);
      let max = 1e-8;
      for (const v of w) max = Math.max(max, Math.abs(v));
      for (let p = 0; p < this.size * this.size; p++) {
        const t = Math.max(-1, Math.min(1, w[p]! / max));
        // White at zero, towards red (#d8363a) for positive and blue (#2f6fdf) for negative.
        const [r, g, b] = t >= 0 ? [216, 54, 58] : [47, 111, 223];
        const a = Math.abs(t);
        img.data[p * 4] = Math.round(255 + (r - 255) * a);
        img.data[p * 4 + 1] = Math.round(255 + (g - 255) * a);
        img.data[p * 4 + 2] = Math.round(255 + (b - 255) * a);
        img.data[p * 4 + 3] = 255;
      }
      ctx.putImageData(img, 0, 0);
    });
  }
}
