/**
 * MNIST in the page: download the four gzipped IDX files the site serves, keep the pixels as
 * bytes, and turn only the current batch into floats.
 *
 * Keeping bytes matters in a browser tab: all 60,000 training images as float32 are 188 MB,
 * as uint8 47 MB. A batch of 64 is converted through a 256-entry table in microseconds.
 */
import { decodeLabels, fetchBytes, gunzipIfNeeded, parseIdx, pixelsToFloat32, shuffledIndices } from '@tessera/data';
import { gatherBatch } from '../../shared/batch.js';

/** Pixels per image (28 x 28, one channel). */
export const PIXELS = 28 * 28;

/** One split of MNIST as stored bytes. */
export interface Split {
  /** `count * 784` grey levels, 0 (background) to 255 (ink). */
  pixels: Uint8Array;
  labels: Int32Array;
  count: number;
}

/** Both splits, and how many bytes the download took. */
export interface MnistBytes {
  train: Split;
  test: Split;
  downloadedBytes: number;
}

/** Download progress over all four files; `total` is unknown until every response has a size. */
export interface LoadProgress {
  loaded: number;
  total: number | undefined;
}

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/**
 * Fetches and decodes MNIST from `<baseUrl>mnist/*.gz` (what the demo's Vite plugin serves),
 * reporting progress summed over the four parallel downloads.
 *
 * @example
 * const data = await loadMnistBytes(document.baseURI, (p) => bar.set(p.loaded / (p.total ?? 1)));
 * // `signal` aborts the downloads (the page does when no backend starts).
 */
export async function loadMnistBytes(baseUrl: string, onProgress?: (p: LoadProgress) => void, signal?: AbortSignal): Promise<MnistBytes> {
  const keys = Object.keys(FILES) as (keyof typeof FILES)[];
  const loaded = new Map<string, number>();
  const totals = new Map<string, number | undefined>();
  const report = () => {
    const total = keys.every((k) => totals.get(k) !== undefined) ? keys.reduce((s, k) => s + totals.get(k)!, 0) : undefined;
    onProgress?.({ loaded: keys.reduce((s, k) => s + (loaded.get(k) ?? 0), 0), total });
  };
  const raw = await Promise.all(
    keys.map(async (key) => {
      const url = new URL(`mnist/${FILES[key]}.gz`, baseUrl).href;
      const bytes = await fetchBytes(url, {
        signal,
        onProgress: (p) => {
          loaded.set(key, p.loaded);
          totals.set(key, p.total);
          report();
        },
      });
      return { key, compressed: bytes.length, bytes: await gunzipIfNeeded(bytes, { name: url }) };
    }),
  );
  const get = (k: keyof typeof FILES) => raw.find((r) => r.key === k)!.bytes;
  return {
    train: split(get('trainImages'), get('trainLabels'), 'train'),
    test: split(get('testImages'), get('testLabels'), 'test'),
    downloadedBytes: raw.reduce((s, r) => s + r.compressed, 0),
  };
}

function split(imageBytes: Uint8Array, labelBytes: Uint8Array, name: string): Split {
  const idx = parseIdx(imageBytes, { name: `${name} images` });
  const [count, h, w] = idx.dims as [number, number, number];
  if (idx.dtype !== 'uint8' || h * w !== PIXELS) throw new Error(`${name} images: expected uint8 28x28 images, got ${idx.dtype} [${idx.dims.join(', ')}]`);
  const labels = decodeLabels(labelBytes, { name: `${name} labels` });
  if (labels.length !== count) throw new Error(`${name}: ${count} images but ${labels.length} labels`);
  return { pixels: idx.data as Uint8Array, labels, count };
}

/**
 * Float value of each grey level, exactly as training normalizes: `(p / 255 - 0.1307) / 0.3081`.
 * The drawing pad uses the same table, so a drawn digit looks to the net like a test digit.
 */
export const PIXEL_TABLE: Float32Array = pixelsToFloat32(
  Uint8Array.from({ length: 256 }, (_, i) => i),
  'standard',
);

/**
 * Floats for images `order[start .. start + size)` of a split, in NCHW order, and their labels.
 *
 * @example
 * const { x, y } = gather(data.train, order, 0, 64);   // x: Float32Array(64 * 784)
 */
export function gather(s: Split, order: ArrayLike<number>, start: number, size: number): { x: Float32Array; y: Int32Array } {
  return gatherBatch(s.pixels, s.labels, PIXEL_TABLE, order, start, size);
}

/**
 * The visiting order of the first `count` samples in one epoch: a seeded shuffle, so a run is
 * replayable (the same order as `@tessera/data`'s `batches` and the CLI).
 */
export function epochOrder(count: number, seed: number, epoch: number): Uint32Array {
  return shuffledIndices(count, seed, epoch);
}

/** The identity order 0..count-1 (evaluation visits the test images in file order). */
export function inOrder(count: number): Uint32Array {
  return Uint32Array.from({ length: count }, (_, i) => i);
}
