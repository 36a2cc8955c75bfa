// Concurrent async scopes: two async tidies (or a tidy and a noGrad) running at once must each
// see only their own tensors and grad mode. In Node that is AsyncLocalStorage, which
// @tessera/webgpu installs on import; in a browser (forced here with setAsyncContext(null)) an
// overlap is an error, and the scope handle is the way to run async scopes side by side.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ts, expectTensor } from '../helpers/index.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let nodeContext: ts.AsyncContext | null = null;

beforeAll(async () => {
  await ts.init();
  nodeContext = ts.getAsyncContext();
});

afterEach(() => {
  ts.setAsyncContext(nodeContext);
});

/** A tiny linear model y = x·w + b, its data, and one SGD step by backward() and applyUpdate. */
function tinyDense() {
  const x = ts.tensor([
    [1, 2],
    [2, 1],
    [0, 1],
    [1, 0],
  ]);
  const y = ts.tensor([[3], [3], [1], [1]]);
  const w = ts.tensor([[0.5], [-0.5]], { requiresGrad: true });
  const b = ts.tensor([0], { requiresGrad: true });
  const predict = () => ts.matmul(x, w).add(b);
  const step = (): ts.Tensor => {
    const loss = predict().sub(y).square().mean();
    loss.backward();
    for (const p of [w, b]) {
      expect(p.grad, 'a gradient reached the parameter').not.toBeNull();
      ts.applyUpdate('sgd', p, p.grad!, [], { lr: 0.05 });
      p.grad!.dispose();
      p.grad = null;
    }
    return loss;
  };
  return { predict, step, dispose: () => ts.dispose([x, y, w, b]) };
}

describe('concurrent async scopes (Node: AsyncLocalStorage)', () => {
  it('@tessera/webgpu installed an async context', () => {
    expect(nodeContext).not.toBeNull();
  });

  it('two async tidies under Promise.all keep their own tensors', async () => {
    const before = ts.memory().tensors;
    // The first resumes (5 ms) while the second is still open, and ends (25 ms) after it (15 ms).
    const job = (k: number, first: number, second: number) =>
      ts.tidy(async () => {
        const a = ts.tensor([1, 2, 3, 4]).mul(k);
        a.add(1); // garbage made before the first await
        await sleep(first);
        const b = a.add(k);
        b.exp(); // garbage made after it
        await sleep(second);
        return b.add(b.mul(2)); // 3 * (a + k)
      });
    const [r1, r2] = await Promise.all([job(1, 5, 20), job(10, 10, 5)]);
    expect(ts.memory().tensors, 'only the two results are left').toBe(before + 2);
    await expectTensor(r1, [6, 9, 12, 15]);
    await expectTensor(r2, [60, 90, 120, 150]);
    ts.dispose([r1, r2]);
    expect(ts.memory().tensors).toBe(before);
  });

  it('a training loop keeps its gradients while another loop predicts under async noGrad', async () => {
    const net = tinyDense();
    const before = ts.memory().tensors;
    const train = ts.tidy(async () => {
      const losses: number[] = [];
      for (let i = 0; i < 6; i++) {
        expect(ts.isGradEnabled(), 'grad mode in the training loop').toBe(true);
        const loss = net.step();
        losses.push(await loss.item());
        await sleep(2);
      }
      return losses;
    });
    const predict = ts.noGrad(async () => {
      let predictions = 0;
      for (let i = 0; i < 6; i++) {
        await ts.tidy(async () => {
          const out = net.predict();
          expect(out.requiresGrad, 'prediction recorded for autograd').toBe(false);
          await sleep(3);
          expect(ts.isGradEnabled(), 'grad mode in the prediction loop').toBe(false);
          expect((await out.data()).length).toBe(4);
          predictions++;
        });
      }
      return predictions;
    });
    const [losses, predictions] = await Promise.all([train, predict]);
    expect(predictions).toBe(6);
    expect(losses[5]).toBeLessThan(losses[0]! * 0.8);
    expect(ts.isGradEnabled()).toBe(true);
    expect(ts.memory().tensors, 'no leak').toBe(before);
    net.dispose();
  });

  it('a sync tidy nested in an async tidy hands its result to that tidy, not to a concurrent one', async () => {
    const before = ts.memory().tensors;
    const job = (k: number, delay: number) =>
      ts.tidy(async () => {
        const a = ts.tensor([1, 2]).mul(k);
        await sleep(delay);
        const inner = ts.tidy(() => a.mul(2).add(1)); // a.mul(2) is freed here, inner goes on
        await sleep(delay);
        return inner.mul(a); // (2a + 1) * a
      });
    const [r1, r2] = await Promise.all([job(1, 4), job(2, 7)]);
    await expectTensor(r1, [3, 10]);
    await expectTensor(r2, [10, 36]);
    expect(ts.memory().tensors).toBe(before + 2);
    ts.dispose([r1, r2]);
    expect(ts.memory().tensors).toBe(before);
  });

  it('an error thrown in an async tidy disposes its tensors; a concurrent tidy is untouched', async () => {
    const before = ts.memory().tensors;
    const failing = ts.tidy(async () => {
      ts.ones([3]);
      await sleep(3);
      ts.ones([2]);
      throw new Error('boom');
    });
    const fine = ts.tidy(async () => {
      const a = ts.ones([2]);
      await sleep(6);
      return a.add(1);
    });
    await expect(failing).rejects.toThrow('boom');
    const r = await fine;
    await expectTensor(r, [2, 2]);
    r.dispose();
    expect(ts.memory().tensors).toBe(before);
  });
});

describe('async scopes without AsyncLocalStorage (browser rules)', () => {
  it('one async tidy at a time still frees what it makes after each await', async () => {
    ts.setAsyncContext(null);
    const before = ts.memory().tensors;
    const r = await ts.tidy(async () => {
      const a = ts.tensor([1, 2, 3]);
      await sleep(2);
      const b = a.mul(2);
      await sleep(1);
      return b.add(a);
    });
    await expectTensor(r, [3, 6, 9]);
    r.dispose();
    expect(ts.memory().tensors).toBe(before);
  });

  it('two overlapping async tidies: the second is rejected with a clear error, the first is intact', async () => {
    ts.setAsyncContext(null);
    const before = ts.memory().tensors;
    let secondDone!: () => void;
    const secondSettled = new Promise<void>((r) => (secondDone = r));
    const first = ts.tidy(async () => {
      const a = ts.tensor([1, 2]);
      await sleep(5);
      return a.add(1);
    });
    const second = ts.tidy(async () => {
      try {
        ts.ones([2]);
        await sleep(10);
      } finally {
        secondDone();
      }
    });
    await expect(second).rejects.toThrow(
      /^tidy: two async scopes overlapped: .*\. Await one before starting the other, or give each async function a scope parameter, ts\.tidy\(async \(scope\) => \.\.\.\), and create tensors after an await inside scope\.run/,
    );
    const r = await first;
    await expectTensor(r, [2, 3]);
    r.dispose();
    await secondSettled;
    await sleep(0);
    expect(ts.memory().tensors, "the rejected tidy's tensors are freed too").toBe(before);
  });

  it('two overlapping async noGrads: the second is rejected', async () => {
    ts.setAsyncContext(null);
    const first = ts.noGrad(async () => {
      await sleep(5);
      return ts.isGradEnabled();
    });
    const second = ts.noGrad(async () => {
      await sleep(1);
    });
    await expect(second).rejects.toThrow(/^noGrad: two async scopes overlapped/);
    expect(await first, 'grad mode after the first noGrad awaited').toBe(false);
    expect(ts.isGradEnabled()).toBe(true);
  });

  it('with a scope parameter, async tidies run side by side: scope.run after each await', async () => {
    ts.setAsyncContext(null);
    const net = tinyDense();
    const before = ts.memory().tensors;
    const train = ts.tidy(async (scope) => {
      const losses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const loss = scope.run(net.step);
        losses.push(await loss.item());
        await sleep(2);
      }
      return losses;
    });
    const predict = ts.tidy(async (scope) => {
      const first = ts.noGrad(net.predict); // before the first await: already in the scope
      let last: ts.Tensor = first;
      for (let i = 0; i < 5; i++) {
        await sleep(3);
        last = scope.run(() => ts.noGrad(() => net.predict().mul(2)));
        expect(last.requiresGrad).toBe(false);
        // Made outside scope.run after an await, so no scope can claim it: track adopts it.
        scope.track(ts.ones([1]));
      }
      return last;
    });
    const [losses, out] = await Promise.all([train, predict]);
    expect(losses[4]).toBeLessThan(losses[0]!);
    expect(ts.memory().tensors, 'only the returned prediction is left').toBe(before + 1);
    expect(out.shape).toEqual([4, 1]);
    out.dispose();
    expect(ts.memory().tensors).toBe(before);
    expect(() => ts.tidy((scope) => scope).run(() => 1)).toThrow(/^tidy: scope\.run\(\) was called after its tidy ended/);
    net.dispose();
  });
});
