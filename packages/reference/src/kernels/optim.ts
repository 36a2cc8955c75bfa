import type { UpdateArgs } from '@tessera/core';
import { f32Of } from '../buffer.js';
import { f32 } from './util.js';

/**
 * One in-place optimizer step, a line-by-line port of kernels/optim.wgsl (torch.optim's
 * formulas, foreach=False). Per element, with g = grad * scale[0]:
 *
 *   adamw:     p = p * (1 - lr * wd)                      (decoupled weight decay)
 *   otherwise: g = g + wd * p                             (L2 weight decay)
 *   sgd:       p = p - lr * g
 *   momentum:  buf = momentum * buf + g;  p = p - lr * buf
 *   nesterov:  buf = momentum * buf + g;  p = p - lr * (g + momentum * buf)
 *   rmsprop:   sq = beta1 * sq + (1 - beta1) * g * g;  step = g / (sqrt(sq) + eps)
 *              momentum > 0: buf = momentum * buf2 + step; p = p - lr * buf;  else p = p - lr * step
 *   adam(w):   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
 *              p = p - (lr / bc1) * (m / (sqrt(v) / bc2sqrt + eps))
 *   adagrad:   sum = sum + g * g;  p = p - lr * (g / (sqrt(sum) + eps))   (lr already decayed)
 *   adadelta:  sq = beta1 * sq + (1 - beta1) * g * g;  delta = sqrt(acc + eps) / sqrt(sq + eps) * g
 *              acc = beta1 * acc + (1 - beta1) * delta * delta;  p = p - lr * delta
 *   adamax:    m = beta1 * m + (1 - beta1) * g;  u = max(beta2 * u, |g| + eps)
 *              p = p - (lr / bc1) * (m / u)
 *
 * The hyper-parameters are rounded to float32 first (they are float32 uniforms in the kernel);
 * the arithmetic is float64; the parameter and the states are rounded to float32 when stored,
 * and a state is used as stored, like the kernel's float32 variables.
 */
export function referenceUpdate(args: UpdateArgs): void {
  const lr = f32(args.lr);
  const beta1 = f32(args.beta1);
  const beta2 = f32(args.beta2);
  const eps = f32(args.eps);
  const weightDecay = f32(args.weightDecay);
  const momentum = f32(args.momentum);
  const bc1 = f32(args.biasCorrection1);
  const bc2Sqrt = f32(args.biasCorrection2Sqrt);

  const param = f32Of(args.param);
  const grad = f32Of(args.grad);
  const s1 = args.states[0] ? f32Of(args.states[0]) : null;
  const s2 = args.states[1] ? f32Of(args.states[1]) : null;
  const scale = args.scale ? f32Of(args.scale)[0]! : 1;
  const need = (s: Float32Array | null, which: string): Float32Array => {
    if (!s) throw new Error(`applyUpdate: rule '${args.rule}' needs ${which}`);
    return s;
  };

  for (let i = 0; i < args.param.size; i++) {
    let p = param[i]!;
    let g = grad[i]! * scale;
    if (args.rule === 'adamw') p = p * (1 - lr * weightDecay);
    else g = g + weightDecay * p;

    switch (args.rule) {
      case 'sgd':
        p = p - lr * g;
        break;
      case 'momentum': {
        const buf = need(s1, 'a momentum buffer');
        buf[i] = momentum * buf[i]! + g;
        p = p - lr * buf[i]!;
        break;
      }
      case 'nesterov': {
        const buf = need(s1, 'a momentum buffer');
        buf[i] = momentum * buf[i]! + g;
        p = p - lr * (g + momentum * buf[i]!);
        break;
      }
      case 'rmsprop': {
        const sq = need(s1, 'a squared-gradient average');
        sq[i] = beta1 * sq[i]! + (1 - beta1) * g * g;
        const step = g / (Math.sqrt(sq[i]!) + eps);
        if (momentum > 0) {
          const buf = need(s2, 'a momentum buffer (state 1) when momentum > 0');
          buf[i] = momentum * buf[i]! + step;
          p = p - lr * buf[i]!;
        } else {
          p = p - lr * step;
        }
        break;
      }
      case 'adam':
      case 'adamw': {
        const m = need(s1, 'a first-moment state');
        const v = need(s2, 'a second-moment state');
        m[i] = beta1 * m[i]! + (1 - beta1) * g;
        v[i] = beta2 * v[i]! + (1 - beta2) * g * g;
        const denom = Math.sqrt(v[i]!) / bc2Sqrt + eps;
        p = p - (lr / bc1) * (m[i]! / denom);
        break;
      }
      case 'adagrad': {
        const sum = need(s1, 'a squared-gradient sum');
        sum[i] = sum[i]! + g * g;
        p = p - lr * (g / (Math.sqrt(sum[i]!) + eps));
        break;
      }
      case 'adadelta': {
        const sq = need(s1, 'a squared-gradient average');
        const acc = need(s2, 'a squared-delta average');
        sq[i] = beta1 * sq[i]! + (1 - beta1) * g * g;
        const delta = (Math.sqrt(acc[i]! + eps) / Math.sqrt(sq[i]! + eps)) * g;
        acc[i] = beta1 * acc[i]! + (1 - beta1) * delta * delta;
        p = p - lr * delta;
        break;
      }
      case 'adamax': {
        const m = need(s1, 'a first-moment state');
        const u = need(s2, 'an infinity-norm state');
        m[i] = beta1 * m[i]! + (1 - beta1) * g;
        u[i] = Math.max(beta2 * u[i]!, Math.abs(g) + eps);
        p = p - (lr / bc1) * (m[i]! / u[i]!);
        break;
      }
      default:
        throw new Error(`applyUpdate: unknown rule '${String(args.rule)}'`);
    }
    param[i] = p;
  }
}
