// nn.fit / nn.evaluate / nn.predict / nn.trainStep: training to high accuracy on a tiny separable
// problem, the history, the callbacks, late reads, abort, bad data, metrics against hand-computed
// ones, prediction shapes, regression with float targets, and no leaks.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as nn from '@tessera/nn';
import { expectClose, expectNoLeak, ts } from '../helpers/index.js';

beforeAll(async () => {
  await ts.init({ backend: 'webgpu' });
});

/** `n` points of [-1, 1]^2 (a fixed low-discrepancy set), class 0/1/2 by angle sector, margin kept. */
function sectors(n: number): nn.FitData & { labels: Int32Array } {
  const images = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  let i = 0;
  for (let k = 0; i < n; k++) {
    const a = ((k * 0.618034) % 1) * 2 * Math.PI;
    const r = 0.3 + 0.7 * ((k * 0.754878) % 1);
    const sector = Math.floor(a / ((2 * Math.PI) / 3));
    const edge = (a % ((2 * Math.PI) / 3)) / ((2 * Math.PI) / 3);
    if (edge < 0.1 || edge > 0.9) continue; // a margin around the boundaries
    images[2 * i] = r * Math.cos(a);
    images[2 * i + 1] = r * Math.sin(a);
    labels[i++] = sector;
  }
  return { images, labels, shape: [n, 2] };
}

function mlp(seed: number, outputs = 3, hidden = 16): nn.Layer {
  const data = new nn.InputLayer([null, 2]);
  const h = new nn.DenseLayer(data, { numUnits: hidden, W: nn.init.GlorotUniform({ seed }) });
  return new nn.DenseLayer(h, { numUnits: outputs, nonlinearity: null, W: nn.init.GlorotUniform({ seed: seed + 1 }) });
}

describe('nn.fit', () => {
  it('reaches high accuracy on a separable problem; the history has one entry per epoch; callbacks are called', async () => {
    const train = sectors(96);
    const out = mlp(1);
    const steps: nn.StepInfo[] = [];
    const epochs: nn.EpochLog[] = [];
    await expectNoLeak(async () => {
      const opt = nn.updates.adam(out, { learningRate: 0.03 });
      const history = await nn.fit({
        net: out,
        data: train,
        validation: train,
        epochs: 12,
        batchSize: 16,
        seed: 3,
        optimizer: opt,
        onStep: (s) => void steps.push(s),
        onEpoch: (e) => void epochs.push(e),
      });
      expect(history.aborted).toBe(false);
      expect(history.steps).toBe(12 * 6);
      expect(history.epochs).toHaveLength(12);
      for (const col of [history.loss, history.accuracy, history.valLoss, history.valAccuracy]) expect(col).toHaveLength(12);
      history.epochs.forEach((e, i) => {
        expect(e).toMatchObject({ epoch: i, steps: 6, images: 96, complete: true });
        expect(e.seconds).toBeGreaterThan(0);
        expect(e.loss).toBe(history.loss[i]);
        expect(e.valAccuracy).toBe(history.valAccuracy[i]);
      });
      expect(history.loss.at(-1)!).toBeLessThan(history.loss[0]! * 0.5);
      expect(history.valAccuracy.at(-1)!).toBeGreaterThanOrEqual(0.95);
      expect(history.accuracy.at(-1)!).toBeGreaterThanOrEqual(0.9);
      opt.dispose();
    }, 'fit');
    expect(steps).toHaveLength(72);
    expect(steps.map((s) => s.totalSteps)).toEqual(Array.from({ length: 72 }, (_, i) => i + 1));
    expect(steps.slice(0, 6).map((s) => [s.epoch, s.step, s.steps, s.size, s.images])).toEqual([1, 2, 3, 4, 5, 6].map((k) => [0, k, 6, 16, 16 * k]));
    expect(epochs.map((e) => e.epoch)).toEqual([...Array(12).keys()]);
    expect(steps.at(-1)!.loss).toBeGreaterThan(0);
    nn.disposeLayers(out);
  });

  it('reads the loss a few steps late, never once per step', async () => {
    const train = sectors(256);
    const out = mlp(2);
    const opt = nn.updates.adam(out, { learningRate: 0.01 });
    const seen: nn.StepInfo[] = [];
    const reads = vi.spyOn(ts.Tensor.prototype, 'data');
    let history: nn.FitHistory;
    let count: number;
    try {
      history = await nn.fit({ net: out, data: train, epochs: 2, batchSize: 8, optimizer: opt, onStep: (s) => void seen.push(s) });
    } finally {
      count = reads.mock.calls.length;
      reads.mockRestore();
    }
    expect(history.steps).toBe(64);
    // One read every 4 steps (the loss and the correct count together) and one per epoch (its sums).
    expect(count).toBe(64 / 4 + 2);
    for (const s of seen) {
      if (s.lossStep === undefined) continue;
      // The value reported at step s is from a step at least 4 earlier (or an earlier epoch).
      if (s.lossEpoch === s.epoch) expect(s.lossStep).toBeLessThanOrEqual(s.step - 4);
      expect(s.lossStep % 4 === 0 || s.lossStep === s.steps).toBe(true);
    }
    expect(seen.filter((s) => s.loss !== undefined).length).toBeGreaterThan(50);
    opt.dispose();
    nn.disposeLayers(out);
  });

  it('stops cleanly when its signal aborts mid-epoch, leaving nothing behind', async () => {
    const train = sectors(64);
    const out = mlp(3);
    await expectNoLeak(async () => {
      const controller = new AbortController();
      let calls = 0;
      const history = await nn.fit({
        net: out,
        data: train,
        validation: train,
        epochs: 5,
        batchSize: 8,
        signal: controller.signal,
        readEvery: 1,
        onStep: (s) => {
          calls++;
          if (s.epoch === 1 && s.step === 3) controller.abort();
        },
      });
      expect(history.aborted).toBe(true);
      expect(calls).toBe(8 + 3);
      expect(history.steps).toBe(11);
      expect(history.epochs).toHaveLength(2);
      expect(history.epochs[0]).toMatchObject({ complete: true, steps: 8 });
      expect(history.epochs[1]).toMatchObject({ complete: false, steps: 3, images: 24 });
      expect(history.epochs[1]!.valLoss).toBeUndefined();
      expect(history.loss).toHaveLength(2);
      expect(history.valLoss).toHaveLength(1);
      expect(Number.isFinite(history.loss[1])).toBe(true);
    }, 'aborted fit');
    // Aborted before it starts: an empty history.
    const controller = new AbortController();
    controller.abort();
    const none = await nn.fit({ net: out, data: train, signal: controller.signal });
    expect(none).toMatchObject({ aborted: true, steps: 0, epochs: [] });
    nn.disposeLayers(out);
  });

  it('rejects an empty dataset and class ids out of range with clear errors', async () => {
    const out = mlp(4);
    await expectNoLeak(async () => {
      await expect(nn.fit({ net: out, data: { images: new Float32Array(0), labels: new Int32Array(0), shape: [0, 2] } })).rejects.toThrow(
        /fit: data is empty .*nothing to train on/,
      );
      const bad = sectors(32);
      bad.labels[7] = 5;
      await expect(nn.fit({ net: out, data: bad })).rejects.toThrow(/fit: data\.labels\[7\] is 5, outside \[0, 3\)/);
      const valid = sectors(32);
      valid.labels[2] = -1;
      await expect(nn.fit({ net: out, data: sectors(32), validation: valid })).rejects.toThrow(/validation\.labels\[2\] is -1/);
      await expect(nn.fit({ net: out, data: { images: new Float32Array(6), labels: new Int32Array(2), shape: [3, 2] } })).rejects.toThrow(
        /labels has 2 entries for 3 samples/,
      );
      await expect(nn.fit({ net: out, data: sectors(8), epochs: 1.5 })).rejects.toThrow(/epochs must be an integer/);
      await expect(nn.fit({ net: out, data: sectors(8), bogus: 1 } as unknown as nn.FitOptions)).rejects.toThrow(/unknown option 'bogus'/);
    }, 'failed fits');
    nn.disposeLayers(out);
  });

  it('defaultLoss flags class ids out of range at the next read, without a read of its own', async () => {
    const logits = ts.randn([4, 3], { seed: 1 });
    const labels = ts.tensor([0, 2, 3, 1], { dtype: 'int32' });
    const submits0 = ts.stats().submits;
    const loss = nn.defaultLoss(logits, labels);
    expect(ts.stats().submits).toBe(submits0);
    await expect(loss.item()).rejects.toThrow(/defaultLoss: labels hold class ids outside \[0, 3\)/);
    ts.dispose([logits, labels, loss]);
    // In range: the same loss as ts.crossEntropy.
    const x = ts.randn([4, 3], { seed: 2 });
    const y = ts.tensor([0, 2, 1, 1], { dtype: 'int32' });
    const a = nn.defaultLoss(x, y);
    const b = ts.crossEntropy(x, y);
    expect(await a.item()).toBeCloseTo(await b.item(), 6);
    ts.dispose([x, y, a, b]);
  });

  it('trains a regression on float targets with the default loss (mean squared error)', async () => {
    const n = 64;
    const images = new Float32Array(n * 2);
    const labels = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const [a, b] = [((i * 0.618034) % 1) * 2 - 1, ((i * 0.754878) % 1) * 2 - 1];
      images.set([a, b], 2 * i);
      labels.set([2 * a - b + 0.5, a + b], 2 * i); // two targets per sample: [size, 2] batches
    }
    const data = new nn.InputLayer([null, 2]);
    const out = new nn.DenseLayer(data, { numUnits: 2, nonlinearity: null, W: nn.init.GlorotUniform({ seed: 5 }) });
    await expectNoLeak(async () => {
      const opt = nn.updates.adam(out, { learningRate: 0.05 });
      const history = await nn.fit({
        net: out,
        data: { images, labels, shape: [n, 2] },
        validation: { images, labels, shape: [n, 2] },
        epochs: 30,
        batchSize: 16,
        optimizer: opt,
      });
      expect(history.accuracy).toEqual([]);
      expect(history.valAccuracy).toEqual([]);
      expect(history.valLoss.at(-1)!).toBeLessThan(0.01);
      const { loss } = await nn.evaluate(out, { images, labels, shape: [n, 2] }, { metrics: ['loss'] });
      expect(loss).toBeCloseTo(history.valLoss.at(-1)!, 5);
      await expect(nn.evaluate(out, { images, labels, shape: [n, 2] })).rejects.toThrow(/need int32 class ids/);
      opt.dispose();
    }, 'regression');
    nn.disposeLayers(out);
  });
});

describe('nn.evaluate', () => {
  // The network is its input: the scores below are its output, so every metric can be worked out by hand.
  const scores = [
    [0.1, 0.7, 0.2, 0.0], // label 1: right
    [0.5, 0.1, 0.3, 0.1], // label 2: second
    [0.2, 0.3, 0.4, 0.1], // label 0: third
    [0.0, 0.1, 0.2, 0.7], // label 3: right
    [0.6, 0.3, 0.05, 0.05], // label 1: second
    [0.1, 0.2, 0.6, 0.1], // label 2: right
  ];
  const labels = Int32Array.from([1, 2, 0, 3, 1, 2]);
  const data: nn.FitData = { images: Float32Array.from(scores.flat()), labels, shape: [6, 4] };

  it('accuracy, top-k, confusion and loss match hand-computed values, over several batches', async () => {
    const net = new nn.InputLayer([null, 4]);
    await expectNoLeak(async () => {
      const r = await nn.evaluate(net, data, { metrics: ['accuracy', 'topK', 'confusion', 'loss'], k: 2, batchSize: 4 });
      // Hand-computed.
      const argmax = scores.map((row) => row.indexOf(Math.max(...row)));
      const rank = scores.map((row, i) => row.filter((v) => v > row[labels[i]!]!).length);
      expect(r.count).toBe(6);
      expect(r.accuracy).toBeCloseTo(argmax.filter((p, i) => p === labels[i]).length / 6, 6); // 3/6
      expect(r.accuracy).toBeCloseTo(0.5, 6);
      expect(r.topK).toBeCloseTo(rank.filter((k) => k < 2).length / 6, 6); // 5/6
      expect(r.k).toBe(2);
      const confusion = Array.from({ length: 4 }, () => [0, 0, 0, 0]);
      labels.forEach((l, i) => {
        confusion[l]![argmax[i]!]!++;
      });
      expect(r.confusion).toEqual(confusion);
      expect(r.confusion).toEqual([
        [0, 0, 1, 0],
        [1, 1, 0, 0],
        [1, 0, 1, 0],
        [0, 0, 0, 1],
      ]);
      const ce = scores.map((row, i) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[labels[i]!]!);
      expect(r.loss).toBeCloseTo(ce.reduce((a, b) => a + b) / 6, 5);
      expect(await nn.evaluate(net, data)).toEqual({ count: 6, accuracy: r.accuracy });
    }, 'evaluate');
  });

  it('rejects bad metrics and out-of-range labels', async () => {
    const net = new nn.InputLayer([null, 4]);
    await expect(nn.evaluate(net, data, { metrics: ['f1' as nn.Metric] })).rejects.toThrow(/metrics must be a non-empty list/);
    await expect(nn.evaluate(net, { ...data, labels: Int32Array.from([1, 2, 0, 4, 1, 2]) })).rejects.toThrow(/labels\[3\] is 4, outside \[0, 4\)/);
    await expect(nn.evaluate({} as nn.FitNet, data)).rejects.toThrow(/net must be a Layer/);
  });
});

describe('nn.predict', () => {
  it('gives class probabilities: [C] for one image, [N, C] for a batch, rows summing to 1', async () => {
    const data = new nn.InputLayer([null, 1, 4, 4]);
    const out = new nn.DenseLayer(data, { numUnits: 3, nonlinearity: null, W: nn.init.GlorotUniform({ seed: 7 }), b: nn.init.Constant(0.1) });
    await expectNoLeak(async () => {
      const batch = ts.randn([5, 1, 4, 4], { seed: 3 });
      const one = ts.randn([1, 4, 4], { seed: 4 });
      const flat = ts.randn([4, 4], { seed: 4 });
      const p = nn.predict(out, batch);
      expect([...p.shape]).toEqual([5, 3]);
      const probs = await p.data();
      for (let r = 0; r < 5; r++) expect(probs[3 * r]! + probs[3 * r + 1]! + probs[3 * r + 2]!).toBeCloseTo(1, 5);
      const chunked = nn.predict(out, batch, { batchSize: 2 });
      expectClose(await chunked.data(), probs, { rtol: 1e-5, atol: 1e-6, what: 'chunked' });
      const p1 = nn.predict(out, one);
      const p2 = nn.predict(out, flat);
      expect([...p1.shape]).toEqual([3]);
      expect([...p2.shape]).toEqual([3]);
      expectClose(await p2.data(), await p1.data(), { what: '[H, W] = [1, H, W]' });
      const fromArray = nn.predict(out, Float32Array.from(await batch.data()));
      expect([...fromArray.shape]).toEqual([5, 3]);
      const single = nn.predict(out, Float32Array.from(await one.data()));
      expect([...single.shape]).toEqual([3]);
      const logits = nn.predict(out, batch, { softmax: false });
      const direct = ts.noGrad(() => nn.getOutput(out, batch, { deterministic: true }));
      expectClose(await logits.data(), await direct.data(), { what: 'softmax: false' });
      ts.dispose([batch, one, flat, p, chunked, p1, p2, fromArray, single, logits, direct]);
      const wrong = ts.zeros([2, 2, 4, 4]);
      expect(() => nn.predict(out, wrong)).toThrow(/images \[2,2,4,4\] do not fit the input \[N, 1, 4, 4\]/);
      expect(() => nn.predict(out, new Float32Array(15))).toThrow(/whole samples of shape \[1, 4, 4\]/);
      wrong.dispose();
    }, 'predict');
    nn.disposeLayers(out);
  });
});

describe('nn.trainStep', () => {
  it('queues a step and returns the loss and the correct count without reading anything', async () => {
    const out = mlp(9);
    const opt = nn.updates.sgd(out, { learningRate: 0.5 });
    const step = nn.trainStep({ net: out, optimizer: opt });
    const train = sectors(32);
    await expectNoLeak(async () => {
      const x = ts.tensor(train.images, { shape: [32, 2] });
      const y = ts.tensor(train.labels, { dtype: 'int32' });
      const first = await step(x, y);
      for (let i = 0; i < 20; i++) ts.dispose(Object.values(await step(x, y)).filter((t): t is ts.Tensor => t !== undefined));
      const last = await step(x, y);
      expect(await last.loss.item()).toBeLessThan(await first.loss.item());
      const correct = await last.correct!.item();
      expect(correct).toBeGreaterThanOrEqual(0);
      expect(correct).toBeLessThanOrEqual(32);
      ts.dispose([x, y, first.loss, first.correct!, last.loss, last.correct!]);
    }, 'trainStep');
    opt.dispose();
    nn.disposeLayers(out);
  });
});
