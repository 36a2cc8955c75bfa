// ts.compile: a recorded call replays to the same numbers as eager calls, outputs are the
// caller's, values that change between calls stay live, memory stays flat, and misuse fails
// with errors that name compile. Runs on both backends (replay is backend-generic).
import { afterEach, expect, it } from 'vitest';
import { engine } from '../../packages/core/src/engine.js';
import { describeEachBackend, expectClose, ts } from '../helpers/index.js';

const vals = async (t: ts.Tensor) => Array.from(await t.data());
/** Waits for the queued work (a readback), leaving no tensor behind. */
const sync = async () => {
  const t = ts.tensor([0]);
  await t.data();
  t.dispose();
};

describeEachBackend('compile', () => {
  const kept: ts.Tensor[] = [];
  const keep = <T extends ts.Tensor>(t: T): T => (kept.push(t), ts.keep(t));
  afterEach(() => {
    for (const t of kept.splice(0)) t.dispose();
  });

  it('replays to the eager result, with new output tensors at every call', async () => {
    const w = keep(ts.randn([3, 2], { seed: 1 }));
    const f = (x: ts.Tensor) => x.matmul(w).relu().add(1).mul(0.5);
    const cf = ts.compile(f);
    const outs: ts.Tensor[] = [];
    for (let i = 0; i < 4; i++) outs.push(cf(ts.tidy(() => ts.full([4, 3], i - 1.5))));
    // The first call makes the cached scalars 1 and 0.5, which outlive it: it is not kept.
    expect(cf.info).toMatchObject({ captures: 2, replays: 2, recordings: 1 });
    for (let i = 0; i < 4; i++) {
      const eager = ts.tidy(() => f(ts.full([4, 3], i - 1.5)));
      expectClose(await outs[i]!.data(), await eager.data(), { what: `call ${i}` });
      eager.dispose();
    }
    expect(new Set(outs).size).toBe(4);
    ts.dispose(outs);
    cf.dispose();
    expect(() => cf(w)).toThrow(/compile: this compiled function was disposed/);
  });

  it('returns arrays, records and nothing, and copies an input returned as it is', async () => {
    const x = keep(ts.tensor([1, 2, 3]));
    const cf = ts.compile((a: ts.Tensor) => [a, a.mul(2), a.reshape([3, 1])]);
    for (let i = 0; i < 3; i++) {
      const [a, b, c] = cf(x);
      expect(a).not.toBe(x);
      expect(await vals(a!)).toEqual([1, 2, 3]);
      expect(await vals(b!)).toEqual([2, 4, 6]);
      expect(c!.shape).toEqual([3, 1]);
      ts.dispose([a, b, c]);
    }
    const rec = ts.compile((a: ts.Tensor) => ({ s: a.sum(), m: a.max() }));
    for (let i = 0; i < 2; i++) {
      const r = rec(x);
      expect([await r.s.item(), await r.m.item()]).toEqual([6, 3]);
      ts.dispose(r);
    }
    const acc = keep(ts.zeros([3]));
    const none = ts.compile((a: ts.Tensor) => {
      ts.assign(acc, acc.add(a));
    });
    for (let i = 0; i < 3; i++) expect(none(x)).toBeUndefined();
    expect(await vals(acc)).toEqual([3, 6, 9]);
    expect(none.info.replays).toBe(2);
    for (const c of [cf, rec, none]) c.dispose();
  });

  it('rewrites constants made inside, also into a buffer the recording reuses', async () => {
    const f = (a: ts.Tensor) => {
      const e = ts.tidy(() => a.exp().mul(a).sum()); // frees a [3] buffer the constant below reuses
      const c = ts.tensor([1, 2, 3]);
      return e.add(c.mul(a).sum());
    };
    const cf = ts.compile(f);
    for (let i = 0; i < 5; i++) {
      const x = ts.full([3], i / 4);
      const [got, want] = [cf(x), ts.tidy(() => f(x))];
      expectClose(await got.data(), await want.data(), { what: `call ${i}` });
      ts.dispose([x, got, want]);
    }
    expect(cf.info.replays).toBeGreaterThanOrEqual(3);
    cf.dispose();
  });

  it("folds work on constants once (a mean's gradient seed) and never work on tensors that change", async () => {
    const w = keep(ts.tensor([1, 2, 3, 4]));
    // d mean(a) / da is 1/4 everywhere: made from a cached scalar only, so computed once. (No
    // fusion, so that only folding can make a replay dispatch less than the capture.)
    const f = ts.compile(
      (x: ts.Tensor) => {
        const [g] = ts.grad((a: ts.Tensor) => a.mean())(x);
        return g!.reshape([1, 4]).matmul(x.mul(w).reshape([4, 1]));
      },
      { fuse: false },
    );
    const counts: number[] = [];
    for (const [i, values] of [
      [1, 2, 3, 4],
      [0, -1, 5, 2],
      [3, 3, 3, 3],
      [-2, 1, 0, 7],
    ].entries()) {
      if (i === 3) ts.assign(w, ts.tensor([2, 0, 1, -1])); // an external the step reads changes
      const x = ts.tensor(values);
      const d0 = ts.stats().dispatches;
      const y = f(x);
      counts.push(ts.stats().dispatches - d0);
      const wv = await w.data();
      expectClose(await y.data(), [values.reduce((s, v, j) => s + (v * wv[j]!) / 4, 0)], { what: `call ${i}` });
      x.dispose();
      y.dispose();
    }
    expect(f.info.captures).toBe(2);
    // The captures ran the seed's work; the replays do not.
    expect(counts[2]).toBeLessThan(counts[1]!);
    expect(counts[3]).toBe(counts[2]);
    f.dispose();
  });

  it('records again for a new signature and keeps at most cacheSize recordings', async () => {
    const cf = ts.compile((a: ts.Tensor) => a.mul(a).sum(), { cacheSize: 2 });
    for (const n of [2, 3, 2, 4, 3, 3]) {
      const x = ts.ones([n]);
      const y = cf(x);
      expect(await y.item()).toBe(n);
      ts.dispose([x, y]);
    }
    // 2, 3 recorded; 2 replayed; 4 recorded (evicts 3); 3 recorded again (evicts 2); 3 replayed.
    expect(cf.info).toMatchObject({ captures: 4, replays: 2, recordings: 2 });
    cf.dispose();
    expect(cf.info.recordings).toBe(0);
  });

  it('keeps memory flat over 200 replays and frees everything on dispose', async () => {
    const w = keep(ts.randn([8, 8], { seed: 2 }));
    const x = keep(ts.randn([4, 8], { seed: 3 }));
    const cf = ts.compile((a: ts.Tensor) => a.matmul(w).tanh().matmul(w).sum(1));
    cf(x).dispose();
    cf(x).dispose();
    const mem = ts.memory();
    const stats = ts.stats();
    for (let i = 0; i < 200; i++) cf(x).dispose();
    await sync();
    expect(ts.memory()).toMatchObject({ tensors: mem.tensors, bytes: mem.bytes });
    expect(ts.stats().buffers).toBe(stats.buffers);
    expect(ts.stats().allocatedBytes).toBe(stats.allocatedBytes);
    const before = ts.stats().pooledBytes;
    cf.dispose();
    expect(ts.stats().pooledBytes).toBeGreaterThanOrEqual(before);
  });

  it('advances the unseeded random stream exactly as eager calls do', async () => {
    const f = (a: ts.Tensor) => a.add(ts.rand(a.shape)).mul(ts.randn(a.shape, { seed: 5 }));
    const x = keep(ts.ones([5]));
    const start = engine.randomCounter;
    const eager: number[][] = [];
    for (let i = 0; i < 4; i++) eager.push(await ts.tidy(() => vals(f(x))));
    engine.randomCounter = start;
    const cf = ts.compile(f);
    for (let i = 0; i < 4; i++) {
      const y = cf(x);
      expectClose(await y.data(), eager[i]!, { what: `call ${i}` });
      y.dispose();
    }
    expect(engine.randomCounter).toBe(start + 4);
    cf.dispose();
  });

  it('re-reads live optimizer hyper-parameters and host effects at every replay', async () => {
    const p = keep(ts.tensor([1, 2, 3]));
    const [m, v] = [keep(ts.zeros([3])), keep(ts.zeros([3]))];
    let lr = 0.1;
    let t = 0;
    let calls = 0;
    const step = ts.compile((g: ts.Tensor) => {
      ts.hostEffect(() => calls++);
      ts.applyUpdate('adam', p, g.mul(1), [m, v], () => ({ lr, step: ++t }));
    });
    const g = keep(ts.tensor([0.5, -1, 2]));
    // The same steps by hand, in float64: Adam with bias correction.
    const ref = [1, 2, 3];
    const [rm, rv] = [
      [0, 0, 0],
      [0, 0, 0],
    ];
    for (let i = 1; i <= 6; i++) {
      if (i === 4) lr = 0.01;
      step(g);
      for (let j = 0; j < 3; j++) {
        const gj = [0.5, -1, 2][j]!;
        rm[j] = 0.9 * rm[j]! + 0.1 * gj;
        rv[j] = 0.999 * rv[j]! + 0.001 * gj * gj;
        ref[j] = ref[j]! - (lr * (rm[j]! / (1 - 0.9 ** i))) / (Math.sqrt(rv[j]! / (1 - 0.999 ** i)) + 1e-8);
      }
    }
    expect([t, calls, step.info.replays]).toEqual([6, 6, 5]);
    expectClose(await p.data(), ref, { rtol: 1e-5 });
    step.dispose();
  });

  it('rejects reads, init, non-tensors and bad results with errors naming compile, leaking nothing', async () => {
    const x = keep(ts.ones([2]));
    const mem = ts.memory();
    const buffers = ts.stats().buffers;
    const cases: [string, (a: ts.Tensor) => unknown, RegExp][] = [
      ['data', (a) => void a.mul(2).data(), /compile: data\(\) was called inside a function being compiled.*Return the tensor/],
      ['item', (a) => void a.sum().item(), /compile: item\(\) was called/],
      ['array', (a) => void a.array(), /compile: array\(\) was called/],
      ['init', (a) => (ts.init(), a), /compile: ts\.init\(\) was called inside/],
      ['number', (a) => (a.mul(3), 3), /compile: the function returned a number.*Return a Tensor/],
      ['array of numbers', (a) => [a.mul(2), 1], /compile: the function returned an array whose element 1 is a number/],
      ['promise', async (a) => a, /compile: the function returned a Promise/],
      ['throw', (a) => (a.mul(2), a.matmul(a.reshape([1, 2]))), /matmul/],
    ];
    for (const [what, fn, re] of cases) {
      const cf = ts.compile(fn as (a: ts.Tensor) => ts.Tensor);
      expect(() => cf(x), what).toThrow(re);
      expect(cf.info.recordings, what).toBe(0);
      cf.dispose();
    }
    const cf = ts.compile((a: ts.Tensor) => a.mul(2));
    expect(() => (cf as unknown as (n: number) => ts.Tensor)(3)).toThrow(/compile: argument 0 is a number, not a Tensor. Pass tensors only/);
    expect(() => ts.compile(3 as never)).toThrow(/compile: expected a function/);
    await sync();
    expect(ts.memory()).toMatchObject({ tensors: mem.tensors, bytes: mem.bytes });
    expect(ts.stats().buffers).toBe(buffers);
  });

  it('says so when a tensor the recording captured was disposed', async () => {
    const w = ts.keep(ts.ones([2, 2]));
    const cf = ts.compile((a: ts.Tensor) => a.matmul(w));
    const x = keep(ts.ones([1, 2]));
    cf(x).dispose();
    cf(x).dispose();
    w.dispose();
    expect(() => cf(x)).toThrow(/compile: a tensor of shape \[2,2\] that the function used when it was recorded has been disposed.*Keep parameters/);
    cf.dispose();
  });

  it('gives up with a clear error when the function keeps what it makes', async () => {
    const store: ts.Tensor[] = [];
    const cf = ts.compile((a: ts.Tensor) => {
      store.push(ts.keep(a.mul(2)));
      return a.add(1);
    });
    const x = keep(ts.ones([2]));
    cf(x).dispose();
    cf(x).dispose();
    expect(() => cf(x)).toThrow(/compile: the function cannot be replayed: it left 1 tensor\(s\) it made alive/);
    ts.dispose(store);
    cf.dispose();
  });
});
