/**
 * Turning stored grey levels into a training batch. Both demos keep pixels as bytes (a quarter of
 * the memory of floats) and convert one batch at a time through a 256-entry lookup table that
 * holds each dataset's normalisation.
 */

/** Values per 28x28 image. */
const PIXELS = 28 * 28;

/**
 * Floats for images `order[start .. start + size)` in NCHW order, and their labels.
 *
 * @example
 * const { x, y } = gatherBatch(split.pixels, split.labels, PIXEL_TABLE, order, 0, 64);
 */
export function gatherBatch(
  pixels: Uint8Array,
  labels: ArrayLike<number>,
  table: Float32Array,
  order: ArrayLike<number>,
  start: number,
  size: number,
): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(size * PIXELS);
  const y = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const j = order[start + i]!;
    const src = pixels.subarray(j * PIXELS, (j + 1) * PIXELS);
    for (let p = 0; p < PIXELS; p++) x[i * PIXELS + p] = table[src[p]!]!;
    y[i] = labels[j]!;
  }
  return { x, y };
}
