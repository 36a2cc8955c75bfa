// nn.trainFunction / nn.predictFunction: N compiled steps give the losses and parameters of N
// eager steps from the same start (learning rate changed half way, dropout, momentum),
// re-record on a new batch size or after freezing, keep memory flat and fail clearly.
import { afterEach, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { engine } from '../../packages/core/src/engine.js';
import { describeEachBackend, expectClose, ts } from '../helpers/index.js';

const { objectives, updates, init } = nn;

interface Model {
  out: nn.Layer;
  hidden: nn.DenseLayer;
}

/** A small MLP 6 -> 10 -> (dropout) -> 3, the same weights for the same seed. */
function mlp(seed: number, dropout = 0): Model {
  const data = new nn.InputLayer([null, 6]);
  const hidden = new nn.DenseLayer(data, { numUnits: 10, W: init.GlorotUniform({ seed }), b: init.Constant(0.1) });
  const mid = dropout > 0 ? new nn.DropoutLayer(hidden, { p: dropout }) : hidden;
  return { hidden, out: new nn.DenseLayer(mid, { numUnits: 3, W: init.GlorotUniform({ seed: seed + 1 }), nonlinearity: null }) };
}

/** Batches of `n` rows: inputs [n, 6] and int32 labels, different per index. */
function batch(i: number, n = 8): [ts.Tensor, ts.Tensor] {
  const x = ts.tensor(
    Array.from({ length: n * 6 }, (_, j) => Math.sin(0.37 * j + 1.3 * i)),
    { shape: [n, 6] },
  );
  const y = ts.tensor(
    Array.from({ length: n }, (_, j) => (j + i) % 3),
    { dtype: 'int32' },
  );
  return [x, y];
}

const lossOf = (m: Model) => (x: ts.Tensor, y: ts.Tensor) => objectives.categoricalCrossentropy(nn.getOutput(m.out, x), y, { fromLogits: true }).mean();

type MakeOpt = (m: Model) => nn.Optimizer;

/** Runs `steps` steps eagerly or compiled from the same start; returns the losses and final parameters. */
async function run(how: 'eager' | 'compiled', makeOpt: MakeOpt, { steps = 12, dropout = 0, lr2 = 3e-3 } = {}) {
  const m = mlp(7, dropout);
  const opt = makeOpt(m);
  const step = nn.trainFunction(lossOf(m), opt);
  const losses: number[] = [];
  engine.randomCounter = 1000;
  for (let i = 0; i < steps; i++) {
    if (i === steps / 2) opt.learningRate = lr2;
    const [x, y] = batch(i % 4);
    let loss: ts.Tensor;
    if (how === 'eager') {
      loss = ts.tidy(() => lossOf(m)(x, y));
      await opt.step(loss);
    } else loss = step(x, y);
    losses.push(await loss.item());
    ts.dispose([loss, x, y]);
  }
  const params = await Promise.all(nn.getAllParams(m.out).map(async (p) => Array.from(await p.data())));
  const info = step.info;
  const stepCount = opt.stepCount;
  step.dispose();
  opt.dispose();
  nn.disposeLayers(m.out);
  return { losses, params, info, stepCount };
}

async function expectSame(makeOpt: MakeOpt, opts: { dropout?: number } = {}) {
  const eager = await run('eager', makeOpt, opts);
  const compiled = await run('compiled', makeOpt, opts);
  expectClose(compiled.losses, eager.losses, { rtol: 1e-5, atol: 1e-6, what: 'losses' });
  for (const [i, p] of compiled.params.entries()) expectClose(p, eager.params[i]!, { rtol: 1e-5, atol: 1e-6, what: `parameter ${i}` });
  // The first call creates the optimizer state (not kept), the second records, the rest replay.
  expect(compiled.info).toMatchObject({ captures: 2, replays: 10, recordings: 1 });
  expect(compiled.stepCount).toBe(eager.stepCount);
  return { eager, compiled };
}

describeEachBackend('nn.trainFunction', () => {
  afterEach(() => {
    engine.randomCounter = 0;
  });

  it('Adam: compiled steps match eager ones, with the learning rate changed half way', async () => {
    const { eager } = await expectSame((m) => updates.adam(m.out, { learningRate: 1e-2 }));
    expect(eager.losses[11]).toBeLessThan(eager.losses[0]!);
  });

  it('dropout draws the same masks as eager steps', async () => {
    const { eager } = await expectSame((m) => updates.adam(m.out, { learningRate: 1e-2 }), { dropout: 0.5 });
    const plain = await run('eager', (m) => updates.adam(m.out, { learningRate: 1e-2 }));
    expect(eager.losses).not.toEqual(plain.losses); // the masks do something
  });

  it('SGD with momentum and a norm constraint', async () => {
    await expectSame((m) => updates.momentum(m.out, { learningRate: 0.05, momentum: 0.9, totalNormConstraint: 0.5 }));
  });

  it('LeNet-5 (batch 2): compiled Adam steps match eager ones', async () => {
    const lenet = async (how: 'eager' | 'compiled') => {
      const net = nn.models.lenet5({ seed: 1 });
      const opt = updates.adam(net.out, { learningRate: 1e-3 });
      const lossFn = (x: ts.Tensor, y: ts.Tensor) => objectives.categoricalCrossentropy(nn.getOutput(net.out, x), y, { fromLogits: true }).mean();
      const step = nn.trainFunction(lossFn, opt);
      const losses: number[] = [];
      for (let i = 0; i < 5; i++) {
        if (i === 3) opt.learningRate = 3e-4;
        const x = ts.rand([2, 1, 28, 28], { seed: 10 + (i % 2) });
        const y = ts.tensor([i % 10, (3 * i + 1) % 10], { dtype: 'int32' });
        let loss: ts.Tensor;
        if (how === 'eager') {
          loss = ts.tidy(() => lossFn(x, y));
          await opt.step(loss);
        } else {
          loss = step(x, y);
          // From the first replay on, run the fused kernels (built in the background).
          if (i === 2) await step.ready();
        }
        losses.push(await loss.item());
        ts.dispose([loss, x, y]);
      }
      const params = await Promise.all(nn.getAllParams(net.out).map(async (p) => Array.from(await p.data())));
      const info = step.info;
      step.dispose();
      opt.dispose();
      nn.disposeLayers(net.out);
      return { losses, params, info };
    };
    const eager = await lenet('eager');
    const compiled = await lenet('compiled');
    expect(compiled.info.replays).toBe(3);
    // The loss chain, the ReLU gradients as epilogues of the matmuls and max-pool gradients
    // (the WebAssembly backend builds no fused kernels: it replays each op's own).
    expect(compiled.info.fusedKernels).toBeGreaterThanOrEqual(ts.backendInfo().backend === 'wasm' ? 0 : 5);
    expectClose(compiled.losses, eager.losses, { rtol: 1e-5, atol: 1e-6, what: 'losses' });
    for (const [i, p] of compiled.params.entries()) expectClose(p, eager.params[i]!, { rtol: 1e-5, atol: 1e-6, what: `parameter ${i}` });
  });

  it('records again for a new batch size, and after freezing a layer', async () => {
    const m = mlp(3);
    const opt = updates.sgd(m.out, { learningRate: 0.1 });
    const step = nn.trainFunction(lossOf(m), opt);
    const call = (n: number) => {
      const [x, y] = batch(0, n);
      step(x, y).dispose();
      ts.dispose([x, y]);
    };
    for (const n of [8, 8, 8]) call(n);
    const at8 = step.info;
    for (const n of [4, 4, 4]) call(n);
    // A new shape records (a first call that makes new cached scalars is not kept), then replays.
    expect(step.info.recordings).toBe(2);
    expect(step.info.captures).toBeGreaterThan(at8.captures);
    expect(step.info.replays).toBeGreaterThan(at8.replays);
    const frozen = nn.freeze(m.hidden);
    const before = await Promise.all(frozen.map(async (p) => Array.from(await p.data())));
    const atFreeze = step.info;
    call(4);
    call(4);
    expect(step.info).toMatchObject({ captures: atFreeze.captures + 1, replays: atFreeze.replays + 1, recordings: 1 });
    const after = await Promise.all(frozen.map(async (p) => Array.from(await p.data())));
    expect(after).toEqual(before);
    nn.unfreeze(m.hidden);
    call(4);
    expect(step.info.captures).toBe(atFreeze.captures + 2);
    expect(await m.hidden.W.data()).not.toEqual(new Float32Array(before[0]!));
    step.dispose();
    nn.disposeLayers(m.out);
  });

  it('keeps memory flat over 200 compiled steps', async () => {
    const m = mlp(5, 0.3);
    const opt = updates.adam(m.out, { learningRate: 1e-3 });
    const step = nn.trainFunction(lossOf(m), opt);
    const [x, y] = batch(1);
    for (let i = 0; i < 3; i++) step(x, y).dispose();
    await x.data();
    const mem = ts.memory();
    const stats = ts.stats();
    for (let i = 0; i < 200; i++) step(x, y).dispose();
    await x.data();
    expect(ts.memory()).toMatchObject({ tensors: mem.tensors, bytes: mem.bytes });
    expect(ts.stats().buffers).toBe(stats.buffers);
    expect(ts.stats().allocatedBytes).toBe(stats.allocatedBytes);
    expect(opt.stepCount).toBe(203);
    step.dispose();
    opt.dispose();
    nn.disposeLayers(m.out);
    ts.dispose([x, y]);
  });

  it('fails clearly: disposed parameter, bad loss, seeded dropout', async () => {
    const m = mlp(2);
    const opt = updates.sgd(m.out, { learningRate: 0.1 });
    const step = nn.trainFunction(lossOf(m), opt);
    const [x, y] = batch(0);
    step(x, y).dispose();
    step(x, y).dispose();
    m.hidden.W.dispose();
    expect(() => step(x, y)).toThrow(/nn\.trainFunction: a parameter of shape \[6,10\] of the compiled step was disposed/);
    step.dispose();
    const fresh = mlp(2);
    const bad = nn.trainFunction((_x: ts.Tensor, _y: ts.Tensor) => 3 as unknown as ts.Tensor, updates.sgd(fresh.out, { learningRate: 0.1 }));
    expect(() => bad(x, y)).toThrow(/nn\.trainFunction: lossFn returned a number/);
    const seeded = mlp(2);
    const drop = new nn.DropoutLayer(seeded.out, { p: 0.5, seed: 1 });
    const opt2 = updates.sgd(drop, { learningRate: 0.1 });
    const s2 = nn.trainFunction((a: ts.Tensor) => nn.getOutput(drop, a).mean(), opt2);
    expect(() => s2(x)).toThrow(/nn\.trainFunction: .* has a seed.*Leave out `seed`/);
    expect(() => nn.trainFunction(lossOf(m), {} as nn.Optimizer)).toThrow(/optimizer must be an Optimizer/);
    ts.dispose([x, y]);
    nn.disposeLayers(m.out);
    nn.disposeLayers(seeded.out);
    nn.disposeLayers(fresh.out);
  });

  it('predictFunction matches the deterministic forward pass', async () => {
    const m = mlp(4, 0.5);
    const predict = nn.predictFunction(m.out);
    for (let i = 0; i < 3; i++) {
      const [x, y] = batch(i);
      const got = predict(x);
      const want = ts.noGrad(() => nn.getOutput(m.out, x, { deterministic: true }));
      expectClose(await got.data(), await want.data(), { what: `batch ${i}` });
      ts.dispose([x, y, got, want]);
    }
    expect(predict.info.replays).toBeGreaterThanOrEqual(1);
    predict.dispose();
    nn.disposeLayers(m.out);
  });
});
