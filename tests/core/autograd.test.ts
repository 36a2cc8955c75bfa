import { beforeAll, describe, expect, it } from 'vitest';
import { ts, expectTensor, gradcheck } from '../helpers/index.js';

beforeAll(async () => {
  await ts.init();
});

const seq = (n: number, scale = 0.37, shift = -1.1) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + 0.3) * 2 * scale + shift * 0.1 + i * 0.01);

describe('autograd', () => {
  it('accumulates when a tensor is used twice', async () => {
    const x = ts.tensor([1, 2, 3], { requiresGrad: true });
    x.mul(x).add(x).sum().backward(); // d/dx (x^2 + x) = 2x + 1
    await expectTensor(x.grad!, [3, 5, 7]);
    x.mul(3).sum().backward(); // .grad accumulates across backward calls, as in PyTorch
    await expectTensor(x.grad!, [6, 8, 10]);
  });

  it('reduces gradients over broadcast dimensions', async () => {
    const a = ts.tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { requiresGrad: true },
    );
    const b = ts.tensor([10, 20, 30], { requiresGrad: true });
    const s = ts.tensor(2, { requiresGrad: true });
    a.mul(b).mul(s).sum().backward();
    await expectTensor(a.grad!, [20, 40, 60, 20, 40, 60], { shape: [2, 3] });
    await expectTensor(b.grad!, [10, 14, 18], { shape: [3] });
    await expectTensor(s.grad!, [10 + 40 + 90 + 40 + 100 + 180], { shape: [] });
  });

  it('functional grad and valueAndGrad', async () => {
    const f = (a: ts.Tensor, b: ts.Tensor) => a.mul(b).sum();
    const [da, db] = ts.grad(f)(ts.tensor([1, 2]), ts.tensor([3, 4]));
    await expectTensor(da!, [3, 4]);
    await expectTensor(db!, [1, 2]);
    const { value, grads } = ts.valueAndGrad((x: ts.Tensor) => x.square().sum())(ts.tensor([1, 2, 3]));
    expect(await value.item()).toBe(14);
    await expectTensor(grads[0]!, [2, 4, 6]);
  });

  it('noGrad records nothing', () => {
    const p = ts.tensor([1, 2], { requiresGrad: true });
    const y = ts.noGrad(() => p.mul(2));
    expect(y.requiresGrad).toBe(false);
    expect(() => y.sum().backward()).toThrow(/backward: .*does not require grad/);
  });

  it('can backward after intermediates were disposed by tidy', async () => {
    const w = ts.tensor([0.5, -1], { requiresGrad: true });
    const loss = ts.tidy(() => w.mul(w).exp().sum());
    loss.backward();
    await expectTensor(w.grad!, [2 * 0.5 * Math.exp(0.25), -2 * Math.exp(1)], { rtol: 1e-5 });
  });

  it('refuses a second backward through a freed graph', () => {
    const w = ts.tensor([1], { requiresGrad: true });
    const y = w.exp();
    const loss = y.sum();
    loss.backward();
    expect(() => y.sum().backward()).toThrow(/already freed/);
  });

  it('shares an explicit gradient with the graph but never hands it out as a .grad', async () => {
    const w = ts.tensor([1, 2], { requiresGrad: true });
    const leaf = ts.tensor([3, 4], { requiresGrad: true });
    const seed = ts.tensor([10, 20]);
    w.add(1).backward(seed); // add passes the seed through to the leaf
    leaf.backward(seed); // the root is itself a leaf
    ts.assign(w.grad!, ts.tensor([0, 0]));
    ts.assign(leaf.grad!, ts.tensor([0, 0]));
    await expectTensor(seed, [10, 20]);
    const before = ts.memory().tensors;
    const y = w.mul(3);
    y.backward(seed);
    y.dispose();
    await expectTensor(w.grad!, [30, 60]);
    seed.dispose();
    await expectTensor(w.grad!, [30, 60]);
    expect(ts.memory().tensors).toBe(before - 1);
    ts.dispose([w, leaf]);
  });

  it('needs a gradient for non-scalar outputs', () => {
    const w = ts.tensor([1, 2], { requiresGrad: true });
    expect(() => w.mul(2).backward()).toThrow(/backward: the output has shape \[2\]/);
  });
});

describe('finite-difference gradient checks', () => {
  const cases: [string, (...x: ts.Tensor[]) => ts.Tensor, number[][]][] = [
    ['mul/div broadcast', (a, b) => a.mul(b).div(b.add(3)), [[2, 3], [3]]],
    ['exp/log/sqrt', (a) => a.abs().add(0.5).sqrt().log().add(a.exp()), [[5]]],
    ['sigmoid/tanh', (a) => a.sigmoid().mul(a.tanh()), [[6]]],
    ['pow', (a, b) => a.abs().add(0.5).pow(b), [[4], [4]]],
    ['max/min reductions', (a) => a.max(1).add(a.min(0).sum()), [[3, 4]]],
    ['mean over axes', (a) => a.mean([0, 2], true), [[2, 3, 2]]],
    ['transpose/slice/concat', (a) => ts.concat([a.transpose([1, 0]), a.slice([0, 1], [2, 2]).transpose()], 0), [[2, 3]]],
    [
      'matmul batched broadcast',
      (a, b) => ts.matmul(a, b),
      [
        [2, 3, 4],
        [4, 2],
      ],
    ],
    ['linear relu', (x, w, b) => ts.linear(x, w, b, { activation: 'relu' }), [[3, 4], [4, 5], [5]]],
    ['where/maximum', (a, b) => ts.where(a.gt(0), a.maximum(b), b.square()), [[6], [6]]],
    ['softmax/logSoftmax', (a) => ts.softmax(a, 1).mul(ts.logSoftmax(a, 0)), [[3, 4]]],
  ];
  it.each(cases)('%s', async (_n, f, shapes) => {
    const inputs = shapes.map((s, i) =>
      seq(
        s.reduce((p, d) => p * d, 1),
        1 + i * 0.3,
        i,
      ),
    );
    await gradcheck(f, inputs, shapes);
  });
});
