/**
 * What a new user trips on, each with the error that shows the fix: data that is not numbers
 * (a forgotten await), float32 class ids, logits fed to a probability loss (flagged on the
 * device and reported at the next read), and one set of parameter names per model.
 */
import * as nn from '@tessera/nn';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeak, ts } from '../helpers/index.js';

beforeAll(async () => {
  await ts.init({ backend: 'webgpu' });
});

describe('ts.tensor with data that is not numbers', () => {
  it('names undefined, null, a Promise (forgotten await), a Tensor and non-numbers', async () => {
    expect(() => ts.tensor(undefined as never)).toThrow('tensor: data is undefined. Expected a number, a nested array of numbers, or a typed array');
    expect(() => ts.tensor(null as never)).toThrow('tensor: data is null');
    const pending = Promise.resolve([1, 2, 3]);
    expect(() => ts.tensor(pending as never)).toThrow('tensor: data is a Promise (did you forget await?)');
    const t = ts.tensor([1, 2]);
    expect(() => ts.tensor(t as never)).toThrow('tensor: data is a Tensor. It is already a tensor');
    expect(() => ts.tensor([1, '2'] as never)).toThrow('tensor: element 1 of the data is a string ("2"), not a number');
    expect(() => ts.tensor('abc' as never)).toThrow('tensor: data is a string ("abc")');
    t.dispose();
  });
});

describe('class ids and probabilities', () => {
  it('float32 class ids get an error that shows { dtype: int32 }', () => {
    const logits = ts.zeros([3, 4]);
    const ids = ts.tensor([3, 1, 2]);
    expect(() => ts.crossEntropy(logits, ids)).toThrow("Class ids must be int32: create them with ts.tensor(ids, { dtype: 'int32' })");
    ts.dispose([logits, ids]);
  });

  it('logits fed to categoricalCrossentropy are flagged at the next read, without a readback per step', async () => {
    const logits = ts.tensor([
      [2, -1, 0.5],
      [0.1, 3, -2],
    ]);
    const y = ts.tensor([0, 1], { dtype: 'int32' });
    const submits = ts.stats().submits;
    const loss = ts.tidy(() => nn.objectives.categoricalCrossentropy(logits, y).mean());
    expect(ts.stats().submits, 'the check queued work and read nothing').toBe(submits);
    await expect(loss.item()).rejects.toThrow(/^categoricalCrossentropy: predictions \[2,3\] hold values outside \[0, 1\].*pass \{ fromLogits: true \}/);
    // Reported once: the next read is clean.
    expect(Number.isFinite(await loss.item())).toBe(true);
    ts.dispose([logits, y, loss]);
  });

  it('probabilities pass, and the check leaks nothing', async () => {
    const p = ts.tensor([
      [0.7, 0.2, 0.1],
      [0.1, 0.8, 0.1],
    ]);
    const t = ts.tensor([
      [1, 0],
      [0, 1],
    ]);
    await expectNoLeak(async () => {
      const loss = ts.tidy(() => nn.objectives.categoricalCrossentropy(p, ts.tensor([0, 1], { dtype: 'int32' })).mean());
      expect(await loss.item()).toBeCloseTo(-(Math.log(0.7) + Math.log(0.8)) / 2, 5);
      loss.dispose();
      const bce = ts.tidy(() => nn.objectives.binaryCrossentropy(p.slice([0, 0], [2, 2]), t).mean());
      expect(Number.isFinite(await bce.item())).toBe(true);
      bce.dispose();
    }, 'probability losses');
    ts.dispose([p, t]);
  });

  it('a pending check dies with shutdown and does not count as a live tensor', async () => {
    const before = ts.memory();
    ts.checkAtNextRead(ts.ones([1]), 'myLoss', 'always fails');
    expect(ts.memory().tensors).toBe(before.tensors);
    expect(ts.memory().bytes).toBe(before.bytes);
    const x = ts.tensor([1]);
    await expect(x.data()).rejects.toThrow('myLoss: always fails');
    expect(() => ts.checkAtNextRead(ts.ones([2]), 'myLoss', 'x')).toThrow('checkAtNextRead: the flag must be a one-element Tensor');
    x.dispose();
  });
});

describe('parameter names', () => {
  it('saveParams(net) and saveParams(net.out) write the same names', async () => {
    const data = new nn.InputLayer([null, 4]);
    const net = { data, hidden: new nn.DenseLayer(data, { numUnits: 3 }), out: new nn.DenseLayer(data, { numUnits: 2 }) };
    net.out = new nn.DenseLayer(net.hidden, { numUnits: 2 });
    const a = nn.decodeSafetensors(await nn.saveParams(net.out));
    const b = nn.decodeSafetensors(await nn.saveParams(net));
    expect([...b.tensors.keys()]).toEqual([...a.tensors.keys()]);
    nn.disposeLayers(net.out);
  });
});
