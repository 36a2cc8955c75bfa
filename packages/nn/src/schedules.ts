/**
 * Learning-rate schedules, as `torch.optim.lr_scheduler`, step for step. A schedule wraps an
 * `Optimizer` (from `updates.*`) and sets its `learningRate`: call `s.step()` once per epoch (or
 * per batch, if that is what you count), after the optimizer's steps of that epoch, as in
 * PyTorch; `reduceOnPlateau` takes the monitored metric, `s.step(valLoss)`.
 *
 * The base rate is the optimizer's learning rate when the schedule is made. The updates are
 * PyTorch's chainable (recursive) forms, computed in float64 like Python's floats, so the rates
 * equal PyTorch's to the last bit or so; the closed forms in each factory's comment are what they
 * amount to. As in PyTorch, a rate you set by hand between steps is carried forward by
 * `step`, `exponential` and `cosine` (each multiplies the current rate), not replaced.
 */
import { Optimizer } from './updates.js';

/**
 * A learning-rate schedule attached to an optimizer (step, exponential, cosine).
 *
 * @example
 * const opt = updates.sgd(params, { learningRate: 0.1 });
 * const s: schedules.Schedule = schedules.exponential(opt, { gamma: 0.95 });
 * s.step();   // opt.learningRate is now 0.095
 */
export interface Schedule {
  /** The factory name, e.g. 'cosine'. */
  readonly name: string;
  readonly optimizer: Optimizer;
  /** The optimizer's learning rate when the schedule was made. */
  readonly baseLearningRate: number;
  /** Calls to `step` so far (PyTorch's last_epoch). */
  readonly stepCount: number;
  /** Advances one step (epoch), sets the optimizer's learning rate and returns it. */
  step(): number;
}

/**
 * A schedule that lowers the rate when a metric stops improving (PyTorch's ReduceLROnPlateau).
 *
 * @example
 * const opt = updates.adam(params);
 * const s: schedules.PlateauSchedule = schedules.reduceOnPlateau(opt, { patience: 2 });
 * s.step(0.9);   // the validation loss of this epoch
 */
export interface PlateauSchedule {
  readonly name: 'reduceOnPlateau';
  readonly optimizer: Optimizer;
  readonly baseLearningRate: number;
  readonly stepCount: number;
  /** The best metric so far (Infinity in 'min' mode, -Infinity in 'max' mode before any). */
  readonly best: number;
  /** Steps since the last improvement (reset by a reduction and during cooldown). */
  readonly badSteps: number;
  /** Steps of cooldown left after the last reduction. */
  readonly cooldownLeft: number;
  /** Records this step's metric, lowers the rate if it plateaued, and returns the rate. */
  step(metric: number): number;
}

/** Options of `step`. @example const opts: schedules.StepOptions = { stepSize: 10, gamma: 0.5 }; */
export interface StepOptions {
  /** Steps between two decays (PyTorch's step_size); required, an integer >= 1. */
  stepSize: number;
  /** Multiplies the rate every stepSize steps; default 0.1. */
  gamma?: number;
}

/** Options of `exponential`. @example const opts: schedules.ExponentialOptions = { gamma: 0.95 }; */
export interface ExponentialOptions {
  /** Multiplies the rate every step; required, > 0. */
  gamma: number;
}

/** Options of `cosine`. @example const opts: schedules.CosineOptions = { tMax: 50, etaMin: 1e-5, warmupSteps: 5 }; */
export interface CosineOptions {
  /** Steps of the cosine from the base rate down to etaMin (PyTorch's T_max); an integer >= 1. */
  tMax: number;
  /** The lowest rate; default 0. */
  etaMin?: number;
  /** Steps of linear warm-up before the cosine; default 0 (none). */
  warmupSteps?: number;
  /** The warm-up starts at warmupStartFactor * base; in (0, 1], default 1/3 (PyTorch's LinearLR). */
  warmupStartFactor?: number;
}

/** Options of `reduceOnPlateau`. @example const opts: schedules.PlateauOptions = { mode: 'max', factor: 0.5, patience: 3 }; */
export interface PlateauOptions {
  /** 'min' (default): lower is better, e.g. a loss; 'max': higher is better, e.g. an accuracy. */
  mode?: 'min' | 'max';
  /** Multiplies the rate at a reduction; in [0, 1), default 0.1. */
  factor?: number;
  /** Steps without improvement tolerated; the rate drops at the next one. An integer >= 0, default 10. */
  patience?: number;
  /** How much better counts as better; default 1e-4. */
  threshold?: number;
  /** 'rel' (default): better than best * (1 -/+ threshold); 'abs': better than best -/+ threshold. */
  thresholdMode?: 'rel' | 'abs';
  /** Steps after a reduction during which bad steps are not counted; default 0. */
  cooldown?: number;
  /** The rate never goes below this; default 0. */
  minLr?: number;
  /** A reduction smaller than this is skipped; default 1e-8. */
  eps?: number;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object' || typeof v === 'function') return typeof v;
  return String(v);
}

function checkOptimizer(name: string, opt: unknown): Optimizer {
  if (!(opt instanceof Optimizer)) {
    throw new Error(`schedules.${name}: the first argument must be an Optimizer (from updates.*), got ${opt === null ? 'null' : typeof opt}`);
  }
  return opt;
}

function checkOptions(name: string, opts: unknown, allowed: readonly string[], required: readonly string[] = []): Record<string, unknown> {
  const given = opts ?? {};
  if (typeof given !== 'object' || Array.isArray(given)) throw new Error(`schedules.${name}: options must be an object, got ${describe(opts)}`);
  const o = given as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new Error(`schedules.${name}: unknown option '${k}'. Valid options: ${allowed.join(', ')}`);
  }
  for (const k of required) if (o[k] === undefined) throw new Error(`schedules.${name}: ${k} is required`);
  return o;
}

/** A finite number that passes `ok`, else an error naming the option and `expected`. */
function num(name: string, key: string, v: unknown, fallback: number, ok: (x: number) => boolean, expected: string): number {
  const x = v === undefined ? fallback : v;
  if (typeof x !== 'number' || !Number.isFinite(x) || !ok(x)) throw new Error(`schedules.${name}: ${key} must be ${expected}, got ${describe(x)}`);
  return x;
}

function int(name: string, key: string, v: unknown, fallback: number, min: number): number {
  return num(name, key, v, fallback, (x) => Number.isInteger(x) && x >= min, `an integer >= ${min}`);
}

/** A chainable schedule: `next(k, lr)` is the rate after step k (1-based) given the current rate. */
function chainable(name: string, opt: Optimizer, next: (k: number, lr: number) => number, initial?: number): Schedule {
  const base = opt.learningRate;
  let k = 0;
  if (initial !== undefined) opt.learningRate = initial;
  return {
    name,
    optimizer: opt,
    baseLearningRate: base,
    get stepCount() {
      return k;
    },
    step(...args: unknown[]): number {
      if (args.length) throw new Error(`schedules.${name}.step takes no argument (only reduceOnPlateau's step takes a metric)`);
      k++;
      opt.learningRate = next(k, opt.learningRate);
      return opt.learningRate;
    },
  };
}

/**
 * Decays the rate by `gamma` every `stepSize` steps (PyTorch's StepLR): after step k the rate
 * is base * gamma^floor(k / stepSize).
 *
 * @example
 * const opt = updates.momentum(params, { learningRate: 0.1 });
 * const s = schedules.step(opt, { stepSize: 30, gamma: 0.1 });   // 0.1, then 0.01 from epoch 30
 * for (let epoch = 0; epoch < 90; epoch++) {
 *   // ... the epoch's opt.step(loss) calls ...
 *   s.step();
 * }
 */
export function step(optimizer: Optimizer, opts: StepOptions): Schedule {
  const opt = checkOptimizer('step', optimizer);
  const o = checkOptions('step', opts, ['stepSize', 'gamma'], ['stepSize']);
  const stepSize = int('step', 'stepSize', o.stepSize, 1, 1);
  const gamma = num('step', 'gamma', o.gamma, 0.1, (x) => x > 0, 'a number > 0');
  return chainable('step', opt, (k, lr) => (k % stepSize !== 0 ? lr : lr * gamma));
}

/**
 * Multiplies the rate by `gamma` every step (PyTorch's ExponentialLR): after step k the rate is
 * base * gamma^k.
 *
 * @example
 * const opt = updates.adam(params, { learningRate: 1e-3 });
 * const s = schedules.exponential(opt, { gamma: 0.9 });
 * s.step();   // 9e-4
 */
export function exponential(optimizer: Optimizer, opts: ExponentialOptions): Schedule {
  const opt = checkOptimizer('exponential', optimizer);
  const o = checkOptions('exponential', opts, ['gamma'], ['gamma']);
  const gamma = num('exponential', 'gamma', o.gamma, 1, (x) => x > 0, 'a number > 0');
  return chainable('exponential', opt, (_k, lr) => lr * gamma);
}

/**
 * Cosine annealing (PyTorch's CosineAnnealingLR), with an optional linear warm-up first. With
 * W = warmupSteps and f = warmupStartFactor, the rate after step k (k = 0: when the schedule is
 * made) is
 *
 *   k < W:   base * (f + (1 - f) * k / W)                             (from f * base up to base)
 *   k >= W:  etaMin + (base - etaMin) * (1 + cos(pi * (k - W) / tMax)) / 2
 *
 * so it reaches etaMin at step W + tMax. That is PyTorch's
 * `SequentialLR(opt, [LinearLR(opt, start_factor=f, total_iters=W), CosineAnnealingLR(opt,
 * T_max=tMax, eta_min=etaMin)], milestones=[W])`; without warm-up, plain CosineAnnealingLR.
 * Making the schedule sets the rate to f * base at once when W > 0. Past W + tMax the rate
 * climbs back along the same cosine (period 2 * tMax), as in PyTorch: pick tMax to cover the
 * run, or stop calling `step` to hold etaMin.
 *
 * @example
 * const opt = updates.sgd(params, { learningRate: 0.1 });
 * const epochs = 20;
 * const s = schedules.cosine(opt, { tMax: epochs - 3, warmupSteps: 3, warmupStartFactor: 0.1 });
 * for (let epoch = 0; epoch < epochs; epoch++) {
 *   // ... train one epoch at opt.learningRate ...
 *   s.step();
 * }
 */
export function cosine(optimizer: Optimizer, opts: CosineOptions): Schedule {
  const name = 'cosine';
  const opt = checkOptimizer(name, optimizer);
  const o = checkOptions(name, opts, ['tMax', 'etaMin', 'warmupSteps', 'warmupStartFactor'], ['tMax']);
  const tMax = int(name, 'tMax', o.tMax, 1, 1);
  const etaMin = num(name, 'etaMin', o.etaMin, 0, (x) => x >= 0, 'a number >= 0');
  const warmup = int(name, 'warmupSteps', o.warmupSteps, 0, 0);
  const f = num(name, 'warmupStartFactor', o.warmupStartFactor, 1 / 3, (x) => x > 0 && x <= 1, 'a number in (0, 1]');
  const base = opt.learningRate;
  // CosineAnnealingLR.get_lr's chainable form, t >= 1 steps into the cosine.
  const cos = (t: number, lr: number): number => {
    if ((((t - 1 - tMax) % (2 * tMax)) + 2 * tMax) % (2 * tMax) === 0) {
      return lr + ((base - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2;
    }
    return ((1 + Math.cos((Math.PI * t) / tMax)) / (1 + Math.cos((Math.PI * (t - 1)) / tMax))) * (lr - etaMin) + etaMin;
  };
  if (warmup === 0) return chainable(name, opt, cos);
  return chainable(
    name,
    opt,
    (k, lr) => {
      // LinearLR.get_lr's chainable form (end_factor 1), then SequentialLR's switch at the
      // milestone, where the cosine restarts from its closed form at t = 0 (the base rate).
      if (k < warmup) return lr * (1 + (1 - f) / (warmup * f + (k - 1) * (1 - f)));
      if (k === warmup) return etaMin + ((base - etaMin) * (1 + Math.cos(0))) / 2;
      return cos(k - warmup, lr);
    },
    base * f,
  );
}

/**
 * Lowers the rate by `factor` when a metric has not improved for more than `patience` steps
 * (PyTorch's ReduceLROnPlateau, the same rules): a metric is better than the best so far when it
 * is below best * (1 - threshold) ('min', 'rel'), below best - threshold ('min', 'abs'), above
 * best * (1 + threshold) ('max', 'rel') or above best + threshold ('max', 'abs'). After a
 * reduction, `cooldown` steps pass before bad steps count again; the rate never drops below
 * `minLr`, and a reduction smaller than `eps` is skipped. NaN is never better.
 *
 * @example
 * const opt = updates.adam(params, { learningRate: 1e-3 });
 * const s = schedules.reduceOnPlateau(opt, { factor: 0.5, patience: 3, minLr: 1e-5 });
 * const valLosses = [0.9, 0.7, 0.71, 0.72, 0.7, 0.73];   // e.g. await loss.item() each epoch
 * for (const valLoss of valLosses) s.step(valLoss);
 */
export function reduceOnPlateau(optimizer: Optimizer, opts: PlateauOptions = {}): PlateauSchedule {
  const name = 'reduceOnPlateau';
  const opt = checkOptimizer(name, optimizer);
  const o = checkOptions(name, opts, ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps']);
  const mode = o.mode ?? 'min';
  if (mode !== 'min' && mode !== 'max') throw new Error(`schedules.${name}: mode must be 'min' or 'max', got ${describe(mode)}`);
  const thresholdMode = o.thresholdMode ?? 'rel';
  if (thresholdMode !== 'rel' && thresholdMode !== 'abs') {
    throw new Error(`schedules.${name}: thresholdMode must be 'rel' or 'abs', got ${describe(thresholdMode)}`);
  }
  const factor = num(name, 'factor', o.factor, 0.1, (x) => x >= 0 && x < 1, 'a number in [0, 1)');
  const patience = int(name, 'patience', o.patience, 10, 0);
  const threshold = num(name, 'threshold', o.threshold, 1e-4, (x) => x >= 0, 'a number >= 0');
  const cooldown = int(name, 'cooldown', o.cooldown, 0, 0);
  const minLr = num(name, 'minLr', o.minLr, 0, (x) => x >= 0, 'a number >= 0');
  const eps = num(name, 'eps', o.eps, 1e-8, (x) => x >= 0, 'a number >= 0');

  const isBetter = (a: number, best: number): boolean => {
    if (mode === 'min') return thresholdMode === 'rel' ? a < best * (1 - threshold) : a < best - threshold;
    return thresholdMode === 'rel' ? a > best * (threshold + 1) : a > best + threshold;
  };
  let best = mode === 'min' ? Infinity : -Infinity;
  let bad = 0;
  let cooldownLeft = 0;
  let k = 0;
  return {
    name,
    optimizer: opt,
    baseLearningRate: opt.learningRate,
    get stepCount() {
      return k;
    },
    get best() {
      return best;
    },
    get badSteps() {
      return bad;
    },
    get cooldownLeft() {
      return cooldownLeft;
    },
    step(metric: number): number {
      if (typeof metric !== 'number') {
        throw new Error(`schedules.${name}.step: metric must be a number (e.g. await loss.item()), got ${metric === null ? 'null' : typeof metric}`);
      }
      k++;
      if (isBetter(metric, best)) {
        best = metric;
        bad = 0;
      } else {
        bad++;
      }
      if (cooldownLeft > 0) {
        cooldownLeft--;
        bad = 0; // bad steps during cooldown do not count
      }
      if (bad > patience) {
        const old = opt.learningRate;
        const lowered = Math.max(old * factor, minLr);
        if (old - lowered > eps) opt.learningRate = lowered;
        cooldownLeft = cooldown;
        bad = 0;
      }
      return opt.learningRate;
    },
  };
}
