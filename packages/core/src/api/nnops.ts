import { fmtShape, opError } from '../errors.js';
import { normalizeAxis } from '../shape.js';
import { Tensor } from '../tensor.js';
import { tidy } from './memory.js';
import { oneHot } from './shape.js';

/**
 * Softmax along `axis`, computed stably (the maximum is subtracted first).
 *
 * @example
 * ts.softmax(logits);      // rows sum to 1
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  const ax = normalizeAxis('softmax', axis, x.rank, x.shape);
  return tidy(() => {
    const e = x.sub(x.max(ax, true).detach()).exp();
    return e.div(e.sum(ax, true));
  });
}

/**
 * log(softmax(x)) along `axis`, computed without overflow as x - max - log(sum(exp(x - max))).
 *
 * @example
 * ts.logSoftmax(logits).mul(target).sum(-1).neg().mean();
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const ax = normalizeAxis('logSoftmax', axis, x.rank, x.shape);
  return tidy(() => {
    const shifted = x.sub(x.max(ax, true).detach());
    return shifted.sub(shifted.exp().sum(ax, true).log());
  });
}

/**
 * Mean cross-entropy between `logits` [N, C] and labels: int32 class ids [N], or one-hot /
 * probability rows [N, C]. Like `torch.nn.functional.cross_entropy`.
 *
 * @example
 * const loss = ts.crossEntropy(model(x), labels);
 */
export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  if (!(logits instanceof Tensor) || logits.rank !== 2) {
    throw opError('crossEntropy', `logits must be [N, C], got ${logits instanceof Tensor ? fmtShape(logits.shape) : typeof logits}`);
  }
  const [n, c] = logits.shape as [number, number];
  const ids = labels.dtype === 'int32';
  if (ids ? labels.rank !== 1 || labels.shape[0] !== n : labels.rank !== 2 || labels.shape[0] !== n || labels.shape[1] !== c) {
    throw opError('crossEntropy', `labels ${fmtShape(labels.shape)} ${labels.dtype} do not fit logits ${fmtShape(logits.shape)}`, `Expected int32 class ids [${n}] or float32 probabilities [${n}, ${c}]`);
  }
  return tidy(() => {
    const target = ids ? oneHot(labels, c) : labels;
    return logSoftmax(logits, 1).mul(target).sum(1).mean().neg();
  });
}
