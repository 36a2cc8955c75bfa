// Every layer: output shapes, forward values against hand computations, and shape errors.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { ts, expectClose, expectTensor } from '../helpers/index.js';

beforeAll(async () => {
  await ts.init();
});

const seq = (n: number, scale = 0.1, offset = 0): Float32Array => Float32Array.from({ length: n }, (_, i) => (((i * 7) % 11) - 5) * scale + offset);

/** Direct NCHW cross-correlation in JS with per-side padding, the reference for Conv2DLayer. */
function naiveConv(
  x: Float32Array,
  xs: number[],
  w: Float32Array,
  ws: number[],
  b: Float32Array | null,
  stride: number,
  pad: [number, number, number, number],
) {
  const [N, C, H, W] = xs as [number, number, number, number];
  const [F, , KH, KW] = ws as [number, number, number, number];
  const [pt, pb, pl, pr] = pad;
  const OH = Math.floor((H + pt + pb - KH) / stride) + 1;
  const OW = Math.floor((W + pl + pr - KW) / stride) + 1;
  const out = new Float32Array(N * F * OH * OW);
  for (let n = 0; n < N; n++)
    for (let f = 0; f < F; f++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let acc = b ? b[f]! : 0;
          for (let c = 0; c < C; c++)
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++) {
                const ih = oh * stride + kh - pt;
                const iw = ow * stride + kw - pl;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc += x[((n * C + c) * H + ih) * W + iw]! * w[((f * C + c) * KH + kh) * KW + kw]!;
              }
          out[((n * F + f) * OH + oh) * OW + ow] = acc;
        }
  return { out, shape: [N, F, OH, OW] };
}

describe('InputLayer', () => {
  it('passes data through and checks its shape', async () => {
    const data = new nn.InputLayer([null, 3], { name: 'data' });
    expect(data.outputShape).toEqual([null, 3]);
    const x = ts.tensor([[1, 2, 3]]);
    expect(nn.getOutput(data, x)).toBe(x);
    expect(() => nn.getOutput(data, ts.zeros([2, 4]))).toThrow("InputLayer 'data': got data of shape [2,4], expected [null,3] (null matches any size)");
    expect(() => new nn.InputLayer([null, -1])).toThrow(/InputLayer: shape must be an array of non-negative integers or null/);
    const dense = new nn.DenseLayer(data, { numUnits: 2 });
    expect(() => nn.getOutput(dense)).toThrow(/InputLayer 'data': no input tensor was given for it/);
    dense.dispose();
  });
});

describe('DenseLayer', () => {
  it('computes nonlinearity(x @ W + b) with W [in, out] and flattens its input like Lasagne', async () => {
    const data = new nn.InputLayer([null, 2, 3]);
    const W = seq(12);
    const b = Float32Array.from([0.5, -0.25]);
    const dense = new nn.DenseLayer(data, { numUnits: 2, W: Array.from(W).slice(0, 12), b, nonlinearity: nn.nonlinearities.tanh });
    expect(dense.outputShape).toEqual([null, 2]);
    expect(dense.W.shape).toEqual([6, 2]);
    expect(dense.numInputs).toBe(6);
    const x = seq(12, 0.3, 0.1);
    const y = nn.getOutput(dense, ts.tensor(x, { shape: [2, 2, 3] }));
    const expected = [0, 1].flatMap((n) =>
      [0, 1].map((u) => {
        let acc = b[u]!;
        for (let i = 0; i < 6; i++) acc += x[n * 6 + i]! * W[i * 2 + u]!;
        return Math.tanh(acc);
      }),
    );
    await expectTensor(y, expected, { shape: [2, 2], rtol: 1e-5, atol: 1e-6 });
    dense.dispose();
  });

  it('fuses rectify into the matmul and matches a separate ReLU; null means linear and no bias', async () => {
    const data = new nn.InputLayer([null, 4]);
    const fused = new nn.DenseLayer(data, { numUnits: 3, W: nn.init.Normal(1, 0, { seed: 5 }), b: nn.init.Normal(1, 0, { seed: 6 }) });
    const plain = new nn.DenseLayer(data, { numUnits: 3, W: fused.W, b: fused.b, nonlinearity: null });
    const relu = new nn.NonlinearityLayer(plain);
    const x = ts.randn([5, 4], { seed: 7 });
    const [a, r, lin] = nn.getOutput([fused, relu, plain], x);
    expectClose(await a!.data(), await r!.data(), { what: 'fused vs separate relu' });
    expect((await lin!.data()).some((v) => v < 0)).toBe(true);
    const noBias = new nn.DenseLayer(data, { numUnits: 3, b: null });
    expect(noBias.b).toBeNull();
    expect(noBias.params.size).toBe(1);
    expect(fused.params.get(fused.b!)).toEqual({ trainable: true, regularizable: false });
    expect(fused.params.get(fused.W)).toEqual({ trainable: true, regularizable: true });
    fused.dispose();
    noBias.dispose();
  });

  it('names the layer and the shapes when its input does not fit', () => {
    const data = new nn.InputLayer([null, 4]);
    const dense = new nn.DenseLayer(data, { numUnits: 3, name: 'fc1' });
    expect(() =>
      nn.getOutput(
        dense,
        new Map<nn.Layer, ts.Tensor>([
          [data, ts.zeros([2, 4])],
          [dense, ts.zeros([2, 5])],
        ]),
      ),
    ).toThrow("DenseLayer 'fc1': got data of shape [2,5], expected [null,3]");
    const wide = new nn.InputLayer([null, null]);
    expect(() => new nn.DenseLayer(wide, { numUnits: 2, name: 'fc2' })).toThrow(
      "DenseLayer 'fc2': input shape [null,null] does not fit: expected fixed sizes after the batch dimension",
    );
    const flat = new nn.InputLayer([null]);
    expect(() => new nn.DenseLayer(flat, { numUnits: 2 })).toThrow(
      /DenseLayer: input shape \[null\] does not fit: expected \[batch, features, \.\.\.\] \(rank >= 2\)/,
    );
    expect(() => new nn.DenseLayer(data, { numUnits: 0 })).toThrow(/numUnits must be a positive integer, got 0/);
    expect(() => new nn.DenseLayer(data, { numUnits: 2, W: ts.zeros([3, 2]) })).toThrow(
      "DenseLayer: parameter 'W': the given tensor has shape [3,2], expected [4,2]",
    );
    const intermediate = new nn.InputLayer([null, 2, 2]);
    const d2 = new nn.DenseLayer(intermediate, { numUnits: 1, name: 'd2' });
    expect(() => nn.getOutput(d2, ts.zeros([1, 2, 3]))).toThrow(/got data of shape \[1,2,3\], expected \[null,2,2\]/);
    dense.dispose();
    d2.dispose();
  });
});

describe('Conv2DLayer', () => {
  const x = seq(2 * 2 * 5 * 6, 0.2, 0.05);
  const xShape = [2, 2, 5, 6];
  const cases: { pad: nn.ConvPad; stride?: number; filter: number; padding: [number, number, number, number]; out: [number, number] }[] = [
    { pad: 'same', filter: 3, padding: [1, 1, 1, 1], out: [5, 6] },
    { pad: 'same', filter: 2, padding: [0, 1, 0, 1], out: [5, 6] },
    { pad: 'valid', filter: 3, padding: [0, 0, 0, 0], out: [3, 4] },
    { pad: 'full', filter: 3, padding: [2, 2, 2, 2], out: [7, 8] },
    { pad: 1, stride: 2, filter: 3, padding: [1, 1, 1, 1], out: [3, 3] },
    { pad: 'same', stride: 2, filter: 3, padding: [1, 1, 1, 1], out: [3, 3] },
  ];
  for (const c of cases) {
    it(`pad ${JSON.stringify(c.pad)}, stride ${c.stride ?? 1}, filter ${c.filter}: shape and values`, async () => {
      const data = new nn.InputLayer([null, 2, 5, 6]);
      const w = seq(3 * 2 * c.filter * c.filter, 0.15);
      const b = Float32Array.from([0.1, -0.2, 0.3]);
      const conv = new nn.Conv2DLayer(data, { numFilters: 3, filterSize: c.filter, stride: c.stride, pad: c.pad, W: w, b, nonlinearity: null });
      expect(conv.outputShape).toEqual([null, 3, ...c.out]);
      const y = nn.getOutput(conv, ts.tensor(x, { shape: xShape }));
      const ref = naiveConv(x, xShape, w, [3, 2, c.filter, c.filter], b, c.stride ?? 1, c.padding);
      await expectTensor(y, ref.out, { shape: ref.shape, rtol: 1e-4, atol: 1e-5 });
      conv.dispose();
    });
  }

  it('fuses rectify (the default) and uses GlorotUniform weights of shape [F, C, KH, KW]', async () => {
    const data = new nn.InputLayer([null, 2, 5, 6]);
    const conv = new nn.Conv2DLayer(data, { numFilters: 4, filterSize: [3, 2], pad: 'same', b: nn.init.Normal(0.5, 0, { seed: 2 }) });
    expect(conv.W.shape).toEqual([4, 2, 3, 2]);
    const linear = new nn.Conv2DLayer(data, { numFilters: 4, filterSize: [3, 2], pad: 'same', W: conv.W, b: conv.b, nonlinearity: nn.nonlinearities.linear });
    const [a, l] = nn.getOutput([conv, linear], ts.tensor(x, { shape: xShape }));
    const lin = await l!.data();
    expectClose(
      await a!.data(),
      lin.map((v) => Math.max(v, 0)),
      { what: 'fused relu' },
    );
    conv.dispose();
  });

  it('supports dilation and groups', async () => {
    const data = new nn.InputLayer([null, 2, 5, 6]);
    const conv = new nn.Conv2DLayer(data, { numFilters: 4, filterSize: 2, dilation: 2, numGroups: 2, nonlinearity: null, b: null });
    expect(conv.W.shape).toEqual([4, 1, 2, 2]);
    expect(conv.outputShape).toEqual([null, 4, 3, 4]);
    expect(nn.getOutput(conv, ts.tensor(x, { shape: xShape })).shape).toEqual([2, 4, 3, 4]);
    conv.dispose();
  });

  it('throws errors naming the layer and the shapes', () => {
    const flat = new nn.InputLayer([null, 10]);
    expect(() => new nn.Conv2DLayer(flat, { numFilters: 2, filterSize: 3, name: 'conv1' })).toThrow(
      "Conv2DLayer 'conv1': input shape [null,10] does not fit: expected [batch, channels, height, width] (rank 4, NCHW)",
    );
    const small = new nn.InputLayer([null, 1, 4, 4]);
    expect(() => new nn.Conv2DLayer(small, { numFilters: 2, filterSize: 5 })).toThrow(
      /Conv2DLayer: input shape \[null,1,4,4\] does not fit: expected a spatial size of at least the 5x5/,
    );
    expect(() => new nn.Conv2DLayer(small, { numFilters: 2, filterSize: 2, stride: 2, pad: 'same' })).toThrow(/pad 'same' with stride \[2,2\] needs an odd/);
    expect(() => new nn.Conv2DLayer(small, { numFilters: 2, filterSize: 0 })).toThrow(/filterSize must be an integer >= 1/);
    const noChannels = new nn.InputLayer([null, null, 4, 4]);
    expect(() => new nn.Conv2DLayer(noChannels, { numFilters: 2, filterSize: 3 })).toThrow(/expected a known number of channels/);
    const conv = new nn.Conv2DLayer(small, { numFilters: 2, filterSize: 3, name: 'c' });
    expect(() => nn.getOutput(conv, ts.zeros([1, 2, 4, 4]))).toThrow(/got data of shape \[1,2,4,4\], expected \[null,1,4,4\]/);
    conv.dispose();
  });
});

describe('pooling layers', () => {
  const x = Float32Array.from({ length: 2 * 16 }, (_, i) => Math.sin(i * 1.7) * 3);

  function naivePool(mode: 'max' | 'avg', k: number, s: number, p: number) {
    const H = 4;
    const O = Math.floor((H + 2 * p - k) / s) + 1;
    const out: number[] = [];
    for (let c = 0; c < 2; c++)
      for (let oh = 0; oh < O; oh++)
        for (let ow = 0; ow < O; ow++) {
          let best = -Infinity;
          let sum = 0;
          for (let i = 0; i < k; i++)
            for (let j = 0; j < k; j++) {
              const h = oh * s + i - p;
              const w = ow * s + j - p;
              const v = h < 0 || h >= H || w < 0 || w >= H ? (mode === 'max' ? -Infinity : 0) : x[c * 16 + h * H + w]!;
              best = Math.max(best, v);
              sum += v;
            }
          out.push(mode === 'max' ? best : sum / (k * k));
        }
    return { out, O };
  }

  it('MaxPool2DLayer: stride defaults to the pool size; padding and overlap work', async () => {
    const data = new nn.InputLayer([null, 2, 4, 4]);
    const xt = ts.tensor(x, { shape: [1, 2, 4, 4] });
    for (const [k, s, p] of [
      [2, undefined, 0],
      [3, 1, 1],
      [3, 2, 1],
    ] as const) {
      const pool = new nn.MaxPool2DLayer(data, { poolSize: k, stride: s, pad: p });
      const ref = naivePool('max', k, s ?? k, p);
      expect(pool.outputShape).toEqual([null, 2, ref.O, ref.O]);
      await expectTensor(nn.getOutput(pool, xt), ref.out, { shape: [1, 2, ref.O, ref.O], what: `max pool ${k}/${s}/${p}` });
    }
  });

  it('Pool2DLayer average_inc_pad counts padding in the divisor, as Lasagne', async () => {
    const data = new nn.InputLayer([null, 2, 4, 4]);
    const pool = new nn.Pool2DLayer(data, { poolSize: 3, stride: 2, pad: 1, mode: 'average_inc_pad' });
    const ref = naivePool('avg', 3, 2, 1);
    await expectTensor(nn.getOutput(pool, ts.tensor(x, { shape: [1, 2, 4, 4] })), ref.out, { shape: [1, 2, 2, 2], rtol: 1e-5 });
  });

  it('rejects bad geometry', () => {
    const data = new nn.InputLayer([null, 2, 4, 4]);
    expect(() => new nn.MaxPool2DLayer(data, { poolSize: 5, name: 'pool1' })).toThrow(
      /MaxPool2DLayer 'pool1': input shape \[null,2,4,4\] does not fit: expected a spatial size of at least the 5x5 pool window/,
    );
    expect(() => new nn.MaxPool2DLayer(data, { poolSize: 2, pad: 2 })).toThrow(/pad \[2,2\] must be at most half the pool size/);
    expect(() => new nn.MaxPool2DLayer(data, { poolSize: 2, ignoreBorder: false })).toThrow(/ignoreBorder: false is not supported/);
    expect(() => new nn.MaxPool2DLayer(new nn.InputLayer([null, 4]), { poolSize: 2 })).toThrow(/expected \[batch, channels, height, width\]/);
  });
});

describe('DropoutLayer', () => {
  it('is the identity when deterministic, and inverted dropout otherwise', async () => {
    const data = new nn.InputLayer([null, 1000]);
    const drop = new nn.DropoutLayer(data, { p: 0.3, seed: 11 });
    const x = ts.ones([2, 1000]);
    expect(nn.getOutput(drop, x, { deterministic: true })).toBe(x);
    const y = await nn.getOutput(drop, x).data();
    const kept = y.filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 1 / 0.7) < 1e-6)).toBe(true);
    expect(kept.length / y.length).toBeGreaterThan(0.65);
    expect(kept.length / y.length).toBeLessThan(0.75);
  });

  it('draws a new mask each call, reproducibly with a seed', async () => {
    const data = new nn.InputLayer([null, 64]);
    const x = ts.ones([1, 64]);
    const a = new nn.DropoutLayer(data, { seed: 3 });
    const b = new nn.DropoutLayer(data, { seed: 3 });
    const a1 = await nn.getOutput(a, x).data();
    const a2 = await nn.getOutput(a, x).data();
    expect(Array.from(a1)).not.toEqual(Array.from(a2));
    expect(Array.from(await nn.getOutput(b, x).data())).toEqual(Array.from(a1));
    expect(Array.from(await nn.getOutput(b, x).data())).toEqual(Array.from(a2));
    expect(a.calls).toBe(2);
  });

  it('shares masks along sharedAxes, can skip rescaling, and validates p', async () => {
    const data = new nn.InputLayer([null, 4, 8]);
    const drop = new nn.DropoutLayer(data, { p: 0.5, sharedAxes: [2], rescale: false, seed: 1 });
    const y = (await nn.getOutput(drop, ts.ones([3, 4, 8])).array()) as number[][][];
    for (const row of y.flat()) expect(new Set(row).size).toBe(1);
    expect(new Set(y.flat(2))).toEqual(new Set([0, 1]));
    expect(() => new nn.DropoutLayer(data, { p: 1 })).toThrow(/DropoutLayer: p must be in \[0, 1\), got 1/);
    const bad = new nn.DropoutLayer(data, { sharedAxes: [5] });
    expect(() => nn.getOutput(bad, ts.ones([1, 4, 8]))).toThrow(/sharedAxes \[5\] are out of range/);
  });

  it('GaussianNoiseLayer adds noise of the given std only when training', async () => {
    const data = new nn.InputLayer([null, 4000]);
    const noise = new nn.GaussianNoiseLayer(data, { sigma: 0.5, seed: 9 });
    const x = ts.zeros([1, 4000]);
    expect(nn.getOutput(noise, x, { deterministic: true })).toBe(x);
    const y = await nn.getOutput(noise, x).data();
    const std = Math.sqrt(Array.from(y).reduce((s, v) => s + v * v, 0) / y.length);
    expect(std).toBeGreaterThan(0.47);
    expect(std).toBeLessThan(0.53);
  });
});

describe('shape layers', () => {
  it('FlattenLayer keeps outdim - 1 leading dimensions', async () => {
    const data = new nn.InputLayer([null, 2, 3, 4]);
    expect(new nn.FlattenLayer(data).outputShape).toEqual([null, 24]);
    const f3 = new nn.FlattenLayer(data, { outdim: 3 });
    expect(f3.outputShape).toEqual([null, 2, 12]);
    const x = ts.arange(0, 48).reshape([2, 2, 3, 4]);
    await expectTensor(
      nn.getOutput(f3, x),
      Array.from({ length: 48 }, (_, i) => i),
      { shape: [2, 2, 12] },
    );
    expect(() => new nn.FlattenLayer(new nn.InputLayer([null]), { outdim: 2 })).toThrow(/FlattenLayer: input shape \[null\] does not fit: expected rank >= 2/);
  });

  it('ReshapeLayer understands [i] references and -1', async () => {
    const data = new nn.InputLayer([null, 12]);
    const r = new nn.ReshapeLayer(data, { shape: [[0], 3, -1] });
    expect(r.outputShape).toEqual([null, 3, 4]);
    const fixed = new nn.ReshapeLayer(new nn.InputLayer([2, 6]), { shape: [-1, 3] });
    expect(fixed.outputShape).toEqual([4, 3]);
    const x = ts.arange(0, 24).reshape([2, 12]);
    await expectTensor(
      nn.getOutput(r, x),
      Array.from({ length: 24 }, (_, i) => i),
      { shape: [2, 3, 4] },
    );
    expect(() => new nn.ReshapeLayer(new nn.InputLayer([2, 6]), { shape: [5, -1] })).toThrow(
      /ReshapeLayer: input shape \[2,6\] does not fit: expected 12 elements to fit the target \[5,-1\]/,
    );
    expect(() => new nn.ReshapeLayer(data, { shape: [-1, -1] })).toThrow(/at most one -1/);
    expect(() => new nn.ReshapeLayer(data, { shape: [[0], 5, -1] })).toThrow(/ReshapeLayer: input shape \[null,12\] does not fit: expected 12 elements to fit/);
    const bad = new nn.ReshapeLayer(new nn.InputLayer([null, null]), { shape: [[0], 5, -1] });
    expect(bad.outputShape).toEqual([null, 5, null]);
    expect(() => nn.getOutput(bad, x)).toThrow(/ReshapeLayer: cannot reshape \[2,12\] to \[2,5,-1\]/);
  });

  it('NonlinearityLayer applies its function (rectify by default)', async () => {
    const data = new nn.InputLayer([null, 3]);
    const x = ts.tensor([[-1, 0, 2]]);
    await expectTensor(nn.getOutput(new nn.NonlinearityLayer(data), x), [0, 0, 2]);
    await expectTensor(
      nn.getOutput(new nn.NonlinearityLayer(data, { nonlinearity: nn.nonlinearities.sigmoid }), x),
      [-1, 0, 2].map((v) => 1 / (1 + Math.exp(-v))),
      { rtol: 1e-6 },
    );
  });

  it('ConcatLayer and ElemwiseSumLayer merge branches', async () => {
    const a = new nn.InputLayer([null, 2], { name: 'a' });
    const b = new nn.InputLayer([null, 3], { name: 'b' });
    const cat = new nn.ConcatLayer([a, b]);
    expect(cat.outputShape).toEqual([null, 5]);
    const inputs = { a: ts.tensor([[1, 2]]), b: ts.tensor([[3, 4, 5]]) };
    await expectTensor(nn.getOutput(cat, inputs), [1, 2, 3, 4, 5], { shape: [1, 5] });
    const sum = new nn.ElemwiseSumLayer([a, a], { coeffs: [1, -2] });
    await expectTensor(nn.getOutput(sum, inputs), [-1, -2]);
    expect(() => new nn.ElemwiseSumLayer([a, b])).toThrow('ElemwiseSumLayer: input shapes [null,2], [null,3] do not fit: expected equal shapes');
    expect(() => new nn.ConcatLayer([a, new nn.InputLayer([null, 2, 2])])).toThrow(/ConcatLayer: input shapes .* do not fit/);
  });
});
