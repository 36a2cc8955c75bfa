import { beforeAll, describe, expect, it } from 'vitest';
import { ts, expectTensor } from '../helpers/index.js';

beforeAll(async () => {
  await ts.init();
});

describe('smoke', () => {
  it('adds and reads back', async () => {
    const x = ts.tensor([
      [1, 2],
      [3, 4],
    ]);
    await expectTensor(x.add(1), [2, 3, 4, 5], { shape: [2, 2] });
    await expectTensor(x.mul(x).sum(1), [5, 25], { shape: [2] });
  });
  it('backward', async () => {
    const p = ts.tensor([1, 2, 3], { requiresGrad: true });
    p.mul(p).sum().backward();
    await expectTensor(p.grad!, [2, 4, 6]);
    expect(ts.backendInfo().adapter).toBeTruthy();
  });
});
