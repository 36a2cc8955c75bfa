/**
 * The numerical debugging tools: `ts.debug.checkNumerics` names the first op that produced a
 * NaN or an infinity, `ts.debug.shadow` re-runs every op on the reference backend and names
 * the first that differs (here a backend with a deliberate bug), and both stay quiet on a real
 * training step of a small CNN, leaking nothing.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, KernelArgs, OpName, OpParams } from '@tessera/core';
import { createBackend } from '@tessera/webgpu';
import {
  InputLayer,
  Conv2DLayer,
  MaxPool2DLayer,
  DenseLayer,
  getAllParams as getAllParamsOf,
  getOutput,
  objectives,
  nonlinearities,
  updates,
} from '@tessera/nn';
import { ts, expectNoLeak } from '../helpers/index.js';
import { diverge } from '../../scripts/debug-diverge.mjs';

beforeAll(async () => {
  await ts.init({ backend: 'webgpu' });
});

afterEach(() => {
  ts.debug.checkNumerics(false);
  ts.debug.shadow(false);
});

describe('debug.checkNumerics', () => {
  it('names the first op whose output is not finite, at the next read', async () => {
    ts.debug.checkNumerics(true);
    const x = ts.tensor([1, 3e20, 2]);
    const big = ts.tensor([1e20]);
    const y = x.mul(big); // 3e40 overflows float32 to Inf at index 1: the first bad op
    const z = y.sub(y).add(1); // Inf - Inf = NaN, carried on; not named
    const err = await z.data().then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^checkNumerics: 'mul' produced NaN or Inf/);
    expect(err?.message).toContain('[3], [1]');
    expect(err?.message).toContain('debug.test.ts');
    // The flag was cleared: the next read is clean.
    const ok = x.mul(3);
    expect((await ok.data())[2]).toBe(6);
    ts.dispose([x, big, y, z, ok]);
  });

  it('says nothing when every value is finite, and is off by default', async () => {
    const x = ts.tensor([1, 3e38]);
    const inf = x.mul(10); // not checked: the tool is off
    expect((await inf.data())[1]).toBe(Infinity);
    ts.debug.checkNumerics(true);
    const fine = x.add(1).sqrt();
    expect((await fine.data())[0]).toBeCloseTo(Math.SQRT2, 6);
    ts.dispose([x, inf, fine]);
  });
});

/** Wraps a backend so that one op runs as another: a kernel bug the shadow check must catch. */
function buggy(inner: Backend, op: OpName, instead: OpName): Backend {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'run') {
        return <K extends OpName>(name: K, args: KernelArgs<OpParams[K]>) =>
          name === op ? target.run(instead, args as unknown as KernelArgs<OpParams[typeof instead]>) : target.run(name, args);
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

describe('debug.shadow', () => {
  it('names the op whose result differs from the reference, with shapes and the call site', async () => {
    const good = ts.backendInfo();
    await ts.init({ backend: buggy(await createBackend(), 'exp', 'sigmoid') });
    try {
      ts.debug.shadow(true);
      const x = ts.tensor([
        [0.5, -1],
        [2, 0],
      ]);
      const y = x.add(1); // correct
      const z = y.exp(); // wrong on this backend
      const err = await z
        .sum()
        .data()
        .then(
          () => null,
          (e: Error) => e,
        );
      expect(err?.message).toMatch(/^shadow: 'exp' differs from the reference backend: largest error/);
      expect(err?.message).toContain('inputs: [2,2] float32');
      expect(err?.message).toContain('debug.test.ts');
      ts.dispose([x, y, z]);
    } finally {
      ts.debug.shadow(false);
      await ts.init({ backend: good.backend });
    }
  });

  it('names an op that turns finite inputs into NaN', async () => {
    ts.debug.shadow(true);
    const x = ts.tensor([4, -1]);
    const r = x.sqrt();
    const err = await r.data().then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^shadow: 'sqrt' turned finite inputs into NaN/);
    x.dispose();
    r.dispose();
  });

  it('passes a small CNN training step (conv, pool, dense, cross-entropy, Adam) without a false alarm or a leak', async () => {
    const net = new InputLayer([null, 1, 8, 8]);
    const conv = new Conv2DLayer(net, { numFilters: 3, filterSize: 3, pad: 'same' });
    const pool = new MaxPool2DLayer(conv, { poolSize: 2 });
    const out = new DenseLayer(pool, { numUnits: 4, nonlinearity: nonlinearities.linear });
    const opt = updates.adam(out, { learningRate: 1e-2 });
    const x = ts.randn([5, 1, 8, 8], { seed: 3 });
    const y = ts.tensor([0, 1, 2, 3, 1], { dtype: 'int32' });
    const step = () => ts.tidy(() => objectives.categoricalCrossentropy(getOutput(out, x), y, { fromLogits: true }).mean());
    const first = step();
    await opt.step(first); // warm-up: the optimizer state exists before the leak check
    first.dispose();
    ts.debug.shadow(true);
    ts.debug.checkNumerics(true);
    await expectNoLeak(async () => {
      for (let i = 0; i < 2; i++) {
        const loss = step();
        await opt.step(loss);
        expect(Number.isFinite(await loss.item())).toBe(true);
        loss.dispose();
      }
    }, 'shadowed training steps');
    ts.dispose([x, y, getAllParamsOf(out)]);
    opt.dispose();
  });
});

describe('the diverging run of docs/debugging.md (scripts/debug-diverge.mjs)', () => {
  const quiet = () => {};

  it('without a tool, the loss just becomes Inf or NaN', async () => {
    const r = await diverge({ mode: 'none', log: quiet });
    expect(r.error).toBeNull();
    expect(Number.isFinite(r.loss)).toBe(false);
  });

  it('checkNumerics and shadow name the op and the line of the script that called it', async () => {
    for (const mode of ['numerics', 'shadow'] as const) {
      const r = await expectNoLeakOf(() => diverge({ mode, log: quiet }));
      expect(r.error?.message, mode).toMatch(
        mode === 'numerics' ? /^checkNumerics: 'square' produced NaN or Inf/ : /^shadow: 'square' turned finite inputs into Inf/,
      );
      expect(r.error?.message, mode).toMatch(/called at .*debug-diverge\.mjs:\d+:\d+/);
    }
  });
});

/** Runs `fn` under the leak check and returns its result. */
async function expectNoLeakOf<T>(fn: () => Promise<T>): Promise<T> {
  let out: T;
  await expectNoLeak(async () => {
    out = await fn();
  }, 'diverging run');
  return out!;
}
