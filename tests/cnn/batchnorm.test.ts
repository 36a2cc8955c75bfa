/**
 * ts.batchNorm against PyTorch (scripts/golden/batchnorm.py): forward values, the gradients of
 * x, gamma and beta, and the running statistics after one and three training steps, in training
 * and evaluation, for [N, C], [N, C, L] and [N, C, H, W], with and without gamma / beta, another
 * channel axis, and a mean of 1e4 (stability). On both backends, and on the kernel variants a
 * GPU gets; plus finite differences, bad inputs, dispatch counts and leaks.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '@tessera/webgpu';
import { ts, describeEachBackend, expectClose, expectNoLeak, gradcheck, loadGolden } from '../helpers/index.js';

interface Flat {
  shape: number[];
  data: number[];
}

interface BnCase {
  name: string;
  shape: number[];
  axis: number;
  training: boolean;
  momentum: number;
  epsilon: number;
  xs: Flat[];
  gamma?: Flat;
  beta?: Flat;
  runningMean?: Flat;
  runningVar?: Flat;
  output: Flat;
  cotangent: Flat;
  grads: { x: Flat; gamma?: Flat; beta?: Flat };
  after?: { runningMean: Flat; runningVar: Flat }[];
  largeMean?: boolean;
}

const { cases } = loadGolden<{ cases: BnCase[] }>('batchnorm.json');
const t = (f: Flat, requiresGrad = false) => ts.tensor(Float32Array.from(f.data), { shape: f.shape, requiresGrad });

/** Runs a fixture case and checks everything it records. */
async function runCase(c: BnCase): Promise<void> {
  // Values near 1e4 carry float32's 1e-3 resolution; the normalized outputs inherit it.
  const tol = c.largeMean ? { rtol: 1e-4, atol: 2e-3 } : { rtol: 1e-4, atol: 1e-5 };
  const gamma = c.gamma ? t(c.gamma, true) : null;
  const beta = c.beta ? t(c.beta, true) : null;
  const runningMean = c.runningMean ? t(c.runningMean) : null;
  const runningVar = c.runningVar ? t(c.runningVar) : null;
  const opts = { gamma, beta, runningMean, runningVar, training: c.training, momentum: c.momentum, epsilon: c.epsilon, axis: c.axis };
  const xs = c.xs.map((f) => t(f, true));
  for (const [step, x] of xs.entries()) {
    const y = ts.batchNorm(x, opts);
    if (c.after) {
      expectClose(await runningMean!.data(), c.after[step]!.runningMean.data, { rtol: 1e-5, atol: 1e-6, what: `running mean after step ${step + 1}` });
      expectClose(await runningVar!.data(), c.after[step]!.runningVar.data, { rtol: 1e-5, atol: 1e-6, what: `running var after step ${step + 1}` });
    }
    if (step < xs.length - 1) {
      y.dispose();
      continue;
    }
    expect([...y.shape]).toEqual(c.shape);
    expectClose(await y.data(), c.output.data, { ...tol, what: 'output' });
    const cot = t(c.cotangent);
    y.backward(cot);
    expectClose(await x.grad!.data(), c.grads.x.data, { ...tol, what: 'grad x' });
    if (gamma) expectClose(await gamma.grad!.data(), c.grads.gamma!.data, { ...tol, what: 'grad gamma' });
    if (beta) expectClose(await beta.grad!.data(), c.grads.beta!.data, { ...tol, what: 'grad beta' });
    ts.dispose([y, cot]);
  }
  ts.dispose([xs, gamma, beta, runningMean, runningVar].flat().filter((v): v is ts.Tensor => v !== null));
}

describeEachBackend('batchNorm matches PyTorch', () => {
  it('has training and evaluation cases, with running statistics and large means', () => {
    expect(cases.some((c) => c.training && c.xs.length === 3)).toBe(true);
    expect(cases.some((c) => !c.training && c.shape.length === 4)).toBe(true);
    expect(cases.filter((c) => c.largeMean).length).toBeGreaterThanOrEqual(2);
  });
  for (const c of cases) it(c.name, () => runCase(c));
});

describe('batchNorm: the kernel variants a GPU gets (registerTiling off)', () => {
  beforeAll(async () => {
    await ts.init({ backend: await createBackend({ caps: { registerTiling: false } }) });
  });
  for (const c of cases) it(c.name, () => runCase(c));
});

// The fixtures are small, so their threads walk one row each; these shapes make the kernels walk
// blocks of rows (unrolled by 4, with remainders and a short last block) and merge many chunks.
// ts.debug.shadow re-runs every op on the reference backend and compares.
describe.each([true, false])('batchNorm on larger shapes matches the reference backend op by op (registerTiling %s)', (registerTiling) => {
  beforeAll(async () => {
    await ts.init({ backend: await createBackend({ caps: { registerTiling } }) });
  });
  it.each([[[9, 8, 24, 24]], [[40, 8, 24, 24]], [[4099, 5]], [[3, 4, 4099]]])('%j', async (shape) => {
    const C = shape[1]!;
    ts.debug.shadow(true);
    try {
      await ts.tidy(async () => {
        const x = ts.randn(shape, { seed: 11, requiresGrad: true });
        const gamma = ts.rand([C], { seed: 12, requiresGrad: true });
        const beta = ts.randn([C], { seed: 13, requiresGrad: true });
        const runningMean = ts.zeros([C]);
        const runningVar = ts.ones([C]);
        const cot = ts.randn(shape, { seed: 14 });
        ts.batchNorm(x, { gamma, beta, runningMean, runningVar, training: true }).mul(cot).sum().backward();
        ts.batchNorm(x, { gamma, beta, runningMean, runningVar }).mul(cot).sum().backward();
        await x.grad!.data();
        await ts.debug.check();
      });
    } finally {
      ts.debug.shadow(false);
    }
  });
});

/** Deterministic values in [-1, 1) (mulberry32). */
function values(n: number, seed: number, offset = 0): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let r = Math.imul(s ^ (s >>> 15), 1 | s);
    r ^= r + Math.imul(r ^ (r >>> 7), 61 | r);
    out[i] = offset + ((r ^ (r >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

describeEachBackend('batchNorm: finite differences', () => {
  it('training, [3,2,2,3] with gamma and beta', async () => {
    const shapes = [[3, 2, 2, 3], [2], [2]];
    await gradcheck((x, g, b) => ts.batchNorm(x, { gamma: g, beta: b, training: true }), [values(36, 1), values(2, 2, 1.5), values(2, 3)], shapes);
  });
  it('training, [5,3] without gamma or beta', async () => {
    await gradcheck((x) => ts.batchNorm(x, { training: true }), [values(15, 4)], [[5, 3]]);
  });
  it('evaluation, [2,3,2,2] with gamma and beta', async () => {
    const mean = () => ts.tensor([0.1, -0.2, 0.3]);
    const v = () => ts.tensor([0.5, 1.5, 2]);
    await gradcheck(
      (x, g, b) => ts.tidy(() => ts.batchNorm(x, { gamma: g, beta: b, runningMean: mean(), runningVar: v() })),
      [values(24, 5), values(3, 6, 1.5), values(3, 7)],
      [[2, 3, 2, 2], [3], [3]],
    );
  });
});

describeEachBackend('batchNorm', (backend) => {
  it('updates the running statistics in place and outside autograd', async () => {
    const x = ts.tensor([1, 2, 3, 5], { shape: [4, 1], requiresGrad: true });
    const runningMean = ts.zeros([1]);
    const runningVar = ts.ones([1]);
    const before = runningMean;
    const y = ts.batchNorm(x, { runningMean, runningVar, training: true, momentum: 0.5 });
    expect(runningMean).toBe(before);
    expect(runningMean.requiresGrad).toBe(false);
    expect(await runningMean.data()).toEqual(Float32Array.from([1.375])); // 0.5 * 0 + 0.5 * 2.75
    // The unbiased variance of [1, 2, 3, 5] is 2.9167: 0.5 * 1 + 0.5 * 2.9167.
    expectClose(await runningVar.data(), [0.5 + 0.5 * (8.75 / 3)], { rtol: 1e-6 });
    ts.dispose([x, y, runningMean, runningVar]);
  });

  it('gives finite, correct statistics for a mean of 1e4 (E[x^2] - E[x]^2 would not)', async () => {
    const data = values(4096, 9, 1e4);
    const x = ts.tensor(data, { shape: [1024, 4] });
    const y = ts.batchNorm(x, { training: true });
    const out = await y.data();
    for (let c = 0; c < 4; c++) {
      let m = 0;
      let s = 0;
      for (let n = 0; n < 1024; n++) m += out[n * 4 + c]!;
      m /= 1024;
      for (let n = 0; n < 1024; n++) s += (out[n * 4 + c]! - m) ** 2;
      expect(Math.abs(m), `channel ${c} mean`).toBeLessThan(1e-3);
      expect(Math.abs(s / 1024 - 1), `channel ${c} variance`).toBeLessThan(1e-2);
    }
    ts.dispose([x, y]);
  });

  it('leaks nothing: training forward, backward and the running update', async () => {
    const gamma = ts.ones([3], { requiresGrad: true });
    const beta = ts.zeros([3], { requiresGrad: true });
    const runningMean = ts.zeros([3]);
    const runningVar = ts.ones([3]);
    const x = ts.randn([4, 3, 5, 5], { seed: 3 });
    await expectNoLeak(async () => {
      const loss = ts.tidy(() => ts.batchNorm(x, { gamma, beta, runningMean, runningVar, training: true }).square().sum());
      loss.backward();
      await loss.data();
      loss.dispose();
      const ev = ts.batchNorm(x, { gamma, beta, runningMean, runningVar });
      await ev.data();
      ev.dispose();
      ts.dispose([gamma.grad!, beta.grad!]);
      gamma.grad = null;
      beta.grad = null;
    }, 'batchNorm');
    ts.dispose([gamma, beta, runningMean, runningVar, x]);
  });

  if (backend === 'webgpu') {
    it('takes 7 dispatches forward in training (2 of them full passes) and 5 backward', async () => {
      const gamma = ts.ones([16], { requiresGrad: true });
      const beta = ts.zeros([16], { requiresGrad: true });
      const runningMean = ts.zeros([16]);
      const runningVar = ts.ones([16]);
      const x = ts.randn([2, 16, 4, 4], { seed: 1, requiresGrad: true });
      const cot = ts.randn([2, 16, 4, 4], { seed: 2 });
      const d0 = ts.stats().dispatches;
      const y = ts.batchNorm(x, { gamma, beta, runningMean, runningVar, training: true });
      const d1 = ts.stats().dispatches;
      y.backward(cot);
      const d2 = ts.stats().dispatches;
      // stats (partial + combine), normalize, and per running statistic its update and the copy back.
      expect(d1 - d0).toBe(7);
      // gradient sums (partial + combine), the input gradient, and the gamma and beta rows.
      expect(d2 - d1).toBe(5);
      ts.dispose([gamma, beta, runningMean, runningVar, x, cot, y, x.grad!, gamma.grad!, beta.grad!]);
    });
  }
});

describe('batchNorm rejects', () => {
  beforeAll(async () => {
    await ts.init();
  });
  const z = (shape: number[], dtype: ts.DType = 'float32') => ts.zeros(shape, { dtype });

  it('a batch of one value per channel in training, as PyTorch', () => {
    expect(() => ts.batchNorm(z([1, 3]), { training: true })).toThrow(/batchNorm: expected more than 1 value per channel when training, got input \[1,3\]/);
    expect(() => ts.batchNorm(z([1, 3, 1, 1]), { training: true })).toThrow(/more than 1 value per channel/);
    expect(() => ts.batchNorm(z([1, 3]), { runningMean: z([3]), runningVar: z([3]) })).not.toThrow();
  });
  it('an axis out of range, or not a number', () => {
    expect(() => ts.batchNorm(z([2, 3]), { training: true, axis: 2 })).toThrow(/batchNorm: axis 2 is out of range for rank 2 of a tensor of shape \[2,3\]/);
    expect(() => ts.batchNorm(z([2, 3]), { training: true, axis: 0.5 })).toThrow(/batchNorm: axis 0.5 is out of range/);
    expect(() => ts.batchNorm(z([2, 3]), { training: true, axis: '1' as unknown as number })).toThrow(/batchNorm: axis must be an integer, got "1"/);
  });
  it('gamma, beta and running statistics of the wrong shape, naming the argument', () => {
    const x = z([2, 3, 4, 4]);
    expect(() => ts.batchNorm(x, { training: true, gamma: z([4]) })).toThrow(
      /batchNorm: gamma has shape \[4\], but input \[2,3,4,4\] has 3 channels on axis 1. Expected gamma of shape \[3\]/,
    );
    expect(() => ts.batchNorm(x, { training: true, beta: z([3, 1]) })).toThrow(/batchNorm: beta has shape \[3,1\]/);
    expect(() => ts.batchNorm(x, { runningMean: z([3]), runningVar: z([2]) })).toThrow(
      /batchNorm: runningVar has shape \[2\].*Expected runningVar of shape \[3\]/,
    );
    expect(() => ts.batchNorm(x, { runningMean: z([5]), runningVar: z([3]) })).toThrow(/batchNorm: runningMean has shape \[5\]/);
    expect(() => ts.batchNorm(x, { training: true, runningMean: z([3]) })).toThrow(/batchNorm: got runningMean without runningVar/);
  });
  it('non-float tensors', () => {
    expect(() => ts.batchNorm(z([2, 3], 'int32'), { training: true })).toThrow(/batchNorm: input \[2,3\] is int32; expected float32/);
    expect(() => ts.batchNorm(z([2, 3]), { training: true, gamma: z([3], 'int32') })).toThrow(/batchNorm: gamma \[3\] is int32; expected float32/);
    expect(() => ts.batchNorm(z([2, 3]), { runningMean: z([3], 'int32'), runningVar: z([3]) })).toThrow(/batchNorm: runningMean \[3\] is int32/);
  });
  it('evaluation without running statistics, and bad options', () => {
    expect(() => ts.batchNorm(z([2, 3]))).toThrow(/batchNorm: evaluation .* normalizes with runningMean and runningVar.*training: true/);
    expect(() => ts.batchNorm(z([3]), { training: true })).toThrow(/batchNorm: input \[3\] has rank 1; expected \[N, C, \.\.\.\]/);
    expect(() => ts.batchNorm(z([2, 3]), { training: true, momentum: 2 })).toThrow(/batchNorm: momentum must be a number in \[0, 1\], got 2/);
    expect(() => ts.batchNorm(z([2, 3]), { training: true, epsilon: -1 })).toThrow(/batchNorm: epsilon must be a finite number >= 0, got -1/);
    expect(() => ts.batchNorm(z([2, 3]), { training: 1 as unknown as boolean })).toThrow(/batchNorm: training must be true or false, got 1/);
    expect(() => ts.batchNorm('x' as unknown as ts.Tensor, { training: true })).toThrow(/batchNorm: input must be a Tensor, got string/);
    expect(() => ts.batchNorm(z([2, 3]), { training: true, gamma: [1, 2, 3] as unknown as ts.Tensor })).toThrow(
      /batchNorm: gamma must be a Tensor, got object/,
    );
  });
});
