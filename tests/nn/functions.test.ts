// Nonlinearities, objectives and regularization against values computed by hand.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { ts, expectClose, expectTensor, gradcheck } from '../helpers/index.js';

beforeAll(async () => {
  await ts.init();
});

const { nonlinearities: nl, objectives: obj, regularization: reg } = nn;
const xs = [-3, -0.5, 0, 0.7, 4];
// Includes 0, where the composite formulas have kinks: gradients must still be exact there.
const sig = (v: number) => 1 / (1 + Math.exp(-v));

describe('nonlinearities', () => {
  const cases: [string, nn.Nonlinearity, (v: number) => number][] = [
    ['rectify', nl.rectify, (v) => Math.max(v, 0)],
    ['sigmoid', nl.sigmoid, sig],
    ['tanh', nl.tanh, Math.tanh],
    ['linear', nl.linear, (v) => v],
    ['identity', nl.identity, (v) => v],
    ['leakyRectify', nl.leakyRectify, (v) => (v > 0 ? v : 0.01 * v)],
    ['veryLeakyRectify', nl.veryLeakyRectify, (v) => (v > 0 ? v : v / 3)],
    ['LeakyRectify(0.2)', nl.LeakyRectify(0.2), (v) => (v > 0 ? v : 0.2 * v)],
    ['elu', nl.elu, (v) => (v > 0 ? v : Math.exp(v) - 1)],
    ['softplus', nl.softplus, (v) => Math.log1p(Math.exp(v))],
  ];
  for (const [name, f, ref] of cases) {
    it(name, async () => {
      await expectTensor(f(ts.tensor(xs)), xs.map(ref), { rtol: 1e-5, atol: 1e-6 });
    });
  }

  it('softmax normalises over axis 1, for [N, C] and [N, C, H, W]', async () => {
    const rows = [
      [1, 2, 3],
      [0, 0, -1],
    ];
    const expected = rows.flatMap((r) => {
      const e = r.map(Math.exp);
      const s = e.reduce((a, b) => a + b);
      return e.map((v) => v / s);
    });
    await expectTensor(nl.softmax(ts.tensor(rows)), expected, { rtol: 1e-5 });
    const maps = nl.softmax(ts.randn([2, 3, 2, 2], { seed: 1 }));
    expectClose(await maps.sum(1).data(), new Array(8).fill(1), { rtol: 1e-5 });
    expect(() => nl.softmax(ts.tensor([1, 2]))).toThrow('softmax: expected an input of rank >= 2 ([N, C, ...]), got shape [2]');
  });

  it('softplus stays finite for large inputs and has the sigmoid as gradient', async () => {
    await expectTensor(nl.softplus(ts.tensor([100, -100])), [100, 0], { atol: 1e-6 });
    await gradcheck((x) => nl.softplus(x), [Float32Array.from(xs)], [[5]]);
  });
});

describe('objectives', () => {
  it('binaryCrossentropy, from probabilities (clipped) and from logits', async () => {
    const p = [0.9, 0.2, 0.5, 1];
    const t = [1, 0, 1, 1];
    const ref = p.map((v, i) => -(t[i]! * Math.log(Math.min(Math.max(v, 1e-7), 1 - 1e-7)) + (1 - t[i]!) * Math.log(1 - Math.min(Math.max(v, 1e-7), 1 - 1e-7))));
    await expectTensor(obj.binaryCrossentropy(ts.tensor(p), ts.tensor(t)), ref, { rtol: 1e-4, atol: 1e-5 });
    const logits = [2, -1, 0, 30];
    const ref2 = logits.map((x, i) => -(t[i]! * Math.log(sig(x)) + (1 - t[i]!) * Math.log(1 - sig(x))));
    await expectTensor(obj.binaryCrossentropy(ts.tensor(logits), ts.tensor(t), { fromLogits: true }), ref2, { rtol: 1e-4, atol: 1e-6 });
    const saturated = await obj.binaryCrossentropy(ts.tensor([0, 1]), ts.tensor([1, 0])).data();
    expect(saturated.every(Number.isFinite)).toBe(true);
    expect(() => obj.binaryCrossentropy(ts.tensor([0.5]), ts.tensor([1, 0]))).toThrow(
      'binaryCrossentropy: predictions [1] and targets [2] must have the same shape',
    );
  });

  it('categoricalCrossentropy per row, with int ids, distributions, or logits', async () => {
    const probs = [
      [0.7, 0.2, 0.1],
      [0.1, 0.1, 0.8],
    ];
    await expectTensor(obj.categoricalCrossentropy(ts.tensor(probs), ts.tensor([0, 1], { dtype: 'int32' })), [-Math.log(0.7), -Math.log(0.1)], { rtol: 1e-5 });
    await expectTensor(
      obj.categoricalCrossentropy(
        ts.tensor(probs),
        ts.tensor([
          [0.5, 0.5, 0],
          [0, 0, 1],
        ]),
      ),
      [-(0.5 * Math.log(0.7) + 0.5 * Math.log(0.2)), -Math.log(0.8)],
      { rtol: 1e-5 },
    );
    const logits = [
      [1, 2, 3],
      [3, 0, -2],
    ];
    const logsm = logits.map((r) => {
      const lse = Math.log(r.reduce((s, v) => s + Math.exp(v), 0));
      return r.map((v) => v - lse);
    });
    const labels = ts.tensor([2, 1], { dtype: 'int32' });
    const fromLogits = obj.categoricalCrossentropy(ts.tensor(logits), labels, { fromLogits: true });
    await expectTensor(fromLogits, [-logsm[0]![2]!, -logsm[1]![1]!], { rtol: 1e-5 });
    // Same as the mean cross-entropy of the core op.
    expect(await fromLogits.mean().item()).toBeCloseTo(await ts.crossEntropy(ts.tensor(logits), labels).item(), 5);
    expect(() => obj.categoricalCrossentropy(ts.tensor(probs), ts.tensor([0, 1, 2], { dtype: 'int32' }))).toThrow(
      'categoricalCrossentropy: targets [3] int32 do not fit predictions [2,3]: expected int32 class ids [2] or float32 distributions [2, 3]',
    );
    expect(() => obj.categoricalCrossentropy(ts.tensor([1, 2]), labels)).toThrow('categoricalCrossentropy: predictions must be [N, C], got [2]');
  });

  it('squaredError and aggregate in its three modes', async () => {
    const se = obj.squaredError(ts.tensor([1, 2, 4]), ts.tensor([1, 0, 1]));
    await expectTensor(se, [0, 4, 9]);
    const w = ts.tensor([1, 0.5, 0]);
    expect(await obj.aggregate(se).item()).toBeCloseTo(13 / 3, 5);
    expect(await obj.aggregate(se, null, 'sum').item()).toBeCloseTo(13, 5);
    expect(await obj.aggregate(se, w, 'mean').item()).toBeCloseTo(2 / 3, 5);
    expect(await obj.aggregate(se, w, 'sum').item()).toBeCloseTo(2, 5);
    expect(await obj.aggregate(se, w, 'normalized_sum').item()).toBeCloseTo(2 / 1.5, 5);
    expect(() => obj.aggregate(se, null, 'normalized_sum')).toThrow("aggregate: mode 'normalized_sum' needs weights");
    expect(() => obj.aggregate(se, null, 'median' as never)).toThrow(/aggregate: mode must be 'mean', 'sum' or 'normalized_sum', got "median"/);
  });

  it('categoricalAccuracy (ids, one-hot, top-k) and binaryAccuracy', async () => {
    const p = ts.tensor([
      [0.1, 0.7, 0.2],
      [0.5, 0.2, 0.3],
      [0.3, 0.3, 0.4],
    ]);
    await expectTensor(obj.categoricalAccuracy(p, ts.tensor([1, 2, 2], { dtype: 'int32' })), [1, 0, 1]);
    await expectTensor(obj.categoricalAccuracy(p, ts.oneHot(ts.tensor([1, 2, 0], { dtype: 'int32' }), 3)), [1, 0, 0]);
    await expectTensor(obj.categoricalAccuracy(p, ts.tensor([0, 2, 1], { dtype: 'int32' }), { topK: 2 }), [0, 1, 1]);
    await expectTensor(obj.binaryAccuracy(ts.tensor([0.9, 0.4, 0.5, 0.1]), ts.tensor([1, 1, 1, 0])), [1, 0, 1, 1]);
    await expectTensor(obj.binaryAccuracy(ts.tensor([0.9, 0.4]), ts.tensor([1, 1]), { threshold: 0.3 }), [1, 1]);
    expect(() => obj.categoricalAccuracy(p, ts.tensor([1], { dtype: 'int32' }))).toThrow(/categoricalAccuracy: targets \[1\] do not fit predictions \[3,3\]/);
  });

  it('the clipped cross-entropy has usable gradients', async () => {
    await gradcheck(
      (p) => obj.categoricalCrossentropy(p, ts.tensor([0, 2], { dtype: 'int32' })),
      [Float32Array.from([0.5, 0.3, 0.2, 0.1, 0.3, 0.6])],
      [[2, 3]],
      { eps: 1e-3 },
    );
    await gradcheck((x) => obj.binaryCrossentropy(x, ts.tensor([1, 0, 1]), { fromLogits: true }), [Float32Array.from([0, -1, 2])], [[3]]);
  });
});

describe('regularization', () => {
  it('l1 and l2 penalties', async () => {
    expect(await reg.l1(ts.tensor([-1, 2, -3])).item()).toBeCloseTo(6, 6);
    expect(await reg.l2(ts.tensor([-1, 2, -3])).item()).toBeCloseTo(14, 5);
    expect(await reg.applyPenalty([ts.tensor([1, 1]), ts.tensor([2])], reg.l2).item()).toBeCloseTo(6, 5);
  });

  it('regularizeNetworkParams penalises regularizable parameters (weights, not biases)', async () => {
    const data = new nn.InputLayer([null, 2]);
    const h = new nn.DenseLayer(data, { numUnits: 2, W: [1, 2, 3, 4], b: [10, 10] });
    const out = new nn.DenseLayer(h, { numUnits: 1, W: [1, -1], b: [100] });
    expect(await reg.regularizeNetworkParams(out, reg.l2).item()).toBeCloseTo(30 + 2, 4);
    expect(await reg.regularizeNetworkParams(out, reg.l1, {}).item()).toBeCloseTo(10 + 20 + 2 + 100, 4);
    expect(await reg.regularizeLayerParams(out, reg.l1).item()).toBeCloseTo(2, 5);
    expect(
      await reg
        .regularizeLayerParamsWeighted(
          new Map<nn.Layer, number>([
            [h, 0.1],
            [out, 1],
          ]),
          reg.l2,
        )
        .item(),
    ).toBeCloseTo(3 + 2, 4);
    // It is differentiable: the penalty's gradient is 2W.
    const params = nn.getAllParams(out, { regularizable: true });
    reg.regularizeNetworkParams(out, reg.l2).backward();
    expectClose(await params[0]!.grad!.data(), [2, 4, 6, 8]);
    expect(h.b!.grad).toBeNull();
    expect(() => reg.applyPenalty([], 'l2' as never)).toThrow(/applyPenalty: penalty must be a function/);
    nn.disposeLayers(out);
  });
});
