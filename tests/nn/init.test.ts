// Initializers: statistics, bounds, seeding and Lasagne's fan-in / fan-out.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { ts } from '../helpers/index.js';

beforeAll(async () => {
  await ts.init();
});

const { init } = nn;

async function stats(t: ts.Tensor) {
  const d = await t.data();
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of d) {
    sum += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = sum / d.length;
  const std = Math.sqrt(Array.from(d).reduce((s, v) => s + (v - mean) ** 2, 0) / d.length);
  return { mean, std, min, max, data: Array.from(d) };
}

describe('fans', () => {
  it('computes fan-in / fan-out like Lasagne for dense [in, out] and conv [F, C, KH, KW]', () => {
    expect(init.computeFans([784, 100])).toEqual({ fanIn: 784, fanOut: 100 });
    expect(init.computeFans([16, 6, 5, 5])).toEqual({ fanIn: 150, fanOut: 400 });
    expect(() => init.computeFans([5])).toThrow('init.computeFans: needs a shape with at least 2 dimensions ([in, out] or [F, C, KH, KW]), got [5]');
  });
});

describe('random initializers', () => {
  // Shapes with enough elements for tight statistics, yet small for SwiftShader.
  const dense = [200, 100];
  const conv = [32, 16, 3, 3];

  it('GlorotUniform: U(-a, a) with a = gain * sqrt(6 / (fanIn + fanOut))', async () => {
    const a = Math.sqrt(6 / 300);
    const s = await stats(init.GlorotUniform({ seed: 1 }).sample(dense));
    expect(s.min).toBeGreaterThanOrEqual(-a);
    expect(s.max).toBeLessThanOrEqual(a);
    expect(s.max).toBeGreaterThan(0.98 * a);
    expect(Math.abs(s.mean)).toBeLessThan(0.01 * a);
    expect(s.std).toBeCloseTo(a / Math.sqrt(3), 2);
    const g = await stats(init.GlorotUniform({ gain: 'relu', seed: 1 }).sample(conv));
    const ac = Math.SQRT2 * Math.sqrt(6 / (16 * 9 + 32 * 9));
    expect(g.max).toBeLessThanOrEqual(ac);
    expect(g.std).toBeCloseTo(ac / Math.sqrt(3), 2);
  });

  it('GlorotNormal, HeNormal, HeUniform have the std Lasagne gives them', async () => {
    const glorot = await stats(init.GlorotNormal({ seed: 2 }).sample(dense));
    expect(glorot.std / Math.sqrt(2 / 300)).toBeCloseTo(1, 1);
    const he = await stats(init.HeNormal({ seed: 3 }).sample(conv));
    expect(he.std / Math.sqrt(1 / 144)).toBeCloseTo(1, 1);
    const heRelu = await stats(init.HeNormal('relu').sample(conv));
    expect(heRelu.std / Math.sqrt(2 / 144)).toBeCloseTo(1, 1);
    const heU = await stats(init.HeUniform({ gain: 2, seed: 4 }).sample(dense));
    const a = 2 * Math.sqrt(3 / 200);
    expect(heU.max).toBeLessThanOrEqual(a);
    expect(heU.min).toBeGreaterThanOrEqual(-a);
    expect(heU.std).toBeCloseTo(a / Math.sqrt(3), 2);
  });

  it('Normal(std, mean) and Uniform(range | [lo, hi] | { std })', async () => {
    const n = await stats(init.Normal(0.5, 2, { seed: 5 }).sample([100, 100]));
    expect(n.mean).toBeCloseTo(2, 1);
    expect(n.std).toBeCloseTo(0.5, 1);
    const u = await stats(init.Uniform(0.2, { seed: 6 }).sample([5000]));
    expect(u.min).toBeGreaterThanOrEqual(-0.2);
    expect(u.max).toBeLessThanOrEqual(0.2);
    const lh = await stats(init.Uniform([1, 3], { seed: 7 }).sample([5000]));
    expect(lh.min).toBeGreaterThanOrEqual(1);
    expect(lh.max).toBeLessThanOrEqual(3);
    expect(lh.mean).toBeCloseTo(2, 1);
    const us = await stats(init.Uniform(0, { std: 0.1, mean: 1, seed: 8 }).sample([5000]));
    expect(us.std).toBeCloseTo(0.1, 2);
    expect(us.mean).toBeCloseTo(1, 2);
  });

  it('Constant fills; factories work with and without new', async () => {
    expect((await stats(init.Constant(0.25).sample([3, 2]))).data).toEqual([0.25, 0.25, 0.25, 0.25, 0.25, 0.25]);
    expect((await stats(new init.Constant(-1).sample([2]))).data).toEqual([-1, -1]);
    expect((await stats(init.Constant().sample([1]))).data).toEqual([0]);
    const a = await new init.GlorotUniform({ seed: 9 }).sample([4, 4]).data();
    const b = await init.GlorotUniform({ seed: 9 }).sample([4, 4]).data();
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

describe('seeding', () => {
  it('a seeded initializer repeats across instances, and differs between its own samples', async () => {
    const i1 = init.HeNormal({ seed: 42 });
    const i2 = init.HeNormal({ seed: 42 });
    const [a1, a2, b1] = [await i1.sample([8, 8]).data(), await i1.sample([8, 8]).data(), await i2.sample([8, 8]).data()];
    expect(Array.from(b1)).toEqual(Array.from(a1));
    expect(Array.from(a2)).not.toEqual(Array.from(a1));
    const other = await init.HeNormal({ seed: 43 }).sample([8, 8]).data();
    expect(Array.from(other)).not.toEqual(Array.from(a1));
  });

  it('unseeded initializers draw from a module counter that setSeed restarts', async () => {
    nn.init.setSeed(7);
    const first = [await init.GlorotUniform().sample([5, 5]).data(), await init.Normal(1).sample([10]).data()];
    const differ = await init.GlorotUniform().sample([5, 5]).data();
    expect(Array.from(differ)).not.toEqual(Array.from(first[0]!));
    nn.init.setSeed(7);
    expect(Array.from(await init.GlorotUniform().sample([5, 5]).data())).toEqual(Array.from(first[0]!));
    expect(Array.from(await init.Normal(1).sample([10]).data())).toEqual(Array.from(first[1]!));
  });

  it('two layers built the same way from seeds get the same weights', async () => {
    const build = () => new nn.DenseLayer(new nn.InputLayer([null, 6]), { numUnits: 4, W: init.GlorotUniform({ seed: 11 }) });
    const [a, b] = [build(), build()];
    expect(Array.from(await a.W.data())).toEqual(Array.from(await b.W.data()));
    a.dispose();
    b.dispose();
  });
});

describe('initializer errors', () => {
  it('names the initializer and the problem', () => {
    expect(() => init.GlorotUniform().sample([10])).toThrow(/init\.GlorotUniform: needs a shape with at least 2 dimensions/);
    expect(() => init.HeNormal({ gain: -1 })).toThrow("init.HeNormal: gain must be a positive number or 'relu', got -1");
    expect(() => init.Normal(-1)).toThrow(/init\.Normal: std must be >= 0/);
    expect(() => init.Uniform([2, 1])).toThrow('init.Uniform: invalid interval [2, 1]');
    expect(() => init.Uniform(0.1, { seed: 1.5 })).toThrow('init.Uniform: seed must be an integer, got 1.5');
    expect(() => init.Constant(NaN)).toThrow(/init\.Constant: val must be a finite number/);
    expect(() => init.setSeed(0.5)).toThrow(/init\.setSeed: seed must be an integer/);
  });
});
