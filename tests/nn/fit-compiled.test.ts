// nn.fit's compiled steps (the default) against its eager path (`compiled: false`): the same
// history and weights to the bit, with a partial last batch, validation, a schedule changing the
// learning rate, a norm constraint and a resumed checkpoint; the fallbacks to eager (seeded
// dropout, a loss that cannot be recorded) that say why instead of throwing; and no leak, the
// recordings' buffers included.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { expectNoLeak, ts } from '../helpers/index.js';

beforeAll(async () => {
  await ts.init({ backend: 'webgpu' });
});

const dir = mkdtempSync(join(tmpdir(), 'tessera-fit-compiled-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `n` points of [-1, 1]^2, class by angle sector (3 classes). */
function sectors(n: number, shift = 0): nn.FitData & { labels: Int32Array } {
  const images = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = (((i + shift) * 0.618034) % 1) * 2 * Math.PI;
    const r = 0.3 + 0.7 * (((i + shift) * 0.754878) % 1);
    images[2 * i] = r * Math.cos(a);
    images[2 * i + 1] = r * Math.sin(a);
    labels[i] = Math.floor(a / ((2 * Math.PI) / 3));
  }
  return { images, labels, shape: [n, 2] };
}

function mlp(seed: number, dropout?: { p: number; seed?: number }): nn.Layer {
  const data = new nn.InputLayer([null, 2]);
  const h = new nn.DenseLayer(data, { numUnits: 12, W: nn.init.GlorotUniform({ seed }) });
  const mid = dropout ? new nn.DropoutLayer(h, dropout) : h;
  return new nn.DenseLayer(mid, { numUnits: 3, nonlinearity: null, W: nn.init.GlorotUniform({ seed: seed + 1 }) });
}

async function weights(out: nn.Layer): Promise<number[][]> {
  return Promise.all(nn.getAllParams(out).map(async (p) => Array.from(await p.data())));
}

/** Bytes in use on the device that no tensor accounts for (a compiled step's recordings). */
function untracked(): number {
  const s = ts.stats();
  const m = ts.memory();
  return s.allocatedBytes - s.pooledBytes - m.bytes - m.cachedBytes;
}

type Run = { history: nn.FitHistory; weights: number[][]; steps: nn.StepInfo[] };

/** One fit from the same start (seed 5), compiled or eager, with `extra` options. */
async function run(compiled: boolean, extra: Partial<nn.FitOptions> = {}, makeOpt?: (out: nn.Layer) => nn.Optimizer): Promise<Run> {
  const out = mlp(5);
  const opt = makeOpt ? makeOpt(out) : nn.updates.adam(out, { learningRate: 0.02 });
  const steps: nn.StepInfo[] = [];
  try {
    const history = await nn.fit({
      net: out,
      data: sectors(52), // batches of 16: 16, 16, 16, 4
      validation: sectors(30, 7),
      validationBatchSize: 20, // 20 + 10: two recorded forward shapes
      epochs: 3,
      batchSize: 16,
      seed: 2,
      optimizer: opt,
      readEvery: 1,
      lag: 1,
      compiled,
      onStep: (s) => void steps.push(s),
      ...extra,
    });
    return { history, weights: await weights(out), steps };
  } finally {
    opt.dispose();
    nn.disposeLayers(out);
  }
}

function expectSameRun(a: Run, b: Run): void {
  for (const k of ['loss', 'accuracy', 'valLoss', 'valAccuracy'] as const) expect(a.history[k], k).toEqual(b.history[k]);
  expect(a.history.steps).toBe(b.history.steps);
  expect(a.steps.map((s) => [s.step, s.loss, s.accuracy])).toEqual(b.steps.map((s) => [s.step, s.loss, s.accuracy]));
  expect(a.weights).toEqual(b.weights);
}

describe('nn.fit compiled (the default) against eager', () => {
  it('the same losses, accuracies, validation and weights, bit for bit, with a partial last batch', async () => {
    const eager = await run(false);
    let compiled: Run | undefined;
    const before = untracked();
    await expectNoLeak(async () => {
      compiled = await run(true);
    }, 'compiled fit');
    expect(untracked(), 'the recordings are freed when fit returns').toBe(before);
    expect(eager.history.compiled).toBe(false);
    expect(compiled!.history.compiled).toBe(true);
    expect(compiled!.history.eagerReason).toBeUndefined();
    expect(compiled!.history.loss[2]!).toBeLessThan(compiled!.history.loss[0]!);
    expectSameRun(compiled!, eager);
    // Without `compiled`, fit compiles.
    const plain = await run(true, { compiled: undefined });
    expect(plain.history.compiled).toBe(true);
    expectSameRun(plain, eager);
  });

  it('a schedule changing the learning rate every epoch, and a norm constraint changed mid-run, stay live', async () => {
    const schedule = (opt: nn.Optimizer) => (e: nn.EpochLog) => {
      opt.learningRate = 0.05 / (e.epoch + 2);
      opt.totalNormConstraint = e.epoch === 0 ? 0.5 : 0.05;
    };
    const make = (out: nn.Layer) => {
      const opt = nn.updates.momentum(out, { learningRate: 0.05, momentum: 0.9, totalNormConstraint: 1 });
      made.push(opt);
      return opt;
    };
    const made: nn.Optimizer[] = [];
    const withSchedule = async (compiled: boolean) => {
      const at = made.length;
      // onEpoch needs the optimizer: the run's is the one `make` just made.
      return run(compiled, { onEpoch: (e) => schedule(made[at]!)(e) }, make);
    };
    const eager = await withSchedule(false);
    const compiled = await withSchedule(true);
    expect(compiled.history.compiled).toBe(true);
    expectSameRun(compiled, eager);
  });

  it('a run stopped by a checkpoint and resumed compiled ends where an uninterrupted eager one does', async () => {
    const eager = await run(false);
    const file = join(dir, 'resume.ckpt');
    const controller = new AbortController();
    const first = await run(true, {
      signal: controller.signal,
      checkpoint: { path: file },
      onStep: (s) => {
        if (s.globalStep === 6) controller.abort();
      },
    });
    expect(first.history.aborted).toBe(true);
    // A fresh model and optimizer, loaded from the checkpoint.
    const resumed = await run(true, { resumeFrom: file });
    expect(resumed.history.compiled).toBe(true);
    expect(resumed.weights).toEqual(eager.weights);
    expect(resumed.history.loss.at(-1)).toBe(eager.history.loss.at(-1));
    expect(resumed.history.valAccuracy.at(-1)).toBe(eager.history.valAccuracy.at(-1));
  });
});

describe('nn.fit falls back to eager steps where a step cannot be compiled, and says why', () => {
  it('a seeded DropoutLayer: trains eagerly, eagerReason names the layer', async () => {
    const out = mlp(3, { p: 0.3, seed: 4 });
    await expectNoLeak(async () => {
      const h = await nn.fit({ net: out, data: sectors(32), epochs: 1, batchSize: 8 }); // fit's own Adam, freed by fit
      expect(h.compiled).toBe(false);
      expect(h.eagerReason).toMatch(/DropoutLayer.*has a seed.*trained eagerly/);
      expect(h.steps).toBe(4);
    }, 'seeded dropout');
    nn.disposeLayers(out);
  });

  it('a loss that reads values: the first step is refused before it updates anything, then eager, the same numbers', async () => {
    const reading: nn.LossFn = (o, t) => {
      o.data().catch(() => {}); // not allowed in a compiled step; harmless eagerly
      return ts.crossEntropy(o, t);
    };
    const eager = await run(false, { loss: reading });
    const fallback = await run(true, { loss: reading });
    expect(fallback.history.compiled).toBe(false);
    expect(fallback.history.eagerReason).toMatch(/^compile: data\(\) was called inside a function being compiled.*trained eagerly from epoch 1, step 1/);
    expectSameRun(fallback, eager);
  });

  it('a loss that keeps a tensor at every call: two recordings that keep nothing, then eager, no throw', async () => {
    const kept: ts.Tensor[] = [];
    const hoarding: nn.LossFn = (o, t) => {
      kept.push(ts.keep(o.sum()));
      return ts.crossEntropy(o, t);
    };
    const h = await run(true, { loss: hoarding });
    expect(h.history.compiled).toBe(false);
    expect(h.history.eagerReason).toMatch(/batch size 16 could not be recorded twice in a row.*from step 3/);
    expect(h.history.steps).toBe(12);
    ts.dispose(kept);
  });

  it('rejects a compiled option that is not a boolean', async () => {
    const out = mlp(1);
    await expect(nn.fit({ net: out, data: sectors(8), compiled: 'yes' as unknown as boolean })).rejects.toThrow(
      /fit: compiled must be true or false, got string/,
    );
    nn.disposeLayers(out);
  });
});
