// Learning-rate schedules against torch.optim.lr_scheduler (tests/fixtures/schedules.json, from
// scripts/golden/schedules.py): the rate when the schedule is made and after each of 20 steps.
// Schedules are plain TypeScript; the optimizer is a real one, on the reference backend, and
// takes an SGD step at each rate, so the parameter shows the rates were used.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '@tessera/nn';
import { ts, expectClose, loadGolden } from '../helpers/index.js';

const { schedules, updates } = nn;

interface ScheduleCase {
  name: string;
  schedule: 'step' | 'exponential' | 'cosine' | 'reduceOnPlateau';
  learningRate: number;
  options: Record<string, unknown>;
  torch: string;
  initial: number;
  lrs: number[];
  metrics?: number[];
}
const golden = loadGolden<{ steps: number; cases: ScheduleCase[] }>('schedules.json');

/** Relative closeness for float64 rates: PyTorch's cos and V8's may differ in the last bit. */
function expectRate(actual: number, expected: number, what: string): void {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(1e-13 * Math.abs(expected) + 1e-18);
}

/** The case's schedule on `opt`, as a function of the 0-based step that steps it. */
function make(c: ScheduleCase, opt: nn.Optimizer): (k: number) => number {
  const o = c.options as never;
  if (c.schedule === 'reduceOnPlateau') {
    const p = schedules.reduceOnPlateau(opt, o);
    return (k) => p.step(c.metrics![k]!);
  }
  const s = c.schedule === 'step' ? schedules.step(opt, o) : c.schedule === 'exponential' ? schedules.exponential(opt, o) : schedules.cosine(opt, o);
  return () => s.step();
}

describe('schedules against PyTorch', () => {
  beforeAll(async () => {
    await ts.init({ backend: 'reference' });
  });

  it('covers every schedule', () => {
    const covered = new Set(golden.cases.map((c) => c.schedule));
    const factories = Object.entries(schedules)
      .filter(([, v]) => typeof v === 'function')
      .map(([k]) => k);
    expect([...covered].sort()).toEqual(factories.sort());
  });

  for (const c of golden.cases) {
    it(`${c.name} (${c.torch})`, async () => {
      const w = ts.keep(ts.zeros([1], { requiresGrad: true }));
      const opt = updates.sgd([w], { learningRate: c.learningRate });
      const step = make(c, opt);
      expectRate(opt.learningRate, c.initial, 'initial rate');
      let used = 0;
      for (let k = 0; k < golden.steps; k++) {
        used += opt.learningRate;
        w.grad = ts.keep(ts.ones([1])); // p -= lr * 1
        await opt.step();
        const lr = step(k);
        expect(lr, 'step returns the new rate').toBe(opt.learningRate);
        expectRate(lr, c.lrs[k]!, `step ${k + 1}`);
      }
      expectClose(await w.data(), [-used], { rtol: 1e-5, what: 'the parameter after 20 SGD steps' });
      opt.dispose();
      w.dispose();
    });
  }
});

describe('schedule behaviour', () => {
  const opt = (lr = 0.1) => updates.sgd([], { learningRate: lr });

  it('exposes its base rate and step count, and follows a rate set by hand (chainable, as PyTorch)', () => {
    const o = opt(1);
    const s = schedules.step(o, { stepSize: 2, gamma: 0.5 });
    expect(s.name).toBe('step');
    expect(s.optimizer).toBe(o);
    expect(s.baseLearningRate).toBe(1);
    expect([s.step(), s.step()]).toEqual([1, 0.5]);
    expect(s.stepCount).toBe(2);
    o.learningRate = 0.2;
    expect([s.step(), s.step()]).toEqual([0.2, 0.1]);
  });

  it('cosine warm-up sets the starting rate at once and follows the documented closed form', () => {
    const o = opt(0.1);
    const s = schedules.cosine(o, { tMax: 10, etaMin: 0.001, warmupSteps: 4, warmupStartFactor: 0.2 });
    expect(o.learningRate).toBeCloseTo(0.02, 15);
    for (let k = 1; k <= 14; k++) {
      const expected = k < 4 ? 0.1 * (0.2 + (0.8 * k) / 4) : 0.001 + ((0.1 - 0.001) * (1 + Math.cos((Math.PI * (k - 4)) / 10))) / 2;
      expect(s.step(), `step ${k}`).toBeCloseTo(expected, 14);
    }
    expect(o.learningRate).toBeCloseTo(0.001, 14);
  });

  it('reduceOnPlateau exposes its state', () => {
    const s = schedules.reduceOnPlateau(opt(1), { patience: 1, cooldown: 1, factor: 0.5 });
    expect(s.best).toBe(Infinity);
    s.step(1);
    s.step(2);
    expect([s.best, s.badSteps, s.cooldownLeft]).toEqual([1, 1, 0]);
    expect(s.step(3)).toBe(0.5);
    expect([s.badSteps, s.cooldownLeft, s.stepCount]).toEqual([0, 1, 3]);
    s.step(Number.NaN); // never better; ignored in cooldown
    expect([s.badSteps, s.cooldownLeft]).toEqual([0, 0]);
  });

  it('several schedules on one optimizer compose, each scaling the current rate', () => {
    const o = opt(1);
    const a = schedules.exponential(o, { gamma: 0.5 });
    const b = schedules.step(o, { stepSize: 2, gamma: 0.1 });
    a.step();
    b.step();
    a.step();
    b.step();
    expect(o.learningRate).toBeCloseTo(0.025, 15);
  });
});

describe('schedule errors', () => {
  const opt = () => updates.sgd([], { learningRate: 0.1 });

  it('names the bad argument', () => {
    expect(() => schedules.step(opt(), { stepSize: -1 })).toThrow(/schedules\.step: stepSize must be an integer >= 1, got -1/);
    expect(() => schedules.step(opt(), { stepSize: 2.5 })).toThrow(/stepSize must be an integer >= 1, got 2\.5/);
    expect(() => schedules.step(opt(), {} as never)).toThrow(/schedules\.step: stepSize is required/);
    expect(() => schedules.step(opt(), { stepSize: 2, gamma: 0 })).toThrow(/schedules\.step: gamma must be a number > 0, got 0/);
    expect(() => schedules.exponential(opt(), { gamma: -0.5 })).toThrow(/schedules\.exponential: gamma must be a number > 0, got -0\.5/);
    expect(() => schedules.exponential(opt(), undefined as never)).toThrow(/schedules\.exponential: gamma is required/);
    expect(() => schedules.cosine(opt(), { tMax: 0 })).toThrow(/schedules\.cosine: tMax must be an integer >= 1, got 0/);
    expect(() => schedules.cosine(opt(), { tMax: 5, etaMin: -1 })).toThrow(/etaMin must be a number >= 0, got -1/);
    expect(() => schedules.cosine(opt(), { tMax: 5, warmupSteps: -2 })).toThrow(/warmupSteps must be an integer >= 0, got -2/);
    expect(() => schedules.cosine(opt(), { tMax: 5, warmupSteps: 2, warmupStartFactor: 0 })).toThrow(/warmupStartFactor must be a number in \(0, 1\], got 0/);
    expect(() => schedules.cosine(opt(), { tMax: 5, t_max: 3 } as never)).toThrow(/schedules\.cosine: unknown option 't_max'\. Valid options: tMax, etaMin/);
    expect(() => schedules.reduceOnPlateau(opt(), { factor: 1 })).toThrow(/schedules\.reduceOnPlateau: factor must be a number in \[0, 1\), got 1/);
    expect(() => schedules.reduceOnPlateau(opt(), { patience: -1 })).toThrow(/patience must be an integer >= 0, got -1/);
    expect(() => schedules.reduceOnPlateau(opt(), { mode: 'maximum' as never })).toThrow(/mode must be 'min' or 'max', got maximum/);
    expect(() => schedules.reduceOnPlateau(opt(), { thresholdMode: 'relative' as never })).toThrow(/thresholdMode must be 'rel' or 'abs', got relative/);
    expect(() => schedules.reduceOnPlateau(opt(), { minLr: Number.NaN })).toThrow(/minLr must be a number >= 0, got NaN/);
  });

  it('needs an optimizer, and a metric for reduceOnPlateau only', () => {
    expect(() => schedules.cosine({ learningRate: 0.1 } as never, { tMax: 5 })).toThrow(
      /schedules\.cosine: the first argument must be an Optimizer \(from updates\.\*\), got object/,
    );
    expect(() => (schedules.reduceOnPlateau(opt()).step as (m?: unknown) => number)()).toThrow(
      /schedules\.reduceOnPlateau\.step: metric must be a number \(e\.g\. await loss\.item\(\)\), got undefined/,
    );
    expect(() => (schedules.cosine(opt(), { tMax: 5 }).step as (m?: unknown) => number)(0.5)).toThrow(/schedules\.cosine\.step takes no argument/);
  });

  it('leaves the rate alone when the options are bad', () => {
    const o = opt();
    expect(() => schedules.cosine(o, { tMax: 5, warmupSteps: 2, warmupStartFactor: 2 })).toThrow(/warmupStartFactor/);
    expect(o.learningRate).toBe(0.1);
  });
});
