import { describe, expect, it } from 'vitest';

import { batchCount, batches, mixSeed, mulberry32, shuffledIndices, type Batch, type BatchOptions } from '../../packages/data/src/index.js';

/** `n` samples of shape [2, 3]; every value of sample i equals i, label = i % 10. */
function data(n: number): { images: Float32Array; labels: Int32Array } {
  const images = new Float32Array(n * 6);
  for (let i = 0; i < images.length; i++) images[i] = Math.floor(i / 6);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
  return { images, labels };
}

const shape = [2, 3];

/** The sample ids of each batch, read back from x (and checked against y). */
function order(list: Batch[]): number[][] {
  return list.map((b) => {
    const ids: number[] = [];
    for (let k = 0; k < b.size; k++) {
      const id = b.x[k * 6]!;
      for (let j = 1; j < 6; j++) expect(b.x[k * 6 + j]).toBe(id);
      expect(b.y[k]).toBe(id % 10);
      ids.push(id);
    }
    return ids;
  });
}

function run(options: Partial<BatchOptions> & { n?: number }): Batch[] {
  const { n = 100, ...rest } = options;
  return [...batches({ ...data(n), sampleShape: shape, ...rest })];
}

describe('PRNG and permutation', () => {
  it('mulberry32 is deterministic and yields uint32s', () => {
    const a = mulberry32(123);
    const b = mulberry32(123);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    for (const x of xs) expect(Number.isInteger(x) && x >= 0 && x < 2 ** 32).toBe(true);
    expect(new Set(xs).size).toBe(1000);
    const mean = xs.reduce((s, x) => s + x / 2 ** 32, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });

  it('mixSeed separates seeds and epochs that a sum would confuse', () => {
    expect(mixSeed(1, 0)).not.toBe(mixSeed(0, 1));
    expect(mixSeed(2 ** 40, 0)).not.toBe(mixSeed(0, 0));
    expect(mixSeed(7, 3)).toBe(mixSeed(7, 3));
  });

  it('shuffledIndices is a permutation, fixed by (seed, epoch)', () => {
    const p = shuffledIndices(1000, 42, 0);
    expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(shuffledIndices(1000, 42, 0)).toEqual(p);
    expect(shuffledIndices(1000, 42, 1)).not.toEqual(p);
    expect(shuffledIndices(1000, 43, 0)).not.toEqual(p);
    expect(Array.from(shuffledIndices(0, 1))).toEqual([]);
    expect(Array.from(shuffledIndices(1, 1))).toEqual([0]);
  });

  it('pins the exact order so a change in the algorithm is noticed', () => {
    // Reproducibility across versions is part of the contract.
    expect(Array.from(shuffledIndices(10, 0, 0))).toEqual([5, 1, 6, 4, 9, 7, 0, 2, 3, 8]);
    expect(Array.from(shuffledIndices(10, 0, 1))).toEqual([7, 5, 4, 3, 0, 6, 1, 8, 9, 2]);
    // First output of the reference mulberry32 for seed 0 (0.26642920868471265 * 2^32).
    expect(mulberry32(0)()).toBe(1144304738);
  });
});

describe('batches', () => {
  it('same seed and epoch give the same order; other epochs and seeds differ', () => {
    const a = order(run({ batchSize: 16, seed: 7 }));
    expect(order(run({ batchSize: 16, seed: 7 }))).toEqual(a);
    expect(order(run({ batchSize: 16, seed: 7, epoch: 0 }))).toEqual(a);
    expect(order(run({ batchSize: 16, seed: 7, epoch: 1 }))).not.toEqual(a);
    expect(order(run({ batchSize: 16, seed: 8 }))).not.toEqual(a);
    // Shuffled, yet every sample appears exactly once per epoch.
    const flat = a.flat();
    expect(flat).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect([...flat].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('different epochs give different orders, all of them permutations', () => {
    const epochs = [0, 1, 2, 3].map((epoch) => order(run({ batchSize: 10, seed: 1, epoch })).flat());
    expect(new Set(epochs.map((e) => e.join(','))).size).toBe(4);
    for (const e of epochs) expect(new Set(e).size).toBe(100);
  });

  it('makes full batches and a smaller last one', () => {
    const list = run({ n: 100, batchSize: 32 });
    expect(list.map((b) => b.size)).toEqual([32, 32, 32, 4]);
    expect(list.map((b) => b.index)).toEqual([0, 1, 2, 3]);
    for (const b of list) {
      expect(b.x.length).toBe(b.size * 6);
      expect(b.y.length).toBe(b.size);
    }
    expect(batchCount(100, 32)).toBe(4);
  });

  it('dropLast skips the incomplete final batch', () => {
    const list = run({ n: 100, batchSize: 32, dropLast: true });
    expect(list.map((b) => b.size)).toEqual([32, 32, 32]);
    expect(batchCount(100, 32, true)).toBe(3);
    // Exact multiple: nothing to drop.
    expect(run({ n: 96, batchSize: 32, dropLast: true }).map((b) => b.size)).toEqual([32, 32, 32]);
  });

  it('full-batch mode when batchSize is undefined or >= N: the inputs themselves', () => {
    const d = data(50);
    for (const batchSize of [undefined, 50, 1000]) {
      const list = [...batches({ ...d, sampleShape: shape, batchSize, dropLast: true })];
      expect(list.length).toBe(1);
      expect(list[0]!.size).toBe(50);
      expect(list[0]!.x).toBe(d.images);
      expect(list[0]!.y).toBe(d.labels);
      expect(batchCount(50, batchSize, true)).toBe(1);
    }
  });

  it('without shuffle, yields in-order zero-copy views', () => {
    const d = data(10);
    const list = [...batches({ ...d, sampleShape: shape, batchSize: 4, shuffle: false })];
    expect(order(list)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    expect(list[1]!.x.buffer).toBe(d.images.buffer);
  });

  it('shuffled batches are copies, so the source is never aliased', () => {
    const d = data(10);
    const [first] = batches({ ...d, sampleShape: shape, batchSize: 4, seed: 3 });
    first!.x.fill(-1);
    expect(d.images.every((v) => v >= 0)).toBe(true);
  });

  it('yields nothing for an empty dataset', () => {
    expect(run({ n: 0, batchSize: 4 })).toEqual([]);
    expect(batchCount(0, 4)).toBe(0);
  });

  it('validates eagerly: batch size, lengths, shape, seed', () => {
    const d = data(10);
    const base = { ...d, sampleShape: shape };
    expect(() => batches({ ...base, batchSize: 0 })).toThrow(/batchSize must be a positive integer/);
    expect(() => batches({ ...base, batchSize: -3 })).toThrow(/batchSize must be a positive integer/);
    expect(() => batches({ ...base, batchSize: 2.5 })).toThrow(/batchSize must be a positive integer/);
    expect(() => batches({ ...base, labels: new Int32Array(9) })).toThrow(
      /mismatched lengths: images hold 10 samples of shape \[2, 3\] but labels has 9 entries/,
    );
    expect(() => batches({ ...base, images: new Float32Array(61) })).toThrow(/not a multiple of the sample size 6/);
    expect(() => batches({ ...base, sampleShape: [2, 0] })).toThrow(/positive integers/);
    expect(() => batches({ ...base, sampleShape: [] })).toThrow(/non-empty array/);
    expect(() => batches({ ...base, seed: 0.5 })).toThrow(/seed must be an integer/);
    expect(() => batches({ ...base, epoch: -1 })).toThrow(/epoch must be an integer >= 0/);
    expect(() => batches({ ...base, images: [1, 2] as unknown as Float32Array })).toThrow(/Float32Array/);
  });

  it('works with the MNIST sample shape', () => {
    const images = new Float32Array(70 * 784);
    const labels = new Int32Array(70);
    const list = [...batches({ images, labels, sampleShape: [1, 28, 28], batchSize: 32, seed: 0 })];
    expect(list.map((b) => b.x.length)).toEqual([32 * 784, 32 * 784, 6 * 784]);
  });
});

describe('batches with float targets (regression)', () => {
  /** Sample i's targets are [i + 0.5, -i]: two per sample. */
  const n = 23;
  const { images } = data(n);
  const targets = Float32Array.from({ length: n * 2 }, (_, k) => (k % 2 === 0 ? k / 2 + 0.5 : -(k - 1) / 2));

  it('batches Float32Array targets like the images, any number per sample, in the same order', () => {
    const list = [...batches({ images, labels: targets, sampleShape: shape, batchSize: 5, seed: 4, epoch: 1 })];
    expect(list.map((b) => b.size)).toEqual([5, 5, 5, 5, 3]);
    const ids = [...batches({ images, labels: Int32Array.from({ length: n }, (_, i) => i), sampleShape: shape, batchSize: 5, seed: 4, epoch: 1 })];
    list.forEach((b, j) => {
      expect(b.y).toBeInstanceOf(Float32Array);
      expect(b.y.length).toBe(2 * b.size);
      for (let k = 0; k < b.size; k++) {
        const id = b.x[k * 6]!;
        expect(id).toBe(ids[j]!.y[k]); // the same permutation as for class ids
        expect([b.y[2 * k], b.y[2 * k + 1]]).toEqual([id + 0.5, -id]);
      }
    });
    // Unshuffled: views; full batch: the array itself; targetShape spelled out gives the same.
    const views = [...batches({ images, labels: targets, sampleShape: shape, batchSize: 10, shuffle: false })];
    expect(views[1]!.y.buffer).toBe(targets.buffer);
    expect([...views[1]!.y]).toEqual([...targets.subarray(20, 40)]);
    expect([...batches({ images, labels: targets, sampleShape: shape })][0]!.y).toBe(targets);
    const explicit = [...batches({ images, labels: targets, sampleShape: shape, targetShape: [2], batchSize: 5, seed: 4, epoch: 1 })];
    expect(explicit.map((b) => [...b.y])).toEqual(list.map((b) => [...b.y]));
  });

  it('one float target per sample, and mismatches rejected', () => {
    const one = Float32Array.from({ length: n }, (_, i) => i / 10);
    for (const b of batches({ images, labels: one, sampleShape: shape, batchSize: 4, seed: 1 })) {
      for (let k = 0; k < b.size; k++) expect(b.y[k]).toBeCloseTo(b.x[k * 6]! / 10, 6);
    }
    expect(() => batches({ images, labels: new Float32Array(n * 2 + 1), sampleShape: shape })).toThrow(
      /mismatched lengths: images hold 23 samples .* but labels has 47 entries \(a whole number of values per sample\)/,
    );
    expect(() => batches({ images, labels: targets, sampleShape: shape, targetShape: [3] })).toThrow(/labels has 46 entries of shape \[3\]/);
    expect(() => batches({ images, labels: targets, sampleShape: shape, targetShape: [0] })).toThrow(/targetShape entries must be positive integers/);
    expect(() => batches({ images, labels: [1, 2] as unknown as Int32Array, sampleShape: shape })).toThrow(/labels must be an Int32Array .* or a Float32Array/);
    // Int32Array class ids keep their one-per-sample rule.
    expect(() => batches({ images, labels: new Int32Array(n * 2), sampleShape: shape })).toThrow(/but labels has 46 entries$/);
  });
});
