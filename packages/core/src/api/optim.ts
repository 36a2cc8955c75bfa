import type { Backend } from '../backend.js';
import { allocStorage, engine, requireBackend, type Storage } from '../engine.js';
import { checkNumber, fmtShape, opError } from '../errors.js';
import { grid1d, kernelCall, type DeviceBuffer } from '../kernels.js';
import { sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { scalarTensor } from './creation.js';

/**
 * The update rules of kernels/optim.wgsl. Each follows torch.optim's formulas exactly (so the
 * nn package's optimizers can be checked against PyTorch step by step):
 *
 * - `sgd`:      p -= lr * g
 * - `momentum`: buf = momentum * buf + g;  p -= lr * buf                    (SGD, momentum)
 * - `nesterov`: buf = momentum * buf + g;  p -= lr * (g + momentum * buf)  (SGD, nesterov)
 * - `rmsprop`:  sq = beta1 * sq + (1 - beta1) g²;  p -= lr * g / (sqrt(sq) + eps)
 *               (beta1 is PyTorch's alpha; with momentum > 0 the step goes through a buffer)
 * - `adam`:     Adam with bias correction, eps added after the corrected sqrt (PyTorch)
 * - `adamw`:    Adam with decoupled weight decay: p *= 1 - lr * weightDecay first
 *
 * For every rule but adamw, `weightDecay` is L2 added to the gradient, as in torch.optim.
 */
export type OptimRule = 'sgd' | 'momentum' | 'nesterov' | 'rmsprop' | 'adam' | 'adamw';

/** WGSL `RULE` codes; they must match the switch in kernels/optim.wgsl. */
const RULE_CODE: Record<OptimRule, number> = { sgd: 0, momentum: 1, nesterov: 2, rmsprop: 3, adam: 4, adamw: 5 };

/** Hyper-parameters of one update; fields a rule does not use are ignored. */
export interface OptimHyper {
  /** Learning rate. */
  lr: number;
  /** Adam's beta1, or rmsprop's decay rate (PyTorch's alpha, Lasagne's rho). */
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  /** 1-based step count, for Adam's bias corrections (1 - beta^t). */
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
  if (!(rule in RULE_CODE)) throw opError('applyUpdate', `unknown rule ${JSON.stringify(rule)}`, `Expected one of ${Object.keys(RULE_CODE).join(', ')}`);
  switch (rule) {
    case 'sgd': return 0;
    case 'momentum': case 'nesterov': return 1;
    case 'rmsprop': return (hyper.momentum ?? 0) > 0 ? 2 : 1;
    default: return 2;
  }
}

/**
 * Placeholder buffers bound where a rule has fewer than two states. WebGPU forbids binding one
 * buffer to two writable slots of a dispatch, so there are two, and they belong to the backend
 * they were made on (a re-init makes new ones).
 */
let dummies: { backend: Backend; s1: Storage; s2: Storage } | null = null;

function dummyStates(backend: Backend): [DeviceBuffer, DeviceBuffer] {
  if (!dummies || dummies.backend !== backend) {
    const s1 = allocStorage('applyUpdate', 1);
    const s2 = allocStorage('applyUpdate', 1);
    // They stay for the process's lifetime, like the scalar cache: not a per-step allocation.
    engine.liveBytes -= s1.bytes + s2.bytes;
    dummies = { backend, s1, s2 };
  }
  return [dummies.s1.buf, dummies.s2.buf];
}

function checkSameAs(what: string, t: unknown, param: Tensor): Tensor {
  if (!(t instanceof Tensor)) throw opError('applyUpdate', `${what} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
  if (!sameShape(t.shape, param.shape) || t.dtype !== 'float32') {
    throw opError('applyUpdate', `${what} is ${fmtShape(t.shape)} ${t.dtype}, but the parameter is ${fmtShape(param.shape)} ${param.dtype}`, 'Expected a float32 tensor of the parameter\'s shape');
  }
  return t;
}

/**
 * Updates `param` in place with one fused kernel dispatch: reads `grad` (times `scale[0]`,
 * a 1-element tensor, default 1), updates `states` in place, writes the parameter. Nothing is
 * read back and nothing is allocated, so an optimizer step never stalls the GPU queue.
 * This is the primitive under `@tessera/nn`'s `updates`; most users want those.
 *
 * @example
 * const [m, v] = [ts.keep(ts.zerosLike(p)), ts.keep(ts.zerosLike(p))];
 * ts.applyUpdate('adam', p, p.grad!, [m, v], { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1 });
 */
export function applyUpdate(rule: OptimRule, param: Tensor, grad: Tensor, states: readonly Tensor[], hyper: OptimHyper, scale?: Tensor): void {
  const op = 'applyUpdate';
  if (!(param instanceof Tensor) || param.dtype !== 'float32') {
    throw opError(op, `the parameter must be a float32 Tensor, got ${param instanceof Tensor ? `${fmtShape(param.shape)} ${param.dtype}` : typeof param}`);
  }
  checkSameAs('the gradient', grad, param);
  const need = optimStateCount(rule, hyper);
  if (!Array.isArray(states) || states.length < need) {
    throw opError(op, `rule '${rule}' needs ${need} state tensor(s), got ${Array.isArray(states) ? states.length : typeof states}`);
  }
  states.slice(0, need).forEach((s, i) => checkSameAs(`state ${i}`, s, param));
  if (scale !== undefined && (!(scale instanceof Tensor) || scale.size !== 1 || scale.dtype !== 'float32')) {
    throw opError(op, `scale must be a float32 tensor with one element, got ${scale instanceof Tensor ? `${fmtShape(scale.shape)} ${scale.dtype}` : typeof scale}`);
  }
  const num = (name: keyof OptimHyper, fallback: number): number => checkNumber(op, name, hyper[name] ?? fallback);
  const lr = num('lr', NaN);
  const beta1 = num('beta1', 0.9);
  const beta2 = num('beta2', 0.999);
  const step = checkNumber(op, 'step', hyper.step ?? 1, { integer: true, min: 1 });
  const backend = requireBackend(op);
  const buf = (t: Tensor, what: string): DeviceBuffer => t._use(op, what).buf;
  const p = buf(param, 'parameter');
  const [d1, d2] = dummyStates(backend);
  const s1 = need > 0 ? buf(states[0]!, 'state 0') : d1;
  const s2 = need > 1 ? buf(states[1]!, 'state 1') : d2;
  const bufs = [p, buf(grad, 'gradient'), s1, s2];
  if (new Set(bufs).size !== bufs.length) {
    throw opError(op, 'the parameter, gradient and states must be distinct tensors (they share a buffer)');
  }
  if (param.size === 0) return;
  backend.run(
    kernelCall({
      kernel: 'optim',
      constants: { RULE: RULE_CODE[rule] },
      uniforms: {
        size: param.size,
        lr,
        beta1,
        beta2,
        eps: num('eps', 1e-8),
        weight_decay: num('weightDecay', 0),
        momentum: num('momentum', 0),
        bias_correction1: 1 - beta1 ** step,
        bias_correction2_sqrt: Math.sqrt(1 - beta2 ** step),
      },
      buffers: { param: p, grad: bufs[1]!, s1, s2, scale: buf(scale ?? scalarTensor(1, 'float32'), 'scale') },
      workgroups: grid1d(param.size),
    }),
  );
}
