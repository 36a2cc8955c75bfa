// Optimizers against torch.optim (tests/fixtures/updates.json, from scripts/golden/updates.py):
// the same parameters and gradients, three steps, parameters compared after every step.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { ts, describeEachBackend, expectClose, expectNoLeak, fromGolden, loadGolden, type GoldenTensor } from '../helpers/index.js';

interface UpdateCase {
  name: string;
  optimizer: nn.updates.OptimizerName;
  options: Record<string, number>;
  torch: string;
  after: GoldenTensor[][];
  lrs?: number[];
  maxNorm?: number;
}
const golden = loadGolden<{ params: GoldenTensor[]; grads: GoldenTensor[][]; cases: UpdateCase[] }>('updates.json');

describeEachBackend('updates against PyTorch', () => {
  it('covers every optimizer', () => {
    const covered = new Set(golden.cases.map((c) => c.optimizer));
    expect([...covered].sort()).toEqual(Object.keys(nn.updates.OPTIMIZERS).sort());
  });

  for (const c of golden.cases) {
    it(`${c.name} (${c.torch})`, async () => {
      const params = golden.params.map((p) => ts.keep(fromGolden(p, true)));
      const opt = nn.updates.byName(c.optimizer, params, { ...c.options, ...(c.maxNorm ? { totalNormConstraint: c.maxNorm } : {}) });
      for (let step = 0; step < 3; step++) {
        if (c.lrs) opt.learningRate = c.lrs[step]!;
        params.forEach((p, i) => {
          p.grad = ts.keep(fromGolden(golden.grads[step]![i]!));
        });
        await opt.step();
        for (const [i, p] of params.entries()) {
          expect(p.grad, 'gradients are freed by step').toBeNull();
          expectClose(await p.data(), c.after[step]![i]!.data, { rtol: 1e-5, atol: 1e-6, what: `${c.name}, step ${step + 1}, param ${i}` });
        }
      }
      expect(opt.stepCount).toBe(3);
      opt.dispose();
      ts.dispose(params);
    });
  }
});

describe('optimizer behaviour', () => {
  beforeAll(async () => {
    await ts.init({ backend: 'webgpu' });
  });

  it('step(loss) runs backward, updates in place without reading back, and resets the gradients', async () => {
    const w = ts.keep(ts.tensor([1, -2, 3], { requiresGrad: true }));
    const opt = nn.updates.sgd([w], { learningRate: 0.5 });
    const loss = ts.tidy(() => w.square().sum()); // grad 2w
    const before = ts.stats().submits;
    await opt.step(loss);
    expect(ts.stats().submits, 'a step submits nothing by itself').toBe(before);
    expect(w.grad).toBeNull();
    expectClose(await w.data(), [0, 0, 0]);
    loss.dispose();
    opt.dispose();
    w.dispose();
  });

  it('takes a layer as its source and skips frozen layers', async () => {
    const data = new nn.InputLayer([null, 2]);
    const a = new nn.DenseLayer(data, { numUnits: 2, W: nn.init.Constant(1), nonlinearity: null });
    const b = new nn.DenseLayer(a, { numUnits: 1, W: nn.init.Constant(1), nonlinearity: null });
    nn.setTrainable(a, false);
    const opt = nn.updates.sgd(b, { learningRate: 0.1 });
    expect(opt.params).toEqual([b.W, b.b]);
    const x = ts.tensor([[1, 2]]);
    const loss = ts.tidy(() => nn.getOutput(b, x).sum());
    await opt.step(loss);
    expectClose(await a.W.data(), [1, 1, 1, 1], { what: 'frozen W' });
    // d(loss)/d(b.W) = hidden = [3, 3]
    expectClose(await b.W.data(), [1 - 0.3, 1 - 0.3], { what: 'trained W' });
    nn.setTrainable(a, true);
    expect(opt.params.length).toBe(4);
    ts.dispose([x, loss]);
    opt.dispose();
    nn.disposeLayers(b);
  });

  it('accumulates gradients from several backward calls when stepping without a loss', async () => {
    const w = ts.keep(ts.tensor([1, 1], { requiresGrad: true }));
    const opt = nn.updates.sgd([w], { learningRate: 1 });
    ts.tidy(() => w.sum().backward());
    ts.tidy(() => w.mul(2).sum().backward());
    await opt.step();
    expectClose(await w.data(), [-2, -2]);
    opt.zeroGrad();
    opt.dispose();
    w.dispose();
  });

  it('clips by the global norm with the functional totalNormConstraint too', async () => {
    const [a, b] = nn.updates.totalNormConstraint([ts.tensor([3, 0]), ts.tensor([4])], 1);
    expectClose(await a!.data(), [0.6, 0], { rtol: 1e-5 });
    expectClose(await b!.data(), [0.8], { rtol: 1e-5 });
    const small = nn.updates.totalNormConstraint([ts.tensor([0.3, 0.4])], 1);
    expectClose(await small[0]!.data(), [0.3, 0.4], { rtol: 1e-5 });
    expect(await nn.updates.globalNorm([ts.tensor([3]), ts.tensor([4])]).item()).toBeCloseTo(5, 5);
  });

  it('starts adagrad at initialAccumulatorValue, with PyTorch defaults for the new optimizers', async () => {
    const w = ts.keep(ts.zeros([3], { requiresGrad: true }));
    const opt = nn.updates.adagrad([w], { initialAccumulatorValue: 0.5 });
    expect(opt.learningRate).toBe(0.01);
    w.grad = ts.keep(ts.zeros([3]));
    await opt.step();
    expect(opt.stateOf(w).length).toBe(1);
    expectClose(await opt.stateOf(w)[0]!.data(), [0.5, 0.5, 0.5]);
    expect(nn.updates.adadelta([w]).learningRate).toBe(1);
    expect(nn.updates.adamax([w]).learningRate).toBe(0.002);
    expect(ts.optimStateCount('adadelta')).toBe(2);
    expect(ts.optimStateCount('adamax')).toBe(2);
    opt.dispose();
    w.dispose();
  });

  it('keeps its state across steps without leaking', async () => {
    const w = ts.keep(ts.randn([4, 3], { seed: 1, requiresGrad: true }));
    const opt = nn.updates.adam([w], { learningRate: 0.01, totalNormConstraint: 1 });
    const step = async () => {
      const loss = ts.tidy(() => w.square().sum());
      await opt.step(loss);
      loss.dispose();
    };
    await step();
    expect(opt.stateOf(w).length).toBe(2);
    await expectNoLeak(async () => {
      for (let i = 0; i < 5; i++) await step();
    }, 'adam steps');
    opt.dispose();
    w.dispose();
  });
});

describe('optimizer errors', () => {
  beforeAll(async () => {
    await ts.init({ backend: 'webgpu' });
  });

  const p = () => [ts.keep(ts.zeros([2], { requiresGrad: true }))];

  it('rejects an unknown optimizer name, listing the valid ones', () => {
    expect(() => nn.updates.byName('adamm', p(), { learningRate: 0.1 })).toThrow(
      /updates\.byName: unknown optimizer 'adamm'\. Valid names: sgd, momentum, nesterovMomentum, rmsprop, adam, adamw, adagrad, adadelta, adamax\. Did you mean 'adam'\?/,
    );
    expect(() => nn.updates.byName('lbfgs', p())).toThrow(/unknown optimizer 'lbfgs'.*Valid names/);
  });

  it('accepts names case-insensitively and with separators', () => {
    expect(nn.updates.byName('Adam', p()).name).toBe('adam');
    expect(nn.updates.byName('nesterov_momentum', p(), { learningRate: 0.1 }).name).toBe('nesterovMomentum');
    expect(nn.updates.byName('nesterov', p(), { learningRate: 0.1 }).rule).toBe('nesterov');
  });

  it('rejects bad hyper-parameters and unknown options by name', () => {
    expect(() => nn.updates.sgd(p(), {} as never)).toThrow(/updates\.sgd: learningRate is required/);
    expect(() => nn.updates.adam(p(), { beta1: 1.5 })).toThrow(/updates\.adam: beta1 must be a number in \[0, 1\), got 1\.5/);
    expect(() => nn.updates.adam(p(), { lr: 0.1 } as never)).toThrow(/updates\.adam: unknown option 'lr'\. Valid options: learningRate/);
    expect(() => nn.updates.rmsprop(p(), { learningRate: -1 })).toThrow(/learningRate must be a finite number >= 0, got -1/);
    expect(() => nn.updates.nesterovMomentum(p(), { learningRate: 0.1, momentum: 0 })).toThrow(/momentum must be > 0/);
    expect(() => nn.updates.adagrad(p(), { lrDecay: -1 })).toThrow(/updates\.adagrad: lrDecay must be a number in \[0, Infinity\], got -1/);
    expect(() => nn.updates.adagrad(p(), { initialAccumulatorValue: -0.1 })).toThrow(/updates\.adagrad: initialAccumulatorValue must be a number/);
    expect(() => nn.updates.adadelta(p(), { rho: 1.5 })).toThrow(/updates\.adadelta: rho must be a number in \[0, 1\], got 1\.5/);
    expect(() => nn.updates.adamax(p(), { rho: 0.9 } as never)).toThrow(/updates\.adamax: unknown option 'rho'\. Valid options: learningRate/);
    const opt = nn.updates.sgd(p(), { learningRate: 0.1 });
    expect(() => (opt.learningRate = NaN)).toThrow(/learningRate must be a finite number/);
    opt.dispose();
    expect(() => opt.update()).toThrow(/this optimizer was disposed/);
  });

  it('applyUpdate checks its tensors', () => {
    const w = ts.zeros([2]);
    expect(() => ts.applyUpdate('adam', w, ts.zeros([3]), [ts.zeros([2]), ts.zeros([2])], { lr: 0.1 })).toThrow(
      /applyUpdate: the gradient is \[3\] float32, but the parameter is \[2\] float32/,
    );
    expect(() => ts.applyUpdate('adam', w, ts.zeros([2]), [ts.zeros([2])], { lr: 0.1 })).toThrow(/rule 'adam' needs 2 state tensor\(s\), got 1/);
    expect(() => ts.applyUpdate('sgd', w, w, [], { lr: 0.1 })).toThrow(/must be distinct/);
    expect(() => ts.applyUpdate('sgd', w, ts.zeros([2]), [], { lr: NaN })).toThrow(/applyUpdate: lr must be a finite number/);
    expect(() => ts.applyUpdate('nope' as never, w, ts.zeros([2]), [], { lr: 1 })).toThrow(/unknown rule "nope"/);
  });
});
