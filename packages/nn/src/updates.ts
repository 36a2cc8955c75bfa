/**
 * Optimizers, as in `lasagne.updates`, with PyTorch's formulas (torch.optim) so that runs can
 * be compared with PyTorch step by step. Each optimizer keeps its state (momentum buffers,
 * moment estimates) on the GPU and updates every parameter in place with one fused kernel
 * dispatch (`ts.applyUpdate`): a step reads nothing back and allocates nothing after the
 * first.
 *
 * Differences from Lasagne, on purpose:
 * - momentum / nesterovMomentum keep PyTorch's buffer (buf = momentum * buf + g; p -= lr * buf).
 *   It equals Lasagne's velocity form while the learning rate is constant, and behaves like
 *   PyTorch when the rate changes between steps.
 * - rmsprop is PyTorch's: p -= lr * g / (sqrt(avg) + eps), eps outside the sqrt, and its
 *   defaults (learningRate 0.01, rho 0.99, epsilon 1e-8). Lasagne puts eps inside the sqrt and
 *   defaults to learning_rate 1, rho 0.9, epsilon 1e-6; `rho` is PyTorch's `alpha`.
 * - adam adds eps after the bias-corrected sqrt (PyTorch), where Lasagne adds it before.
 * - adagrad is PyTorch's: p -= lr * g / (sqrt(sum) + eps), eps outside the sqrt, defaults
 *   learningRate 0.01, epsilon 1e-10, plus lrDecay and initialAccumulatorValue (both 0).
 *   Lasagne: p -= lr * g / sqrt(sum + eps), learning_rate 1, epsilon 1e-6.
 * - adadelta has Lasagne's formula (eps inside both square roots, the delta average taken
 *   before the learning rate) but PyTorch's default rho 0.9, where Lasagne's is 0.95
 *   (learningRate 1 and epsilon 1e-6 in both).
 * - adamax is PyTorch's: u = max(beta2 * u, |g| + eps); p -= lr / (1 - beta1^t) * m / u, eps
 *   inside the max. Lasagne (and the paper) take u = max(beta2 * u, |g|) and divide by u + eps.
 *   The defaults are the same (learningRate 0.002, beta1 0.9, beta2 0.999, epsilon 1e-8).
 * - `weightDecay` is L2 added to the gradient (torch.optim); adamw decouples it.
 */
import * as ts from '@tessera/core';
import { opError, Tensor, type OptimHyper, type OptimRule } from '@tessera/core';
import { getAllParams, type LayerSource } from './layers/helper.js';

/**
 * What an optimizer updates: a list of tensors, or layers (then the trainable parameters
 * below them are looked up at every step, so freezing a layer with `setTrainable` takes
 * effect at once).
 *
 * @example
 * updates.adam(net.out, { learningRate: 1e-3 });   // follows setTrainable changes
 */
export type ParamSource = readonly Tensor[] | LayerSource;

/** Options every optimizer takes. @example const opts: updates.CommonOptions = { learningRate: 1e-3, weightDecay: 1e-4, totalNormConstraint: 5 }; */
export interface CommonOptions {
  learningRate?: number;
  /** L2 penalty added to the gradient (decoupled for adamw). */
  weightDecay?: number;
  /** Rescale all gradients together so their global L2 norm is at most this (computed on the GPU). */
  totalNormConstraint?: number;
}

/** Options of sgd (learningRate is required). @example const opts: updates.SgdOptions = { learningRate: 0.1 }; */
export interface SgdOptions extends CommonOptions {
  learningRate: number;
}
/** Options of momentum and nesterovMomentum. @example const opts: updates.MomentumOptions = { learningRate: 0.01, momentum: 0.9 }; */
export interface MomentumOptions extends SgdOptions {
  /** Default 0.9, as in Lasagne. */
  momentum?: number;
}
/** Options of rmsprop. @example const opts: updates.RmspropOptions = { learningRate: 1e-3, rho: 0.9 }; */
export interface RmspropOptions extends CommonOptions {
  /** Decay of the squared-gradient average, default 0.99 (PyTorch's alpha). */
  rho?: number;
  /** Alias of rho, PyTorch's name. */
  alpha?: number;
  epsilon?: number;
  momentum?: number;
}
/** Options of adam, adamw and adamax. @example const opts: updates.AdamOptions = { learningRate: 1e-3, beta2: 0.99 }; */
export interface AdamOptions extends CommonOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** Options of adagrad. @example const opts: updates.AdagradOptions = { learningRate: 0.05, lrDecay: 1e-3 }; */
export interface AdagradOptions extends CommonOptions {
  /** Added to the root of the squared-gradient sum, default 1e-10 (PyTorch). */
  epsilon?: number;
  /** The step at time t uses learningRate / (1 + (t - 1) * lrDecay); default 0 (PyTorch's lr_decay). */
  lrDecay?: number;
  /** Starting value of the squared-gradient sum, default 0 (PyTorch's initial_accumulator_value). */
  initialAccumulatorValue?: number;
}
/** Options of adadelta. @example const opts: updates.AdadeltaOptions = { rho: 0.95, epsilon: 1e-6 }; */
export interface AdadeltaOptions extends CommonOptions {
  /** Decay of the squared-gradient and squared-delta averages, default 0.9 (PyTorch; Lasagne 0.95). */
  rho?: number;
  epsilon?: number;
}

/**
 * The names of each rule's state tensors, in the order the update kernel takes them:
 * torch.optim's state keys, so a checkpoint reads like a PyTorch optimizer state dict.
 * rmsprop has its momentum_buffer only with momentum > 0.
 *
 * @example
 * updates.STATE_SLOTS.adam;   // ['exp_avg', 'exp_avg_sq']
 */
export const STATE_SLOTS: Readonly<Record<OptimRule, readonly string[]>> = {
  sgd: [],
  momentum: ['momentum_buffer'],
  nesterov: ['momentum_buffer'],
  rmsprop: ['square_avg', 'momentum_buffer'],
  adam: ['exp_avg', 'exp_avg_sq'],
  adamw: ['exp_avg', 'exp_avg_sq'],
  adagrad: ['sum'],
  adadelta: ['square_avg', 'acc_delta'],
  adamax: ['exp_avg', 'exp_inf'],
};

/**
 * An optimizer's state, as `Optimizer.state()` returns it and `loadState()` takes it: the
 * kind and settings, the step counts, and the state tensors by stable names
 * `optim.<param>.<slot>` (e.g. `optim.conv1.W.exp_avg`), `<param>` being the names given
 * (`nn.paramNames`, as checkpoints use).
 *
 * @example
 * const opt = updates.adam(net.out);
 * const s: updates.OptimizerState = opt.state(nn.paramNames(net.out));
 * console.log(s.kind, s.stepCount, [...s.tensors.keys()]);   // 'adam', 0, [] before the first step
 */
export interface OptimizerState<T extends Tensor | Float32Array = Tensor | Float32Array> {
  /** The factory name, e.g. 'adam'; loading into another kind is an error. */
  kind: string;
  learningRate: number;
  totalNormConstraint: number | null;
  /** The rule's fixed settings: beta1, beta2, eps, momentum, weightDecay, lrDecay, ... as set. */
  hyper: Record<string, number>;
  /** Steps taken (`stepCount`). */
  stepCount: number;
  /** Each parameter's own update count (torch.optim's `state[p]['step']`), by parameter name. */
  steps: Record<string, number>;
  /**
   * The state tensors. From `state()`: the optimizer's own tensors, valid until its next step
   * (read them, do not dispose them). For `loadState()`: tensors or Float32Arrays, copied.
   */
  tensors: ReadonlyMap<string, T>;
}

/** Per-parameter state: buffers and the parameter's own step count, as torch.optim keeps. */
interface ParamState {
  buffers: Tensor[];
  step: number;
}

function isTensorList(src: ParamSource): src is readonly Tensor[] {
  // An empty array counts as an (empty) list of tensors.
  return Array.isArray(src) && src.every((p: unknown) => p instanceof Tensor);
}

/**
 * A configured optimizer. `await opt.step(loss)` runs backward, updates the parameters on the
 * GPU and frees the gradients; nothing is read back.
 *
 * @example
 * const net = models.lenet5({ seed: 1 });            // its last layer is linear: logits
 * const opt = updates.adam(getAllParams(net.out, { trainable: true }), { learningRate: 1e-3 });
 * for (const [x, y] of batches) {
 *   const loss = ts.tidy(() => objectives.categoricalCrossentropy(getOutput(net.out, x), y, { fromLogits: true }).mean());
 *   await opt.step(loss);
 *   loss.dispose();
 * }
 * opt.learningRate = 1e-4;   // takes effect at the next step
 */
export class Optimizer {
  private lr: number;
  private readonly perParam = new Map<Tensor, ParamState>();
  private disposed = false;
  /** Steps taken (calls to `step` / `update`). */
  stepCount = 0;

  constructor(
    /** The factory name, e.g. 'adam'. */
    readonly name: string,
    readonly rule: OptimRule,
    private readonly source: ParamSource,
    private readonly hyper: Omit<OptimHyper, 'lr' | 'step'>,
    learningRate: number,
    /** Global gradient-norm limit, or null. */
    public totalNormConstraint: number | null = null,
    /** The value every state tensor starts from (adagrad's initialAccumulatorValue), default 0. */
    private readonly initialState = 0,
  ) {
    this.lr = checkRate(name, learningRate);
    if (isTensorList(source)) {
      source.forEach((p, i) => {
        if (p.dtype !== 'float32') throw new Error(`updates.${name}: parameter ${i} is ${p.dtype}; only float32 tensors can be trained`);
      });
      if (new Set(source).size !== source.length) throw new Error(`updates.${name}: the parameter list contains the same tensor twice`);
    } else {
      getAllParams(source as LayerSource); // validates the source now rather than at the first step
    }
  }

  /** The learning rate of the next step; may be changed between steps. */
  get learningRate(): number {
    return this.lr;
  }

  set learningRate(value: number) {
    this.lr = checkRate(this.name, value);
  }

  /** The parameters this optimizer updates (for layer sources, the trainable ones now). */
  get params(): Tensor[] {
    return isTensorList(this.source) ? [...this.source] : getAllParams(this.source as LayerSource, { trainable: true });
  }

  /** The state tensors of one parameter (empty before its first update). */
  stateOf(param: Tensor): readonly Tensor[] {
    return this.perParam.get(param)?.buffers ?? [];
  }

  /**
   * Backpropagates from `loss` (a scalar), updates every parameter that received a gradient,
   * then frees the gradients. Without `loss`, uses gradients already accumulated by your own
   * `backward()` calls. Returns once the work is queued; it never waits for the GPU.
   */
  async step(loss?: Tensor): Promise<void> {
    this.checkAlive();
    if (loss !== undefined) {
      if (!(loss instanceof Tensor)) throw new Error(`updates.${this.name}.step: loss must be a Tensor, got ${loss === null ? 'null' : typeof loss}`);
      loss.backward();
    }
    this.update();
  }

  /** The synchronous core of `step`: applies the accumulated gradients and frees them. */
  update(): void {
    this.checkAlive();
    const params = this.params.filter((p) => p.grad && !p.disposed);
    // Host-side counters advance again at each replay of a compiled step (ts.compile).
    ts.hostEffect(() => this.stepCount++);
    const scale =
      this.totalNormConstraint !== null && params.length
        ? globalNormScale(
            params.map((p) => p.grad!),
            this.totalNormConstraint,
          )
        : undefined;
    try {
      for (const p of params) {
        const st = this.stateFor(p);
        // A getter: a compiled step re-reads the learning rate and advances the step count.
        const hyper = () => ({ ...this.hyper, lr: this.lr, step: ++st.step });
        ts.applyUpdate(this.rule, p, p.grad!, st.buffers, hyper, scale);
      }
    } finally {
      scale?.dispose();
      this.zeroGrad();
    }
  }

  /** Frees the gradients of this optimizer's parameters (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /**
   * The state to checkpoint (see `OptimizerState`): settings, step counts and the state tensors
   * named `optim.<param>.<slot>`. `names` names the parameters (default: their index in
   * `params`, '0', '1', ...); a parameter with state but no name is an error.
   *
   * @example
   * const opt = updates.adam(net.out);
   * const s = opt.state(nn.paramNames(net.out));
   * await s.tensors.get('optim.fc1.W.exp_avg')?.data();   // after a step: fc1.W's first moment
   */
  state(names?: ReadonlyMap<Tensor, string>): OptimizerState<Tensor> {
    this.checkAlive();
    const nameOf = names ?? new Map(this.params.map((p, i) => [p, String(i)]));
    const slots = this.slots();
    const tensors = new Map<string, Tensor>();
    const steps: Record<string, number> = {};
    for (const [p, st] of this.perParam) {
      const name = nameOf.get(p);
      if (name === undefined) {
        throw opError(
          `updates.${this.name}.state`,
          `a parameter of shape ${ts.fmtShape(p.shape)} has optimizer state but no name`,
          'Pass names that cover every parameter the optimizer updates (nn.paramNames(net))',
        );
      }
      steps[name] = st.step;
      for (const [i, b] of st.buffers.entries()) tensors.set(`optim.${name}.${slots[i]}`, b);
    }
    const { name: kind, lr: learningRate, totalNormConstraint, stepCount } = this;
    return { kind, learningRate, totalNormConstraint, hyper: this.settings(), stepCount, steps, tensors };
  }

  /**
   * Restores a state from `state()` (of this optimizer, or one built the same way in another
   * process), as torch's `optimizer.load_state_dict`: the state tensors (copied), the step
   * counts, the learning rate and the norm limit. Everything is checked before anything
   * changes: another kind of optimizer, different fixed settings (betas, momentum, ...), a
   * parameter name this optimizer lacks, a missing or extra tensor, or a shape mismatch are
   * errors that name the tensor. Parameters absent from the state start afresh.
   *
   * @example
   * const opt = updates.adam(net.out, { learningRate: 1e-3 });
   * const net2 = nn.models.lenet5();
   * const fresh = updates.adam(net2.out, { learningRate: 1e-3 });
   * fresh.loadState(opt.state(nn.paramNames(net.out)), nn.paramNames(net2.out));
   */
  loadState(state: OptimizerState, names?: ReadonlyMap<Tensor, string>): void {
    const fn = `updates.${this.name}.loadState`;
    this.checkAlive();
    if (!state || typeof state !== 'object' || !(state.tensors instanceof Map)) throw opError(fn, 'expected a state from optimizer.state()');
    if (state.kind !== this.name) {
      throw opError(fn, `the state is of a '${state.kind}' optimizer, this one is '${this.name}'`, `Build a '${state.kind}' optimizer to resume it`);
    }
    const mine = this.settings();
    const keys = new Set([...Object.keys(mine), ...Object.keys(state.hyper ?? {})]);
    const differ = [...keys].filter((k) => mine[k] !== state.hyper?.[k]).map((k) => `${k} ${state.hyper?.[k]} in the state, ${mine[k]} here`);
    if (differ.length) throw opError(fn, `the settings differ: ${differ.join('; ')}`, 'Build the optimizer with the options the state was saved with');
    const params = this.params;
    const byName = new Map(names ? params.filter((p) => names.has(p)).map((p) => [names.get(p)!, p]) : params.map((p, i) => [String(i), p]));
    const slots = this.slots();
    const used = new Set<string>();
    const next = new Map<Tensor, { values: (Tensor | Float32Array)[]; step: number }>();
    for (const [name, step] of Object.entries(state.steps ?? {})) {
      const p = byName.get(name);
      if (!p)
        throw opError(
          fn,
          `the state has parameter '${name}', which this optimizer does not update`,
          `Its parameters: ${[...byName.keys()].join(', ') || 'none'}`,
        );
      if (!Number.isInteger(step) || step < 0) throw opError(fn, `the step count of '${name}' must be an integer >= 0, got ${String(step)}`);
      const values = slots.map((slot) => {
        const key = `optim.${name}.${slot}`;
        const v = state.tensors.get(key);
        if (v === undefined) throw opError(fn, `tensor '${key}' is missing`);
        const shape = v instanceof Float32Array ? [v.length] : v.shape;
        const fits = v instanceof Float32Array ? v.length === p.size : v.shape.length === p.shape.length && v.shape.every((d, i) => d === p.shape[i]);
        if (!fits) throw opError(fn, `tensor '${key}' has shape ${ts.fmtShape(shape)}, but the parameter is ${ts.fmtShape(p.shape)}`);
        used.add(key);
        return v;
      });
      next.set(p, { values, step });
    }
    const extra = [...state.tensors.keys()].filter((k) => !used.has(k));
    if (extra.length)
      throw opError(
        fn,
        `unexpected tensor(s) ${extra.map((k) => `'${k}'`).join(', ')}`,
        `A '${this.name}' optimizer keeps ${slots.join(', ') || 'no state'} per parameter`,
      );
    const stepCount = state.stepCount;
    if (!Number.isInteger(stepCount) || stepCount < 0) throw opError(fn, `stepCount must be an integer >= 0, got ${String(stepCount)}`);
    // Checked: now replace everything.
    const fresh = new Map<Tensor, ParamState>();
    for (const [p, { values, step }] of next) {
      const buffers = values.map((v) => ts.keep(v instanceof Float32Array ? ts.tensor(v, { shape: p.shape }) : ts.assign(ts.zeros(p.shape), v)));
      fresh.set(p, { buffers, step });
    }
    for (const st of this.perParam.values()) for (const b of st.buffers) b.dispose();
    this.perParam.clear();
    for (const [p, st] of fresh) this.perParam.set(p, st);
    this.stepCount = stepCount;
    this.learningRate = state.learningRate;
    this.totalNormConstraint = state.totalNormConstraint ?? null;
  }

  /** The fixed settings (no learning rate), as `state().hyper` records them. */
  private settings(): Record<string, number> {
    const hyper = Object.fromEntries(Object.entries(this.hyper).filter(([, v]) => v !== undefined)) as Record<string, number>;
    if (this.initialState !== 0) hyper.initialAccumulatorValue = this.initialState;
    return hyper;
  }

  /** The names of this optimizer's state tensors, in kernel order. */
  private slots(): readonly string[] {
    return STATE_SLOTS[this.rule].slice(0, ts.optimStateCount(this.rule, this.hyper));
  }

  /** Frees the optimizer's state; the optimizer cannot step afterwards. */
  dispose(): void {
    for (const st of this.perParam.values()) for (const b of st.buffers) b.dispose();
    this.perParam.clear();
    this.disposed = true;
  }

  private stateFor(p: Tensor): ParamState {
    let st = this.perParam.get(p);
    if (!st) {
      const n = ts.optimStateCount(this.rule, this.hyper);
      const init = this.initialState;
      st = { buffers: Array.from({ length: n }, () => ts.keep(init === 0 ? ts.zeros(p.shape) : ts.full(p.shape, init))), step: 0 };
      this.perParam.set(p, st);
    }
    return st;
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error(`updates.${this.name}: this optimizer was disposed`);
  }
}

function checkRate(name: string, lr: unknown): number {
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
    throw new Error(`updates.${name}: learningRate must be a finite number >= 0, got ${String(lr)}`);
  }
  return lr;
}

/** Validates an options object: known keys only, and each number in its range. */
function options<T extends object>(name: string, opts: T | undefined, allowed: readonly string[]): T {
  const o = (opts ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object') throw new Error(`updates.${name}: options must be an object, got ${typeof o}`);
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new Error(`updates.${name}: unknown option '${k}'. Valid options: ${allowed.join(', ')}`);
  }
  return o as T;
}

function num(name: string, key: string, v: unknown, fallback: number, range: [number, number, boolean]): number {
  const x = v === undefined ? fallback : v;
  const [lo, hi, hiOpen] = range;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < lo || (hiOpen ? x >= hi : x > hi)) {
    throw new Error(`updates.${name}: ${key} must be a number in [${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${String(x)}`);
  }
  return x;
}

const COMMON = ['learningRate', 'weightDecay', 'totalNormConstraint'] as const;
const UNIT: [number, number, boolean] = [0, 1, true];
const NONNEG: [number, number, boolean] = [0, Infinity, false];

function make(
  name: string,
  rule: OptimRule,
  params: ParamSource,
  o: CommonOptions,
  hyper: Omit<OptimHyper, 'lr' | 'step' | 'weightDecay'>,
  defaults: { lr?: number; wd?: number },
  initialState = 0,
): Optimizer {
  if (o.learningRate === undefined && defaults.lr === undefined) {
    throw new Error(`updates.${name}: learningRate is required (it has no default, as in Lasagne)`);
  }
  const wd = num(name, 'weightDecay', o.weightDecay, defaults.wd ?? 0, NONNEG);
  const clip = o.totalNormConstraint === undefined ? null : num(name, 'totalNormConstraint', o.totalNormConstraint, 0, NONNEG);
  if (clip === 0) throw new Error(`updates.${name}: totalNormConstraint must be > 0`);
  return new Optimizer(name, rule, params, { ...hyper, weightDecay: wd }, o.learningRate ?? defaults.lr!, clip, initialState);
}

/**
 * Plain stochastic gradient descent: p -= learningRate * g.
 *
 * @example
 * const opt = updates.sgd(params, { learningRate: 0.1 });
 */
export function sgd(params: ParamSource, opts: SgdOptions): Optimizer {
  const o = options('sgd', opts, COMMON);
  return make('sgd', 'sgd', params, o, {}, {});
}

/**
 * SGD with classical momentum (default 0.9).
 *
 * @example
 * const opt = updates.momentum(params, { learningRate: 0.01, momentum: 0.9 });
 */
export function momentum(params: ParamSource, opts: MomentumOptions): Optimizer {
  const o = options('momentum', opts, [...COMMON, 'momentum']);
  return make('momentum', 'momentum', params, o, { momentum: num('momentum', 'momentum', o.momentum, 0.9, UNIT) }, {});
}

/**
 * SGD with Nesterov momentum (default 0.9).
 *
 * @example
 * const opt = updates.nesterovMomentum(params, { learningRate: 0.01 });
 */
export function nesterovMomentum(params: ParamSource, opts: MomentumOptions): Optimizer {
  const o = options('nesterovMomentum', opts, [...COMMON, 'momentum']);
  const m = num('nesterovMomentum', 'momentum', o.momentum, 0.9, UNIT);
  if (m === 0) throw new Error('updates.nesterovMomentum: momentum must be > 0 (with 0 it is plain sgd)');
  return make('nesterovMomentum', 'nesterov', params, o, { momentum: m }, {});
}

/**
 * RMSProp with PyTorch's formula and defaults (learningRate 0.01, rho 0.99, epsilon 1e-8); see
 * the module note for how it differs from Lasagne's.
 *
 * @example
 * const opt = updates.rmsprop(params, { learningRate: 1e-3 });
 */
export function rmsprop(params: ParamSource, opts: RmspropOptions = {}): Optimizer {
  const o = options('rmsprop', opts, [...COMMON, 'rho', 'alpha', 'epsilon', 'momentum']);
  if (o.rho !== undefined && o.alpha !== undefined) throw new Error('updates.rmsprop: give rho or its alias alpha, not both');
  return make(
    'rmsprop',
    'rmsprop',
    params,
    o,
    {
      beta1: num('rmsprop', 'rho', o.rho ?? o.alpha, 0.99, [0, 1, false]),
      eps: num('rmsprop', 'epsilon', o.epsilon, 1e-8, NONNEG),
      momentum: num('rmsprop', 'momentum', o.momentum, 0, UNIT),
    },
    { lr: 0.01 },
  );
}

function adamHyper(name: string, o: AdamOptions) {
  return {
    beta1: num(name, 'beta1', o.beta1, 0.9, UNIT),
    beta2: num(name, 'beta2', o.beta2, 0.999, UNIT),
    eps: num(name, 'epsilon', o.epsilon, 1e-8, NONNEG),
  };
}

/**
 * Adam (learningRate 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-8), with PyTorch's bias
 * correction; `weightDecay` is L2 on the gradient.
 *
 * @example
 * const opt = updates.adam(getAllParams(net.out, { trainable: true }), { learningRate: 1e-3 });
 */
export function adam(params: ParamSource, opts: AdamOptions = {}): Optimizer {
  const o = options('adam', opts, [...COMMON, 'beta1', 'beta2', 'epsilon']);
  return make('adam', 'adam', params, o, adamHyper('adam', o), { lr: 1e-3 });
}

/**
 * AdamW: Adam with decoupled weight decay (default 0.01, as PyTorch's AdamW).
 *
 * @example
 * const opt = updates.adamw(params, { learningRate: 1e-3, weightDecay: 0.05 });
 */
export function adamw(params: ParamSource, opts: AdamOptions = {}): Optimizer {
  const o = options('adamw', opts, [...COMMON, 'beta1', 'beta2', 'epsilon']);
  return make('adamw', 'adamw', params, o, adamHyper('adamw', o), { lr: 1e-3, wd: 0.01 });
}

/**
 * Adagrad with PyTorch's formula and defaults (learningRate 0.01, epsilon 1e-10, lrDecay 0,
 * initialAccumulatorValue 0): sum += g²; p -= lr / (1 + (t - 1) * lrDecay) * g / (sqrt(sum) +
 * eps). Lasagne puts eps inside the sqrt and defaults to learning_rate 1, epsilon 1e-6.
 *
 * @example
 * const opt = updates.adagrad(params, { learningRate: 0.05 });
 */
export function adagrad(params: ParamSource, opts: AdagradOptions = {}): Optimizer {
  const o = options('adagrad', opts, [...COMMON, 'epsilon', 'lrDecay', 'initialAccumulatorValue']);
  const init = num('adagrad', 'initialAccumulatorValue', o.initialAccumulatorValue, 0, NONNEG);
  return make(
    'adagrad',
    'adagrad',
    params,
    o,
    { eps: num('adagrad', 'epsilon', o.epsilon, 1e-10, NONNEG), lrDecay: num('adagrad', 'lrDecay', o.lrDecay, 0, NONNEG) },
    { lr: 0.01 },
    init,
  );
}

/**
 * Adadelta with PyTorch's defaults (learningRate 1, rho 0.9, epsilon 1e-6): sq = rho * sq +
 * (1 - rho) g²; d = sqrt(acc + eps) / sqrt(sq + eps) * g; acc = rho * acc + (1 - rho) d²;
 * p -= lr * d. The formula is Lasagne's too; Lasagne's default rho is 0.95.
 *
 * @example
 * const opt = updates.adadelta(params, { rho: 0.95 });
 */
export function adadelta(params: ParamSource, opts: AdadeltaOptions = {}): Optimizer {
  const o = options('adadelta', opts, [...COMMON, 'rho', 'epsilon']);
  return make(
    'adadelta',
    'adadelta',
    params,
    o,
    { beta1: num('adadelta', 'rho', o.rho, 0.9, [0, 1, false]), eps: num('adadelta', 'epsilon', o.epsilon, 1e-6, NONNEG) },
    { lr: 1 },
  );
}

/**
 * Adamax, Adam with the infinity norm, with PyTorch's formula and defaults (learningRate 0.002,
 * beta1 0.9, beta2 0.999, epsilon 1e-8): m = beta1 * m + (1 - beta1) g; u = max(beta2 * u,
 * |g| + eps); p -= lr / (1 - beta1^t) * m / u. Lasagne adds eps to u after the max instead.
 *
 * @example
 * const opt = updates.adamax(params, { learningRate: 2e-3 });
 */
export function adamax(params: ParamSource, opts: AdamOptions = {}): Optimizer {
  const o = options('adamax', opts, [...COMMON, 'beta1', 'beta2', 'epsilon']);
  return make('adamax', 'adamax', params, o, adamHyper('adamax', o), { lr: 2e-3 });
}

/** Every optimizer by its name, as `byName` accepts them. @example Object.keys(updates.OPTIMIZERS) */
export const OPTIMIZERS = { sgd, momentum, nesterovMomentum, rmsprop, adam, adamw, adagrad, adadelta, adamax } as const;

/** A name `byName` accepts. @example const name: updates.OptimizerName = 'adam'; */
export type OptimizerName = keyof typeof OPTIMIZERS;

/** Edit distance, to suggest the name the user probably meant. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * Builds an optimizer from its name (case-insensitive; 'nesterov' and 'nesterov_momentum' are
 * accepted for nesterovMomentum), e.g. from a command-line flag. An unknown name throws an
 * error listing the valid ones.
 *
 * @example
 * const args = { optimizer: 'adam', lr: 1e-3 };   // e.g. from --optimizer adam --lr 1e-3
 * const opt = updates.byName(args.optimizer, params, { learningRate: args.lr });
 */
export function byName(name: string, params: ParamSource, opts: CommonOptions & Record<string, unknown> = {}): Optimizer {
  const valid = Object.keys(OPTIMIZERS) as OptimizerName[];
  const key = String(name).toLowerCase().replace(/[_-]/g, '');
  const found = valid.find((v) => v.toLowerCase() === key) ?? (key === 'nesterov' ? 'nesterovMomentum' : undefined);
  if (!found) {
    const best = valid.map((v) => [v, distance(key, v.toLowerCase())] as const).sort((a, b) => a[1] - b[1])[0]!;
    const hint = best[1] <= 2 ? ` Did you mean '${best[0]}'?` : '';
    throw new Error(`updates.byName: unknown optimizer '${name}'. Valid names: ${valid.join(', ')}.${hint}`);
  }
  return (OPTIMIZERS[found] as (p: ParamSource, o: CommonOptions) => Optimizer)(params, opts);
}

/**
 * The global L2 norm of several tensors, as a scalar tensor (no readback).
 *
 * @example
 * const norm = await updates.globalNorm(params.map((p) => p.grad!)).item();
 */
export function globalNorm(tensors: readonly Tensor[]): Tensor {
  return ts.tidy(() => tensors.reduce((acc: Tensor, t) => acc.add(t.square().sum()), ts.zeros([])).sqrt());
}

/** min(norm, maxNorm) / (norm + eps): the factor that brings the global norm down to maxNorm. */
function globalNormScale(tensors: readonly Tensor[], maxNorm: number, epsilon = 1e-7): Tensor {
  return ts.tidy(() => {
    const norm = globalNorm(tensors);
    return norm.minimum(maxNorm).div(norm.add(epsilon));
  });
}

/**
 * Lasagne's `total_norm_constraint`: rescales tensors (usually gradients) together so that
 * their global L2 norm is at most `maxNorm`; returns new tensors. Optimizers do the same
 * without new tensors through their `totalNormConstraint` option.
 *
 * @example
 * const grads = params.map((p) => p.grad!);
 * const clipped = updates.totalNormConstraint(grads, 5);
 */
export function totalNormConstraint(tensors: readonly Tensor[], maxNorm: number, opts: { epsilon?: number } = {}): Tensor[] {
  if (!Array.isArray(tensors) || !tensors.every((t) => t instanceof Tensor)) throw new Error('totalNormConstraint: expected an array of tensors');
  if (typeof maxNorm !== 'number' || !(maxNorm > 0) || !Number.isFinite(maxNorm))
    throw new Error(`totalNormConstraint: maxNorm must be a positive number, got ${String(maxNorm)}`);
  return ts.tidy(() => {
    const scale = globalNormScale(tensors, maxNorm, opts.epsilon ?? 1e-7);
    return tensors.map((t) => t.mul(scale));
  });
}
