// BatchNormLayer, the batchNorm helper and GlobalPoolLayer: shapes, parameter tags, training vs
// deterministic mode, the running statistics, Lasagne's positional forms, errors and leaks.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { ts, expectClose, expectNoLeak, expectTensor } from '../helpers/index.js';

beforeAll(async () => {
  await ts.init();
});

const seq = (n: number, scale = 0.1, offset = 0): Float32Array => Float32Array.from({ length: n }, (_, i) => (((i * 7) % 11) - 5) * scale + offset);

describe('BatchNormLayer', () => {
  it('has per-channel beta, gamma, mean and var, tagged as in Lasagne', () => {
    const data = new nn.InputLayer([null, 4, 5, 5]);
    const bn = new nn.BatchNormLayer(data);
    expect(bn.outputShape).toEqual([null, 4, 5, 5]);
    expect([bn.axis, bn.axes, bn.alpha, bn.epsilon]).toEqual([1, [0, 2, 3], 0.1, 1e-5]);
    for (const p of [bn.beta!, bn.gamma!, bn.mean, bn.var]) expect(p.shape).toEqual([4]);
    expect(bn.params.get(bn.beta!)).toEqual({ trainable: true, regularizable: false });
    expect(bn.params.get(bn.gamma!)).toEqual({ trainable: true, regularizable: true });
    expect(bn.params.get(bn.mean)).toEqual({ trainable: false, regularizable: false });
    expect(bn.params.get(bn.var)).toEqual({ trainable: false, regularizable: false });
    expect(nn.getAllParams(bn, { trainable: true })).toEqual([bn.beta, bn.gamma]);
    expect(nn.getAllParams(bn, { regularizable: true })).toEqual([bn.gamma]);
    expect([bn.mean.requiresGrad, bn.var.requiresGrad, bn.gamma!.requiresGrad]).toEqual([false, false, true]);
    expect([...nn.paramNames({ bn }).values()]).toEqual(['bn.beta', 'bn.gamma', 'bn.mean', 'bn.var']);
    bn.dispose();
  });

  it('normalizes features of [N, C] input, and takes axes, beta: null and gamma: null', () => {
    const dense = new nn.InputLayer([null, 10]);
    const bn = new nn.BatchNormLayer(dense, { beta: null, gamma: null });
    expect([bn.axis, bn.beta, bn.gamma, bn.mean.shape]).toEqual([1, null, null, [10]]);
    const channelsLast = new nn.BatchNormLayer(new nn.InputLayer([null, 5, 5, 3]), { axes: [0, 1, 2] });
    expect([channelsLast.axis, channelsLast.mean.shape]).toEqual([3, [3]]);
    const negative = new nn.BatchNormLayer(new nn.InputLayer([null, 3, 5, 5]), { axes: [-4, -2, -1] });
    expect(negative.axis).toBe(1);
    nn.disposeLayers([bn, channelsLast, negative]);
  });

  it("takes Lasagne's positional axes, epsilon and alpha", () => {
    const data = new nn.InputLayer([null, 3, 4, 4]);
    const a = new nn.BatchNormLayer(data, 'auto', 1e-3, 0.2, { name: 'bn' }); // Lasagne: BatchNormLayer(data, 'auto', 1e-3, 0.2)
    expect([a.axes, a.epsilon, a.alpha, a.name]).toEqual([[0, 2, 3], 1e-3, 0.2, 'bn']);
    const b = new nn.BatchNormLayer(data, [0, 2, 3]);
    expect(b.axis).toBe(1);
    expect(() => new nn.BatchNormLayer(data, 'auto', 1e-3, undefined, { epsilon: 1e-4 } as never)).toThrow(/BatchNormLayer: epsilon is ambiguous/);
    nn.disposeLayers([a, b]);
  });

  it('rejects axes that leave no or several axes, bad options, unknown channel counts and small inputs', () => {
    const data = new nn.InputLayer([null, 3, 4, 4]);
    expect(() => new nn.BatchNormLayer(data, { axes: [0, 2] })).toThrow(
      /BatchNormLayer: axes \[0,2\] leave axes \[1,3\] of input \[null,3,4,4\] unnormalized; exactly one/,
    );
    expect(() => new nn.BatchNormLayer(data, { axes: [0, 1, 2, 3] })).toThrow(/leave no axis/);
    expect(() => new nn.BatchNormLayer(data, { axes: [0, 4] })).toThrow(/BatchNormLayer: axes must be 'auto' or integers in \[-4, 3\]/);
    expect(() => new nn.BatchNormLayer(data, { alpha: 1.5 })).toThrow(/BatchNormLayer: alpha must be a number in \[0, 1\], got 1.5/);
    expect(() => new nn.BatchNormLayer(data, { epsilon: -1 })).toThrow(/BatchNormLayer: epsilon must be a finite number >= 0/);
    expect(() => new nn.BatchNormLayer(new nn.InputLayer([null, null]))).toThrow(
      /BatchNormLayer: input shape \[null,null\] does not fit: expected a fixed size on axis 1/,
    );
    expect(() => new nn.BatchNormLayer(new nn.InputLayer([null]))).toThrow(
      /BatchNormLayer: input shape \[null\] does not fit: expected \[batch, channels, \.\.\.\]/,
    );
    expect(() => new nn.BatchNormLayer(data, { gamma: [1, 2] })).toThrow(/BatchNormLayer: parameter 'gamma': got 2 values, expected 3/);
  });

  it('training mode normalizes with the batch statistics and updates the running ones in place', async () => {
    const data = new nn.InputLayer([null, 2, 3, 3]);
    const bn = new nn.BatchNormLayer(data, { alpha: 0.5, beta: [0.5, -1], gamma: [2, 1] });
    const x = ts.tensor(seq(4 * 2 * 9, 0.3, 1), { shape: [4, 2, 3, 3] });
    const mean = bn.mean;
    const y = nn.getOutput(bn, x);
    const expected = ts.batchNorm(x, { gamma: ts.tensor([2, 1]), beta: ts.tensor([0.5, -1]), training: true });
    expectClose(await y.data(), await expected.data(), { rtol: 1e-6, atol: 1e-6 });
    expect(bn.mean).toBe(mean);
    const batchMean = await ts.tidy(() => x.mean([0, 2, 3])).data();
    expectClose(
      await bn.mean.data(),
      Array.from(batchMean, (m) => 0.5 * m),
      { rtol: 1e-6, atol: 1e-7, what: 'running mean' },
    );
    const unbiased = await ts
      .tidy(() =>
        x
          .sub(x.mean([0, 2, 3], true))
          .square()
          .sum([0, 2, 3])
          .div(35),
      )
      .data();
    expectClose(
      await bn.var.data(),
      Array.from(unbiased, (v) => 0.5 + 0.5 * v),
      { rtol: 1e-5, what: 'running var' },
    );
    ts.dispose([x, y, expected]);
    bn.dispose();
  });

  it('deterministic mode uses the running statistics and leaves them alone', async () => {
    const data = new nn.InputLayer([null, 3]);
    const bn = new nn.BatchNormLayer(data, { mean: [1, 2, 3], var: [4, 1, 0.25], gamma: [1, 2, 3], beta: [0, 0, 1] });
    const x = ts.tensor([1, 2, 3, 3, 4, 5], { shape: [2, 3] });
    const y = nn.getOutput(bn, x, { deterministic: true });
    const s = (v: number) => Math.sqrt(v + 1e-5);
    await expectTensor(y, [0, 0, 1, 2 / s(4), (2 * 2) / s(1), (3 * 2) / s(0.25) + 1], { shape: [2, 3], rtol: 1e-6 });
    expect(Array.from(await bn.mean.data())).toEqual([1, 2, 3]);
    expect(Array.from(await bn.var.data())).toEqual([4, 1, 0.25]);
    ts.dispose([x, y]);
    bn.dispose();
  });

  it('trains gamma and beta only; a batch of one in training names the layer', async () => {
    const data = new nn.InputLayer([null, 3]);
    const bn = new nn.BatchNormLayer(data, { name: 'bn' });
    const x = ts.tensor(seq(12, 0.5), { shape: [4, 3] });
    const loss = ts.tidy(() =>
      nn
        .getOutput(bn, x)
        .square()
        .mul(ts.tensor([1, 2, 3]))
        .sum(),
    );
    loss.backward();
    expect(bn.gamma!.grad).toBeTruthy();
    expect(bn.beta!.grad).toBeTruthy();
    expect(bn.mean.grad).toBeNull();
    expect(bn.var.grad).toBeNull();
    expect(() => nn.getOutput(bn, ts.zeros([1, 3]))).toThrow(/BatchNormLayer 'bn': batchNorm: expected more than 1 value per channel when training/);
    expect(() => nn.getOutput(bn, ts.zeros([1, 3]), { deterministic: true })).not.toThrow();
    ts.dispose([x, loss]);
    bn.dispose();
  });

  it('leaks nothing in a training step and an evaluation', async () => {
    const data = new nn.InputLayer([null, 2, 4, 4]);
    const conv = nn.batchNorm(new nn.Conv2DLayer(data, 3, 3, { pad: 1 }));
    const out = new nn.DenseLayer(new nn.GlobalPoolLayer(conv), 2, { nonlinearity: null });
    const params = nn.getAllParams(out, { trainable: true });
    const x = ts.randn([3, 2, 4, 4], { seed: 1 });
    await expectNoLeak(async () => {
      const loss = ts.tidy(() => nn.getOutput(out, x).square().mean());
      loss.backward();
      await loss.item();
      loss.dispose();
      const y = nn.getOutput(out, x, { deterministic: true });
      await y.data();
      y.dispose();
      for (const p of params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }, 'batch-norm network');
    x.dispose();
    nn.disposeLayers(out);
  });
});

describe('batchNorm(layer)', () => {
  it('moves the nonlinearity after a new BatchNormLayer and drops the bias, as lasagne.layers.batch_norm', async () => {
    const data = new nn.InputLayer([null, 2, 5, 5]);
    const conv = new nn.Conv2DLayer(data, 3, 3, { pad: 1, name: 'conv1' });
    const bias = conv.b!;
    const top = nn.batchNorm(conv);
    expect(top).toBeInstanceOf(nn.NonlinearityLayer);
    expect(top.name).toBe('conv1_bn_nonlin');
    expect((top as nn.NonlinearityLayer).nonlinearity).toBe(nn.nonlinearities.rectify);
    const bn = top.inputLayer as nn.BatchNormLayer;
    expect(bn).toBeInstanceOf(nn.BatchNormLayer);
    expect(bn.name).toBe('conv1_bn');
    expect(bn.inputLayer).toBe(conv);
    expect(conv.b).toBeNull();
    expect(conv.nonlinearity).toBe(nn.nonlinearities.linear);
    expect(conv.getParams()).toEqual([conv.W]);
    expect(bias.disposed).toBe(true); // the layer made it, so it was freed
    expect(nn.getAllParams(top).length).toBe(5); // W, beta, gamma, mean, var
    // The output is relu(batchNorm(conv(x))) without a bias.
    const x = ts.randn([4, 2, 5, 5], { seed: 2 });
    const y = nn.getOutput(top, x);
    const expected = ts.tidy(() => ts.batchNorm(ts.conv2d(x, conv.W, null, { padding: 1 }), { training: true }).relu());
    expectClose(await y.data(), await expected.data(), { rtol: 1e-5, atol: 1e-5 });
    ts.dispose([x, y, expected]);
    nn.disposeLayers(top);
  });

  it('returns the BatchNormLayer itself after a linear layer, keeps a shared bias alive, and passes options on', () => {
    const data = new nn.InputLayer([null, 8]);
    const shared = ts.zeros([4]);
    const fc = new nn.DenseLayer(data, 4, { nonlinearity: null, b: shared });
    const bn = nn.batchNorm(fc, { name: 'bn', alpha: 0.3 });
    expect(bn).toBeInstanceOf(nn.BatchNormLayer);
    expect([bn.name, (bn as nn.BatchNormLayer).alpha]).toEqual(['bn', 0.3]);
    expect(fc.b).toBeNull();
    expect(shared.disposed).toBe(false);
    const unnamed = nn.batchNorm(new nn.DenseLayer(data, 4));
    expect(unnamed.name).toBeNull();
    expect(unnamed.inputLayer).toBeInstanceOf(nn.BatchNormLayer);
    // Bad options throw before the layer is changed.
    const keep = new nn.DenseLayer(data, 4);
    expect(() => nn.batchNorm(keep, { alpha: 2 })).toThrow(/alpha must be a number in \[0, 1\]/);
    expect(keep.b).not.toBeNull();
    expect(keep.nonlinearity).toBe(nn.nonlinearities.rectify);
    expect(() => nn.batchNorm({} as nn.Layer)).toThrow(/batchNorm: expected a Layer, got object/);
    shared.dispose();
    nn.disposeLayers([bn, unnamed, keep]);
  });
});

describe('GlobalPoolLayer', () => {
  const x = () => ts.tensor(seq(2 * 3 * 2 * 2), { shape: [2, 3, 2, 2] });

  it('averages (the default) or takes the maximum over the spatial axes: [N, C, ...] -> [N, C]', async () => {
    const data = new nn.InputLayer([null, 3, 2, 2]);
    const mean = new nn.GlobalPoolLayer(data);
    const max = new nn.GlobalPoolLayer(data, 'max'); // Lasagne: GlobalPoolLayer(data, T.max)
    const same = new nn.GlobalPoolLayer(data, { poolFunction: 'max' });
    expect([mean.outputShape, max.outputShape, mean.poolFunction, same.poolFunction]).toEqual([[null, 3], [null, 3], 'mean', 'max']);
    const v = seq(24);
    const plane = (n: number, c: number) => v.slice((n * 3 + c) * 4, (n * 3 + c) * 4 + 4);
    const ym = nn.getOutput(mean, x());
    const yx = nn.getOutput(max, x());
    const cells = [0, 1].flatMap((n) => [0, 1, 2].map((c) => plane(n, c)));
    await expectTensor(
      ym,
      cells.map((p) => p.reduce((a, b) => a + b, 0) / 4),
      { shape: [2, 3], rtol: 1e-6, atol: 1e-7 },
    );
    await expectTensor(
      yx,
      cells.map((p) => Math.max(...p)),
      { shape: [2, 3] },
    );
    const seqData = new nn.InputLayer([null, 3, 7]);
    expect(new nn.GlobalPoolLayer(seqData).outputShape).toEqual([null, 3]);
    ts.dispose([ym, yx]);
  });

  it('rejects inputs without spatial axes and unknown pool functions', () => {
    expect(() => new nn.GlobalPoolLayer(new nn.InputLayer([null, 3]))).toThrow(
      /GlobalPoolLayer: input shape \[null,3\] does not fit: expected \[batch, channels, \.\.\.spatial\]/,
    );
    const data = new nn.InputLayer([null, 3, 2, 2]);
    expect(() => new nn.GlobalPoolLayer(data, 'sum' as 'mean')).toThrow(/GlobalPoolLayer: poolFunction must be 'mean' or 'max', got "sum"/);
    expect(() => new nn.GlobalPoolLayer(data, 'max', { poolFunction: 'mean' } as never)).toThrow(/poolFunction is ambiguous/);
  });
});
