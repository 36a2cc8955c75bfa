/**
 * Runtime properties of the CNN ops: a conv + pool + cross-entropy training step leaks no
 * tensors or bytes (saved argmax indices and row statistics included), and a conv layer costs
 * the dispatches the design promises (bias and ReLU fused forward, the bias gradient fused into
 * the filter pass). tests/core/kernels.test.ts checks every kernel's Params against KERNELS.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ts, expectNoLeak } from '../helpers/index.js';

beforeAll(async () => {
  await ts.init();
});

describe('a conv + pool + cross-entropy step', () => {
  it('leaks no tensors or bytes, forward and backward', async () => {
    const w = ts.randn([4, 2, 3, 3], { seed: 1, requiresGrad: true });
    const b = ts.zeros([4], { requiresGrad: true });
    const fc = ts.randn([16, 3], { seed: 2, requiresGrad: true });
    const x = ts.randn([2, 2, 8, 8], { seed: 3 });
    const labels = ts.tensor([0, 2], { dtype: 'int32' });
    const step = async () => {
      const loss = ts.tidy(() => {
        const h = ts.conv2d(x, w, b, { padding: 1, activation: 'relu' });
        const p = ts.avgPool2d(ts.maxPool2d(h, { kernelSize: 2 }), { kernelSize: 2 });
        return ts.crossEntropy(ts.logSoftmax(p.flatten().matmul(fc)), labels);
      });
      loss.backward();
      await w.grad!.data();
      loss.dispose();
      for (const p of [w, b, fc]) {
        p.grad!.dispose();
        p.grad = null;
      }
    };
    await step(); // warm the scalar cache and the buffer pool
    await expectNoLeak(step, 'conv + pool + crossEntropy step');
    // A forward pass that is never differentiated frees its saved argmax and statistics at once.
    await expectNoLeak(
      () => ts.tidy(() => ts.noGrad(() => ts.crossEntropy(ts.maxPool2d(x, { kernelSize: 2 }).reshape([2, 32]), labels))).dispose(),
      'noGrad forward',
    );
    ts.dispose([w, b, fc, x, labels]);
  });

  it('takes one dispatch forward and three backward for conv + bias + ReLU', async () => {
    const x = ts.randn([1, 2, 6, 6], { seed: 4, requiresGrad: true });
    const w = ts.randn([3, 2, 3, 3], { seed: 5, requiresGrad: true });
    const b = ts.randn([3], { seed: 6, requiresGrad: true });
    const dy = ts.randn([1, 3, 6, 6], { seed: 7 });
    await dy.data();
    const s0 = ts.stats().dispatches;
    const y = ts.conv2d(x, w, b, { padding: 'same', activation: 'relu' });
    expect(ts.stats().dispatches - s0, 'forward').toBe(1);
    const s1 = ts.stats().dispatches;
    y.backward(dy);
    // dy copy, ReLU mask, input gradient, filter+bias gradient (chunks, then their sum), 2 slices.
    expect(ts.stats().dispatches - s1, 'backward').toBeLessThanOrEqual(7);
    ts.dispose([x, w, b, dy, y]);
  });
});
