// tensorBatches: the mini-batches of `batches` as tensors of the right shape and dtype, each
// batch owning (and freeing) its two tensors.
import { tensorBatches } from '@tessera/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeak, ts } from '../helpers/index.js';

beforeAll(async () => {
  await ts.init({ backend: 'webgpu' });
});

const N = 10;
const images = Float32Array.from({ length: N * 4 }, (_, i) => i);
const labels = Int32Array.from({ length: N }, (_, i) => i % 3);

describe('tensorBatches', () => {
  it('yields float32 images [size, ...sampleShape] and int32 labels [size], the same values as batches', async () => {
    await expectNoLeak(async () => {
      const seen: number[] = [];
      for (const b of tensorBatches({ images, labels, sampleShape: [1, 2, 2], batchSize: 4, shuffle: false })) {
        expect([...b.x.shape]).toEqual([b.size, 1, 2, 2]);
        expect(b.x.dtype).toBe('float32');
        expect([...b.y.shape]).toEqual([b.size]);
        expect(b.y.dtype).toBe('int32');
        seen.push(...(await b.y.data()));
        expect((await b.x.data())[0]).toBe(b.index * 16);
        b.dispose();
      }
      expect(seen).toEqual([...labels]);
    }, 'an epoch of tensor batches');
  });

  it('yields float32 targets [size, k] for Float32Array labels (regression)', async () => {
    await expectNoLeak(async () => {
      const targets = Float32Array.from({ length: N * 3 }, (_, i) => i / 2);
      const seen: number[] = [];
      for (const b of tensorBatches({ images, labels: targets, sampleShape: [4], batchSize: 4, shuffle: false })) {
        expect([...b.y.shape]).toEqual([b.size, 3]);
        expect(b.y.dtype).toBe('float32');
        seen.push(...(await b.y.data()));
        b.dispose();
      }
      expect(seen).toEqual([...targets]);
      for (const b of tensorBatches({ images, labels: targets.subarray(0, N), sampleShape: [4], batchSize: 8, targetShape: [] })) {
        expect([...b.y.shape]).toEqual([b.size]);
        b.dispose();
      }
    }, 'float targets');
  });

  it('validates its options when called, before the first batch', () => {
    expect(() => tensorBatches({ images, labels: labels.subarray(1), sampleShape: [4], batchSize: 2 })).toThrow('batches: mismatched lengths');
  });
});
