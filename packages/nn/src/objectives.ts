/**
 * Loss functions and metrics, as in `lasagne.objectives`: each returns one value per example
 * (or per element); reduce them with `.mean()` or `aggregate`.
 *
 * Probabilities are clipped to [eps, 1 - eps] before the log so that a saturated prediction
 * gives a large finite loss rather than Infinity or NaN. Clipping also stops the gradient for
 * those examples, which is why training a softmax output is better done from logits: use a
 * linear last layer and `categoricalCrossentropy(logits, y, { fromLogits: true })` (the same
 * as `ts.crossEntropy`, computed with log-softmax, exact and stable).
 */
import * as ts from '@tessera/core';
import type { Tensor } from '@tessera/core';

/** Smallest probability a log is taken of (float32 resolves 1 - 1e-7 from 1). */
const DEFAULT_EPS = 1e-7;

/** Options of the cross-entropies. @example categoricalCrossentropy(logits, y, { fromLogits: true }) */
export interface CrossentropyOptions {
  /** Treat predictions as unnormalised scores (logits) instead of probabilities. */
  fromLogits?: boolean;
  /** Clipping of probabilities, default 1e-7 (ignored with fromLogits). */
  eps?: number;
}

function checkTensor(fn: string, what: string, t: unknown): Tensor {
  if (!(t instanceof ts.Tensor)) throw new Error(`${fn}: ${what} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
  return t;
}

function sameShapes(fn: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${fn}: predictions ${ts.fmtShape(a.shape)} and targets ${ts.fmtShape(b.shape)} must have the same shape`);
  }
}

const floatOf = (t: Tensor): Tensor => (t.dtype === 'float32' ? t : t.cast('float32'));

/**
 * Probabilities outside [0, 1] mean the caller passed logits (or raw scores) where a softmax or
 * sigmoid output belongs: the loss would then train towards nothing useful. Checked on the device
 * and reported at the next read, so no step waits for it.
 */
function checkProbabilities(fn: string, p: Tensor): void {
  const bad = () => ts.noGrad(() => ts.tidy(() => ts.keep(p.lt(0).add(p.gt(1)).max())));
  ts.checkAtNextRead(
    bad,
    fn,
    `predictions ${ts.fmtShape(p.shape)} hold values outside [0, 1], so they are not probabilities. If they are logits (a linear last layer), pass { fromLogits: true }; otherwise apply a softmax / sigmoid first`,
  );
}

/**
 * Elementwise binary cross-entropy -(t log p + (1 - t) log(1 - p)) for predictions in (0, 1)
 * (a sigmoid output), or for logits with `fromLogits` (computed as
 * max(x, 0) - x t + log(1 + e^-|x|), which never overflows).
 *
 * @example
 * const out = new DenseLayer(l, { numUnits: 1, nonlinearity: nonlinearities.sigmoid });   // probabilities
 * const loss = objectives.binaryCrossentropy(getOutput(out, x), y).mean();   // y: [N, 1] of 0s and 1s
 * // a linear output (logits) instead: binaryCrossentropy(getOutput(out, x), y, { fromLogits: true })
 */
export function binaryCrossentropy(predictions: Tensor, targets: Tensor, opts: CrossentropyOptions = {}): Tensor {
  const fn = 'binaryCrossentropy';
  checkTensor(fn, 'predictions', predictions);
  checkTensor(fn, 'targets', targets);
  sameShapes(fn, predictions, targets);
  return ts.tidy(() => {
    const t = floatOf(targets);
    if (opts.fromLogits) {
      const x = predictions;
      return x.maximum(0).sub(x.mul(t)).add(x.abs().neg().exp().add(1).log());
    }
    checkProbabilities(fn, predictions);
    const eps = opts.eps ?? DEFAULT_EPS;
    const p = predictions.maximum(eps).minimum(1 - eps);
    return t
      .mul(p.log())
      .add(t.neg().add(1).mul(p.neg().add(1).log()))
      .neg();
  });
}

/**
 * Per-row categorical cross-entropy of predictions [N, C] against int32 class ids [N] or
 * target distributions [N, C]. With `fromLogits`, predictions are logits and the loss is
 * -sum(t * logSoftmax(x)): prefer it over a softmax output (see the module note).
 *
 * @example
 * const loss = objectives.categoricalCrossentropy(probs, labels).mean();
 * const better = objectives.categoricalCrossentropy(logits, labels, { fromLogits: true }).mean();
 */
export function categoricalCrossentropy(predictions: Tensor, targets: Tensor, opts: CrossentropyOptions = {}): Tensor {
  const fn = 'categoricalCrossentropy';
  checkTensor(fn, 'predictions', predictions);
  checkTensor(fn, 'targets', targets);
  if (predictions.rank !== 2) throw new Error(`${fn}: predictions must be [N, C], got ${ts.fmtShape(predictions.shape)}`);
  const [n, c] = predictions.shape as [number, number];
  const ids = targets.dtype === 'int32';
  if (ids ? targets.rank !== 1 || targets.shape[0] !== n : targets.rank !== 2 || targets.shape[0] !== n || targets.shape[1] !== c) {
    throw new Error(
      `${fn}: targets ${ts.fmtShape(targets.shape)} ${targets.dtype} do not fit predictions ${ts.fmtShape(predictions.shape)}: expected int32 class ids [${n}] or float32 distributions [${n}, ${c}]`,
    );
  }
  if (!opts.fromLogits && predictions.size > 0) checkProbabilities(fn, predictions);
  return ts.tidy(() => {
    const t = ids ? ts.oneHot(targets, c) : targets;
    const logp = opts.fromLogits
      ? ts.logSoftmax(predictions, 1)
      : predictions
          .maximum(opts.eps ?? DEFAULT_EPS)
          .minimum(1 - (opts.eps ?? DEFAULT_EPS))
          .log();
    return logp.mul(t).sum(1).neg();
  });
}

/**
 * Elementwise squared difference (a - b)².
 *
 * @example
 * const mse = objectives.squaredError(pred, y).mean();
 */
export function squaredError(a: Tensor, b: Tensor): Tensor {
  checkTensor('squaredError', 'a', a);
  checkTensor('squaredError', 'b', b);
  sameShapes('squaredError', a, b);
  return ts.tidy(() => floatOf(a).sub(floatOf(b)).square());
}

/** How `aggregate` reduces: Lasagne's 'mean', 'sum' and 'normalized_sum' (sum / sum of weights). @example aggregate(loss, w, 'normalized_sum') */
export type AggregateMode = 'mean' | 'sum' | 'normalized_sum';

/**
 * Reduces an elementwise loss to a scalar, optionally weighted (weights broadcast against
 * the loss), like Lasagne's `aggregate`.
 *
 * @example
 * const mask = ts.tensor([1, 1, 0, 1]);   // per-example weights: 0 leaves the third example out
 * const loss = objectives.aggregate(objectives.categoricalCrossentropy(p, y), mask, 'normalized_sum');
 */
export function aggregate(loss: Tensor, weights?: Tensor | null, mode: AggregateMode = 'mean'): Tensor {
  checkTensor('aggregate', 'loss', loss);
  if (mode !== 'mean' && mode !== 'sum' && mode !== 'normalized_sum') {
    throw new Error(`aggregate: mode must be 'mean', 'sum' or 'normalized_sum', got ${JSON.stringify(mode)}`);
  }
  if (mode === 'normalized_sum' && !weights) throw new Error("aggregate: mode 'normalized_sum' needs weights");
  return ts.tidy(() => {
    const w = weights ? floatOf(checkTensor('aggregate', 'weights', weights)) : null;
    const weighted = w ? loss.mul(w) : loss;
    if (mode === 'mean') return weighted.mean();
    if (mode === 'sum') return weighted.sum();
    return weighted.sum().div(w!.broadcastTo(weighted.shape).sum());
  });
}

/**
 * Per-row 1/0 accuracy of predictions [N, C] against int32 ids [N] or one-hot / distribution
 * targets [N, C] (their argmax). With `topK`, a row counts when its target is among the k
 * highest scores.
 *
 * @example
 * const acc = await objectives.categoricalAccuracy(probs, labels).mean().item();
 */
export function categoricalAccuracy(predictions: Tensor, targets: Tensor, opts: { topK?: number } = {}): Tensor {
  const fn = 'categoricalAccuracy';
  checkTensor(fn, 'predictions', predictions);
  checkTensor(fn, 'targets', targets);
  if (predictions.rank !== 2) throw new Error(`${fn}: predictions must be [N, C], got ${ts.fmtShape(predictions.shape)}`);
  const [n, c] = predictions.shape as [number, number];
  const ids = targets.rank === 1;
  if (ids ? targets.shape[0] !== n : targets.rank !== 2 || targets.shape[0] !== n || targets.shape[1] !== c) {
    throw new Error(
      `${fn}: targets ${ts.fmtShape(targets.shape)} do not fit predictions ${ts.fmtShape(predictions.shape)}: expected class ids [${n}] or [${n}, ${c}]`,
    );
  }
  const k = opts.topK ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new Error(`${fn}: topK must be a positive integer, got ${opts.topK}`);
  return ts.tidy(() => {
    const labels = ids ? (targets.dtype === 'int32' ? targets : targets.cast('int32')) : targets.argmax(1);
    if (k === 1) return predictions.argmax(1).eq(labels);
    // Rank of the target's score: how many classes score strictly higher.
    const targetScore = predictions.mul(ts.oneHot(labels, c)).sum(1, true);
    return predictions.gt(targetScore).sum(1).lt(k);
  });
}

/**
 * Elementwise 1/0 accuracy of probabilities against binary targets, thresholded at 0.5
 * (or `threshold`).
 *
 * @example
 * const acc = await objectives.binaryAccuracy(probs, y).mean().item();
 */
export function binaryAccuracy(predictions: Tensor, targets: Tensor, opts: { threshold?: number } = {}): Tensor {
  checkTensor('binaryAccuracy', 'predictions', predictions);
  checkTensor('binaryAccuracy', 'targets', targets);
  sameShapes('binaryAccuracy', predictions, targets);
  const threshold = opts.threshold ?? 0.5;
  return ts.tidy(() => predictions.ge(threshold).eq(floatOf(targets)));
}
