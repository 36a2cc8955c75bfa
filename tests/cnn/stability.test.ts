/**
 * Softmax, log-softmax and cross-entropy at large logits: exact (against float64) at magnitude
 * 100, and finite, with no NaN or Inf anywhere in values or gradients, at magnitude 1e4.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ts, expectClose } from '../helpers/index.js';

beforeAll(async () => {
  await ts.init();
});

const ROWS = 4;
const COLS = 10;

/** Logits in [-scale, scale], deterministic, float32-exact. */
function logits(scale: number): Float32Array {
  return Float32Array.from({ length: ROWS * COLS }, (_, i) => Math.fround((((i * 37) % 23) / 11 - 1) * scale));
}

/** Float64 log-softmax of each row. */
function refLogSoftmax(x: Float32Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < ROWS; r++) {
    const row = Array.from(x.subarray(r * COLS, (r + 1) * COLS));
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    row.forEach((v, c) => {
      out[r * COLS + c] = v - lse;
    });
  }
  return out;
}

const allFinite = (a: ArrayLike<number>): boolean => Array.from(a).every(Number.isFinite);
const labels = [3, 0, 9, 5];

describe.each([100, 1e4])('logits of magnitude %d', (scale) => {
  // At 1e4 a float32 logit's own rounding step is ~1e-3, so compare in absolute terms there.
  const tol = scale === 100 ? { rtol: 1e-5, atol: 1e-6 } : { rtol: 1e-6, atol: 4e-3 };

  it('softmax and logSoftmax match float64 and stay finite', async () => {
    const xd = logits(scale);
    const ref = refLogSoftmax(xd);
    const x = ts.tensor(xd, { shape: [ROWS, COLS], requiresGrad: true });
    const ls = ts.logSoftmax(x);
    const sm = ts.softmax(x);
    const lsv = await ls.data();
    const smv = await sm.data();
    expect(allFinite(lsv) && allFinite(smv)).toBe(true);
    expectClose(lsv, ref, { ...tol, what: 'logSoftmax' });
    expectClose(smv, ref.map(Math.exp), { rtol: 1e-5, atol: 1e-7, what: 'softmax' });
    ls.add(sm).sum().backward();
    expect(allFinite(await x.grad!.data()), 'gradient is finite').toBe(true);
    ts.dispose([x, ls, sm]);
  });

  it('crossEntropy matches float64 and its gradient is finite', async () => {
    const xd = logits(scale);
    const ref = refLogSoftmax(xd);
    const x = ts.tensor(xd, { shape: [ROWS, COLS], requiresGrad: true });
    const loss = ts.crossEntropy(x, ts.tensor(labels, { dtype: 'int32' }));
    const want = -labels.reduce((s, l, r) => s + ref[r * COLS + l]!, 0) / ROWS;
    const got = await loss.item();
    expect(Number.isFinite(got)).toBe(true);
    expectClose([got], [want], { rtol: 1e-5, atol: scale === 100 ? 1e-5 : 1e-3, what: 'loss' });
    loss.backward();
    const g = await x.grad!.data();
    expect(allFinite(g), 'gradient is finite').toBe(true);
    // (softmax - onehot) / N, against float64.
    const wantG = Array.from(ref, (v, i) => (Math.exp(v) - (labels[Math.floor(i / COLS)] === i % COLS ? 1 : 0)) / ROWS);
    expectClose(g, wantG, { rtol: 1e-5, atol: 1e-7, what: 'gradient' });
    ts.dispose([x, loss]);
  });
});

describe('edge rows', () => {
  it('softmax of a row with -inf entries puts all mass on the finite ones', async () => {
    const x = ts.tensor([[-Infinity, 0, 0, -Infinity]]);
    await expect(ts.softmax(x).data()).resolves.toEqual(Float32Array.from([0, 0.5, 0.5, 0]));
    ts.dispose(x);
  });

  it('crossEntropy with one-hot targets ignores -inf logits of zero-probability classes', async () => {
    const x = ts.tensor([[-Infinity, 2, 1]]);
    const loss = ts.crossEntropy(x, ts.tensor([[0, 1, 0]]));
    expectClose([await loss.item()], [Math.log(1 + Math.exp(-1))], { rtol: 1e-6 });
    ts.dispose([x, loss]);
  });
});
