import type { KernelTensor, OptimRule } from '../backend.js';
import { requireTensor } from '../checks.js';
import { requireBackend } from '../engine.js';
import { checkNumber, fmtShape, opError } from '../errors.js';
import { sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { debugAfterUpdate, debugBeforeUpdate } from '../debug/hooks.js';
import { capture, type LiveUpdateValues } from '../compile/state.js';

export type { OptimRule } from '../backend.js';

const RULES: readonly OptimRule[] = ['sgd', 'momentum', 'nesterov', 'rmsprop', 'adam', 'adamw', 'adagrad', 'adadelta', 'adamax'];

/** Hyper-parameters of one update; fields a rule does not use are ignored. */
export interface OptimHyper {
  /** Learning rate. */
  lr: number;
  /** Adam's and Adamax's beta1, or the decay rate of rmsprop (PyTorch's alpha) and adadelta (rho). */
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  /**
   * Adagrad's learning-rate decay (PyTorch's lr_decay): the step uses lr / (1 + (step - 1) *
   * lrDecay). Other rules ignore it.
   */
  lrDecay?: number;
  /** 1-based step count, for the bias corrections of Adam and Adamax (1 - beta^t) and Adagrad's lrDecay. */
  step?: number;
}

/**
 * How many state tensors (each shaped like the parameter, zero-initialised by the caller) a
 * rule needs: momentum buffers, squared-gradient averages.
 *
 * @example
 * const states = Array.from({ length: ts.optimStateCount('adam') }, () => ts.keep(ts.zerosLike(p)));
 */
export function optimStateCount(rule: OptimRule, hyper: Pick<OptimHyper, 'momentum'> = {}): number {
  if (!RULES.includes(rule)) throw opError('applyUpdate', `unknown rule ${JSON.stringify(rule)}`, `Expected one of ${RULES.join(', ')}`);
  switch (rule) {
    case 'sgd':
      return 0;
    case 'momentum':
    case 'nesterov':
    case 'adagrad':
      return 1;
    case 'rmsprop':
      return (hyper.momentum ?? 0) > 0 ? 2 : 1;
    default:
      return 2;
  }
}

function checkSameAs(what: string, v: unknown, param: Tensor): Tensor {
  const t = requireTensor('applyUpdate', v, what);
  if (!sameShape(t.shape, param.shape) || t.dtype !== 'float32') {
    throw opError(
      'applyUpdate',
      `${what} is ${fmtShape(t.shape)} ${t.dtype}, but the parameter is ${fmtShape(param.shape)} ${param.dtype}`,
      "Expected a float32 tensor of the parameter's shape",
    );
  }
  return t;
}

/**
 * Updates `param` in place with one fused kernel dispatch: reads `grad` (times `scale[0]`,
 * a 1-element tensor, default 1), updates `states` in place, writes the parameter. Nothing is
 * read back and nothing is allocated, so an optimizer step never stalls the GPU queue.
 * This is the primitive under `@tessera/nn`'s `updates`; most users want those.
 *
 * `hyper` may be a function returning the hyper-parameters: it is called once per update, and
 * again at every replay when a compiled step (`ts.compile`) records the update, so a learning
 * rate or step count that changes between steps stays live there (it may advance counters).
 *
 * @example
 * const [m, v] = [ts.keep(ts.zerosLike(p)), ts.keep(ts.zerosLike(p))];
 * ts.applyUpdate('adam', p, p.grad!, [m, v], { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1 });
 * let t = 0;
 * ts.applyUpdate('adam', p, p.grad!, [m, v], () => ({ lr: 1e-3, step: ++t }));   // live under ts.compile
 */
export function applyUpdate(
  rule: OptimRule,
  param: Tensor,
  grad: Tensor,
  states: readonly Tensor[],
  hyperOrGetter: OptimHyper | (() => OptimHyper),
  scale?: Tensor,
): void {
  const op = 'applyUpdate';
  const live = typeof hyperOrGetter === 'function' ? hyperOrGetter : null;
  const hyper: OptimHyper = typeof hyperOrGetter === 'function' ? hyperOrGetter() : hyperOrGetter;
  if (!(param instanceof Tensor) || param.dtype !== 'float32') {
    throw opError(op, `the parameter must be a float32 Tensor, got ${param instanceof Tensor ? `${fmtShape(param.shape)} ${param.dtype}` : typeof param}`);
  }
  checkSameAs('the gradient', grad, param);
  const need = optimStateCount(rule, hyper);
  if (!Array.isArray(states) || states.length < need) {
    throw opError(op, `rule '${rule}' needs ${need} state tensor(s), got ${Array.isArray(states) ? states.length : typeof states}`);
  }
  states.slice(0, need).forEach((s, i) => {
    checkSameAs(`state ${i}`, s, param);
  });
  if (scale !== undefined && (!(scale instanceof Tensor) || scale.size !== 1 || scale.dtype !== 'float32')) {
    throw opError(
      op,
      `scale must be a float32 tensor with one element, got ${scale instanceof Tensor ? `${fmtShape(scale.shape)} ${scale.dtype}` : typeof scale}`,
    );
  }
  const backend = requireBackend(op);
  const kt = (t: Tensor, what: string): KernelTensor => ({ shape: t.shape, dtype: t.dtype, size: t.size, buf: t._use(op, what).buf });
  const args = {
    rule,
    param: kt(param, 'parameter'),
    grad: kt(grad, 'gradient'),
    states: states.slice(0, need).map((s, i) => kt(s, `state ${i}`)),
    scale: scale ? kt(scale, 'scale') : null,
    ...resolveHyper(rule, hyper),
  };
  const bufs = [args.param.buf, args.grad.buf, ...args.states.map((s) => s.buf)];
  if (new Set(bufs).size !== bufs.length) {
    throw opError(op, 'the parameter, gradient and states must be distinct tensors (they share a buffer)');
  }
  if (param.size === 0) return;
  // A compiled step being recorded re-evaluates the getter at every replay (compile/recorder.ts).
  if (live && capture.active) capture.active.liveUpdate(() => resolveHyper(rule, live()));
  debugBeforeUpdate(args);
  backend.update(args);
  debugAfterUpdate(args);
}

/** The numbers one update kernel takes, checked, from the hyper-parameters as given. */
function resolveHyper(rule: OptimRule, hyper: OptimHyper): LiveUpdateValues {
  const op = 'applyUpdate';
  if (!hyper || typeof hyper !== 'object') throw opError(op, `the hyper-parameters must be an object, got ${hyper === null ? 'null' : typeof hyper}`);
  const num = (name: keyof OptimHyper, fallback: number): number => checkNumber(op, name, hyper[name] ?? fallback);
  const lr = num('lr', NaN);
  const beta1 = num('beta1', 0.9);
  const beta2 = num('beta2', 0.999);
  const step = checkNumber(op, 'step', hyper.step ?? 1, { integer: true, min: 1 });
  // Adagrad's decayed rate, computed here as torch.optim does (clr = lr / (1 + (t - 1) * lr_decay)).
  const lrDecay = num('lrDecay', 0);
  return {
    lr: rule === 'adagrad' && lrDecay !== 0 ? lr / (1 + (step - 1) * lrDecay) : lr,
    beta1,
    beta2,
    eps: num('eps', 1e-8),
    weightDecay: num('weightDecay', 0),
    momentum: num('momentum', 0),
    biasCorrection1: 1 - beta1 ** step,
    biasCorrection2Sqrt: Math.sqrt(1 - beta2 ** step),
  };
}
