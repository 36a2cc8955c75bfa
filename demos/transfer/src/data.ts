/**
 * The page's inputs: the pretrained weights and the Fashion-MNIST subset that the demo's Vite
 * plugin serves (four gzipped IDX files and one safetensors file, 1.6 MB in all).
 *
 * Pixels stay bytes until a batch needs them, as in the MNIST demo; they become floats through
 * a 256-entry table with Fashion-MNIST's own mean and std, as `tessera finetune` normalises them.
 */
import { FASHION_MNIST_MEAN, FASHION_MNIST_STD, decodeLabels, fetchBytes, gunzipIfNeeded, parseIdx, pixelsToFloat32 } from '@tessera/data';
import { gatherBatch } from '../../shared/batch.js';

/** Pixels per image (28 x 28, one channel). @example new Float32Array(n * PIXELS) */
export const PIXELS = 784;

/** One split as stored bytes. @example assets.test.labels[0]   // a Fashion-MNIST class id */
export interface Split {
  pixels: Uint8Array;
  labels: Int32Array;
  count: number;
}

/** Everything the page downloads. @example await nn.loadParams(net, assets.model) */
export interface Assets {
  /** The MNIST-pretrained LeNet-5, safetensors bytes. */
  model: Uint8Array;
  train: Split;
  test: Split;
  downloadedBytes: number;
}

const FILES = {
  model: 'lenet5-mnist.safetensors',
  trainImages: 'fashion/train-images-idx3-ubyte.gz',
  trainLabels: 'fashion/train-labels-idx1-ubyte.gz',
  testImages: 'fashion/t10k-images-idx3-ubyte.gz',
  testLabels: 'fashion/t10k-labels-idx1-ubyte.gz',
} as const;

/**
 * Fetches the five files in parallel from `baseUrl`, reporting bytes received.
 *
 * @example
 * const assets = await loadAssets(document.baseURI, (n) => (text.textContent = `${n} bytes`));
 */
export async function loadAssets(baseUrl: string, onProgress?: (loaded: number) => void, signal?: AbortSignal): Promise<Assets> {
  const loaded = new Map<string, number>();
  const keys = Object.keys(FILES) as (keyof typeof FILES)[];
  const raw = await Promise.all(
    keys.map(async (key) => {
      const url = new URL(FILES[key], baseUrl).href;
      const bytes = await fetchBytes(url, {
        signal,
        onProgress: (p) => {
          loaded.set(key, p.loaded);
          onProgress?.([...loaded.values()].reduce((a, b) => a + b, 0));
        },
      });
      return [key, bytes] as const;
    }),
  );
  const got = Object.fromEntries(raw) as Record<keyof typeof FILES, Uint8Array>;
  const split = async (images: Uint8Array, labels: Uint8Array, name: string): Promise<Split> => {
    const idx = parseIdx(await gunzipIfNeeded(images, { name }), { name: `${name} images` });
    const l = decodeLabels(await gunzipIfNeeded(labels, { name }), { name: `${name} labels` });
    if (idx.dims[0] !== l.length) throw new Error(`${name}: ${idx.dims[0]} images but ${l.length} labels`);
    return { pixels: idx.data as Uint8Array, labels: l, count: l.length };
  };
  return {
    model: got.model,
    train: await split(got.trainImages, got.trainLabels, 'Fashion-MNIST train'),
    test: await split(got.testImages, got.testLabels, 'Fashion-MNIST test'),
    downloadedBytes: raw.reduce((s, [, b]) => s + b.length, 0),
  };
}

/** Float value of each grey level: `(p / 255 - 0.286) / 0.353`, Fashion-MNIST's statistics. @example PIXEL_TABLE[0]   // -0.81 */
export const PIXEL_TABLE: Float32Array = pixelsToFloat32(
  Uint8Array.from({ length: 256 }, (_, i) => i),
  'standard',
  {
    mean: FASHION_MNIST_MEAN,
    std: FASHION_MNIST_STD,
  },
);

/**
 * Floats (NCHW) and labels for samples `order[start .. start + size)` of a split.
 *
 * @example
 * const { x, y } = gather(assets.train, order, 0, 32);
 */
export function gather(s: Split, order: ArrayLike<number>, start: number, size: number): { x: Float32Array; y: Int32Array } {
  return gatherBatch(s.pixels, s.labels, PIXEL_TABLE, order, start, size);
}
