// The seed examples end to end: logistic regression, XOR with an MLP (and not without one),
// a tiny CNN, and a leak check over a training loop.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { ts } from '../helpers/index.js';

beforeAll(async () => {
  await ts.init();
});

const { objectives, updates, nonlinearities, init } = nn;

/** Full-batch training: `steps` optimizer steps on one (x, y), no readback inside the loop. */
async function train(out: nn.Layer, x: ts.Tensor, y: ts.Tensor, opt: nn.Optimizer, steps: number, loss: (p: ts.Tensor, y: ts.Tensor) => ts.Tensor) {
  for (let i = 0; i < steps; i++) {
    const l = ts.tidy(() => loss(nn.getOutput(out, x), y).mean());
    await opt.step(l);
    l.dispose();
  }
}

/** Reads a scalar computed by `fn` and frees it. */
async function scalar(fn: () => ts.Tensor): Promise<number> {
  const t = ts.tidy(fn);
  const v = await t.item();
  t.dispose();
  return v;
}

const binaryAccuracy = (out: nn.Layer, x: ts.Tensor, y: ts.Tensor): Promise<number> =>
  scalar(() => objectives.binaryAccuracy(nn.getOutput(out, x, { deterministic: true }), y).mean());

describe('seed examples', () => {
  it('logistic regression (one sigmoid neuron) separates a linearly separable set', async () => {
    // 64 points on a grid, labelled by the side of the line x0 + 2 x1 = 0.3 (none on it).
    const pts: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 8; i++)
      for (let j = 0; j < 8; j++) {
        const [a, b] = [i / 3.5 - 1, j / 3.5 - 1.05];
        pts.push(a, b);
        labels.push(a + 2 * b > 0.3 ? 1 : 0);
      }
    expect(new Set(labels).size).toBe(2);
    const x = ts.tensor(pts, { shape: [64, 2] });
    const y = ts.tensor(labels, { shape: [64, 1] });
    const data = new nn.InputLayer([null, 2]);
    const neuron = new nn.DenseLayer(data, { numUnits: 1, nonlinearity: nonlinearities.sigmoid, W: init.Normal(0.01, 0, { seed: 1 }) });
    const opt = updates.adam(neuron, { learningRate: 0.1 });
    await train(neuron, x, y, opt, 150, (p, t) => objectives.binaryCrossentropy(p, t));
    expect(await binaryAccuracy(neuron, x, y)).toBe(1);
    opt.dispose();
    nn.disposeLayers(neuron);
  });

  describe('XOR', () => {
    const x = () =>
      ts.tensor([
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ]);
    const y = () => ts.tensor([[0], [1], [1], [0]]);

    it('a 2-layer MLP solves it full-batch', async () => {
      const data = new nn.InputLayer([null, 2]);
      const hidden = new nn.DenseLayer(data, { numUnits: 8, nonlinearity: nonlinearities.tanh, W: init.GlorotUniform({ seed: 3 }) });
      const out = new nn.DenseLayer(hidden, { numUnits: 1, nonlinearity: null, W: init.GlorotUniform({ seed: 4 }) });
      const opt = updates.adam(out, { learningRate: 0.05 });
      const [xs, ys] = [x(), y()];
      await train(out, xs, ys, opt, 300, (logits, t) => objectives.binaryCrossentropy(logits, t, { fromLogits: true }));
      const probs = new nn.NonlinearityLayer(out, { nonlinearity: nonlinearities.sigmoid });
      expect(await binaryAccuracy(probs, xs, ys)).toBe(1);
      opt.dispose();
      nn.disposeLayers(out);
    });

    it('a linear model cannot (at most 3 of 4)', async () => {
      const data = new nn.InputLayer([null, 2]);
      const linear = new nn.DenseLayer(data, { numUnits: 1, nonlinearity: nonlinearities.sigmoid, W: init.GlorotUniform({ seed: 3 }) });
      const opt = updates.adam(linear, { learningRate: 0.05 });
      const [xs, ys] = [x(), y()];
      await train(linear, xs, ys, opt, 300, (p, t) => objectives.binaryCrossentropy(p, t));
      expect(await binaryAccuracy(linear, xs, ys)).toBeLessThanOrEqual(0.75);
      opt.dispose();
      nn.disposeLayers(linear);
    });
  });

  it('a tiny CNN tells horizontal from vertical bars', async () => {
    // 8 images of 6x6: a horizontal bar (class 0) or a vertical bar (class 1) at rows/cols 1..4.
    const imgs = new Float32Array(8 * 36);
    const labels: number[] = [];
    for (let k = 0; k < 8; k++) {
      const vertical = k % 2;
      const at = 1 + (k >> 1);
      for (let i = 0; i < 6; i++) imgs[k * 36 + (vertical ? i * 6 + at : at * 6 + i)] = 1;
      labels.push(vertical);
    }
    const x = ts.tensor(imgs, { shape: [8, 1, 6, 6] });
    const y = ts.tensor(labels, { dtype: 'int32' });
    const net: Record<string, nn.Layer> = {};
    net.data = new nn.InputLayer([null, 1, 6, 6]);
    net.conv = new nn.Conv2DLayer(net.data, { numFilters: 4, filterSize: 3, pad: 'same', W: init.GlorotUniform({ seed: 5 }) });
    net.pool = new nn.MaxPool2DLayer(net.conv, { poolSize: 2 });
    net.drop = new nn.DropoutLayer(net.pool, { p: 0.1, seed: 2 });
    net.out = new nn.DenseLayer(net.drop, { numUnits: 2, nonlinearity: null, W: init.GlorotUniform({ seed: 6 }) });
    const opt = updates.adam(net, { learningRate: 0.05 });
    await train(net.out!, x, y, opt, 40, (logits, t) => objectives.categoricalCrossentropy(logits, t, { fromLogits: true }));
    const acc = await scalar(() => objectives.categoricalAccuracy(nn.getOutput(net.out!, x, { deterministic: true }), y).mean());
    expect(acc).toBe(1);
    opt.dispose();
    nn.disposeLayers(net);
  });
});

describe('memory', () => {
  it('20 adam steps of a small MLP leave tensors and bytes unchanged after the first', async () => {
    const data = new nn.InputLayer([null, 6]);
    const h = new nn.DenseLayer(data, { numUnits: 16, W: init.HeNormal({ gain: 'relu', seed: 1 }) });
    const d = new nn.DropoutLayer(h, { p: 0.2, seed: 1 });
    const out = new nn.DenseLayer(d, { numUnits: 3, nonlinearity: null, W: init.GlorotUniform({ seed: 2 }) });
    const x = ts.randn([10, 6], { seed: 3 });
    const y = ts.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0], { dtype: 'int32' });
    const opt = updates.adam(out, { learningRate: 1e-2, totalNormConstraint: 5 });
    const step = async () => {
      const loss = ts.tidy(() => {
        const ce = objectives.categoricalCrossentropy(nn.getOutput(out, x), y, { fromLogits: true }).mean();
        return ce.add(nn.regularization.regularizeNetworkParams(out, nn.regularization.l2).mul(1e-4));
      });
      await opt.step(loss);
      loss.dispose();
    };
    await step();
    const first = ts.memory();
    const losses: number[] = [];
    for (let i = 0; i < 19; i++) {
      await step();
      if (i % 6 === 0)
        losses.push(await scalar(() => objectives.categoricalCrossentropy(nn.getOutput(out, x, { deterministic: true }), y, { fromLogits: true }).mean()));
    }
    const after = ts.memory();
    expect(after.tensors, 'live tensors').toBe(first.tensors);
    expect(after.bytes, 'live bytes').toBe(first.bytes);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]!);
    opt.dispose();
    nn.disposeLayers(out);
  });
});
