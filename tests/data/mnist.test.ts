import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

import {
  decodeImages,
  decodeLabels,
  decodeMnist,
  encodeIdx,
  loadMnistFromUrls,
  MNIST_MEAN,
  MNIST_STD,
  type MnistLoadProgress,
  type MnistUrls,
} from '../../packages/data/src/index.js';

/** `n` tiny 2x3 images whose pixels are (sample * 10 + position). */
function tinyImages(n: number): Uint8Array {
  const px = Array.from({ length: n * 6 }, (_, i) => Math.floor(i / 6) * 10 + (i % 6));
  return encodeIdx('uint8', [n, 2, 3], px);
}

function tinyLabels(labels: number[]): Uint8Array {
  return encodeIdx('uint8', [labels.length], labels);
}

describe('decodeImages / decodeLabels', () => {
  it('scales pixels to [0, 1] by default and reports the geometry', () => {
    const bytes = encodeIdx('uint8', [2, 1, 2], [0, 255, 51, 102]);
    const d = decodeImages(bytes);
    expect(d.count).toBe(2);
    expect(d.height).toBe(1);
    expect(d.width).toBe(2);
    expect(d.images).toBeInstanceOf(Float32Array);
    expect(Array.from(d.images)).toEqual([0, 1, 0.2, 0.4].map((v) => Math.fround(v)));
  });

  it("standardizes with MNIST mean/std under normalize: 'standard'", () => {
    const d = decodeImages(encodeIdx('uint8', [1, 1, 2], [0, 255]), { normalize: 'standard' });
    expect(d.images[0]).toBeCloseTo(-MNIST_MEAN / MNIST_STD, 6);
    expect(d.images[1]).toBeCloseTo((1 - MNIST_MEAN) / MNIST_STD, 6);
  });

  it("supports normalize 'none' and custom stats, and rejects bad ones", () => {
    const bytes = encodeIdx('uint8', [1, 1, 2], [0, 255]);
    expect(Array.from(decodeImages(bytes, { normalize: 'none' }).images)).toEqual([0, 255]);
    expect(Array.from(decodeImages(bytes, { normalize: { mean: 0.5, std: 0.5 } }).images)).toEqual([-1, 1]);
    expect(() => decodeImages(bytes, { normalize: { mean: 0, std: 0 } })).toThrow(/positive std/);
    expect(() => decodeImages(bytes, { normalize: 'bogus' as never })).toThrow(/normalize must be/);
  });

  it('honours limit without reading past it', () => {
    const d = decodeImages(tinyImages(5), { limit: 2, normalize: 'none' });
    expect(d.count).toBe(2);
    expect(d.images.length).toBe(12);
    expect(d.images[6]).toBe(10);
    expect(decodeImages(tinyImages(3), { limit: 99 }).count).toBe(3);
    expect(() => decodeImages(tinyImages(3), { limit: -1 })).toThrow(/limit must be a non-negative integer/);
  });

  it('decodes labels to Int32Array', () => {
    const labels = decodeLabels(tinyLabels([5, 0, 4, 1, 9]));
    expect(labels).toBeInstanceOf(Int32Array);
    expect(Array.from(labels)).toEqual([5, 0, 4, 1, 9]);
    expect(Array.from(decodeLabels(tinyLabels([5, 0, 4]), { limit: 2 }))).toEqual([5, 0]);
  });

  it('rejects files of the wrong kind, naming them', () => {
    expect(() => decodeImages(tinyLabels([1, 2]), { name: 'imgs' })).toThrow(/imgs: expected an image file/);
    expect(() => decodeLabels(tinyImages(1), { name: 'lbls' })).toThrow(/lbls: expected a label file/);
    expect(() => decodeLabels(encodeIdx('int32', [1], [3]))).toThrow(/got int32/);
  });
});

describe('decodeMnist', () => {
  it('pairs images with labels and builds an NCHW shape', () => {
    const d = decodeMnist(tinyImages(3), tinyLabels([7, 2, 1]));
    expect(d.count).toBe(3);
    expect(d.shape).toEqual([3, 1, 2, 3]);
    expect(d.images.length).toBe(18);
    expect(Array.from(d.labels)).toEqual([7, 2, 1]);
  });

  it('reports a count mismatch even when limit would hide it', () => {
    expect(() => decodeMnist(tinyImages(3), tinyLabels([1, 2]), { limit: 1, names: { images: 'a-images', labels: 'a-labels' } })).toThrow(
      /count mismatch: a-images has 3 images but a-labels has 2 labels/,
    );
  });
});

describe('loadMnistFromUrls', () => {
  const files: Record<string, Uint8Array> = {
    '/m/train-images.gz': gzipSync(tinyImages(4)),
    '/m/train-labels': tinyLabels([3, 1, 4, 1]),
    '/m/test-images': tinyImages(2),
    '/m/test-labels.gz': gzipSync(tinyLabels([5, 9])),
  };
  const urls: MnistUrls = {
    trainImages: '/m/train-images.gz',
    trainLabels: '/m/train-labels',
    testImages: '/m/test-images',
    testLabels: '/m/test-labels.gz',
  };
  /** Serves `files`, streaming each body in 7-byte chunks to exercise progress. */
  const fakeFetch = async (url: string): Promise<Response> => {
    const body = files[url];
    if (body === undefined) return new Response('nope', { status: 404, statusText: 'Not Found' });
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < body.length; i += 7) controller.enqueue(body.slice(i, i + 7));
        controller.close();
      },
    });
    return new Response(stream, { headers: { 'content-length': String(body.length) } });
  };

  it('fetches, gunzips and decodes both splits, reporting progress', async () => {
    const events: MnistLoadProgress[] = [];
    const { train, test } = await loadMnistFromUrls(urls, { fetch: fakeFetch, onProgress: (p) => events.push(p) });
    expect(train.count).toBe(4);
    expect(train.shape).toEqual([4, 1, 2, 3]);
    expect(Array.from(train.labels)).toEqual([3, 1, 4, 1]);
    expect(test.count).toBe(2);
    expect(Array.from(test.labels)).toEqual([5, 9]);
    expect(test.images[6]).toBeCloseTo(10 / 255, 6);

    const totalBytes = Object.values(files).reduce((s, b) => s + b.length, 0);
    const last = events[events.length - 1]!;
    expect(last.loaded).toBe(totalBytes);
    expect(last.total).toBe(totalBytes);
    for (let i = 1; i < events.length; i++) expect(events[i]!.loaded).toBeGreaterThanOrEqual(events[i - 1]!.loaded);
    expect(new Set(events.map((e) => e.file))).toEqual(new Set(Object.keys(urls)));
  });

  it('applies normalize and limit to both splits', async () => {
    const { train, test } = await loadMnistFromUrls(urls, { fetch: fakeFetch, limit: 1, normalize: 'none' });
    expect(train.count).toBe(1);
    expect(test.count).toBe(1);
    expect(train.images[5]).toBe(5);
  });

  it('names the URL on an HTTP error', async () => {
    await expect(loadMnistFromUrls({ ...urls, testLabels: '/m/missing' }, { fetch: fakeFetch })).rejects.toThrow(/\/m\/missing: HTTP 404 Not Found/);
  });

  it('names the URL when a download is truncated', async () => {
    const lying = async (url: string): Promise<Response> => {
      const r = await fakeFetch(url);
      return new Response(r.body, { headers: { 'content-length': String(Number(r.headers.get('content-length')) + 5) } });
    };
    await expect(loadMnistFromUrls(urls, { fetch: lying })).rejects.toThrow(/download truncated/);
  });

  it('requires all four URLs', async () => {
    const partial = { trainImages: 'a', trainLabels: 'b', testImages: 'c' } as unknown as MnistUrls;
    await expect(loadMnistFromUrls(partial, { fetch: fakeFetch })).rejects.toThrow(/missing URL for 'testLabels'/);
  });
});
