import { requireTensor } from '../checks.js';
import { fmtShape, opError } from '../errors.js';
import { checkLabels as checkLabelShapes } from '../ops/softmax.js';
import { normalizeAxis } from '../shape.js';
import { Tensor } from '../tensor.js';

const tensorArg = requireTensor;

/**
 * Softmax along `axis` in one fused, numerically stable kernel (the row maximum is subtracted
 * inside it), exact for logits in the hundreds and finite for logits of 1e4.
 *
 * @example
 * ts.softmax(logits);           // rows sum to 1
 * ts.softmax(ts.randn([8, 10, 28, 28]), 1);   // over the channels of an NCHW tensor
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  tensorArg('softmax', x, 'input');
  return Tensor._fromOp('softmax', [x], { axis: normalizeAxis('softmax', axis, x.rank, x.shape) });
}

/**
 * log(softmax(x)) along `axis`, fused and computed as x - max - log(sum(exp(x - max))), so it
 * never overflows and is exact where softmax would round to 0.
 *
 * @example
 * const target = ts.oneHot(labels, 10);   // [N, 10] probability rows
 * ts.logSoftmax(logits).mul(target).sum(-1).neg().mean();   // cross-entropy, by hand
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  tensorArg('logSoftmax', x, 'input');
  return Tensor._fromOp('logSoftmax', [x], { axis: normalizeAxis('logSoftmax', axis, x.rank, x.shape) });
}

export interface CrossEntropyOptions {
  /** 'mean' over the batch (default, as PyTorch), 'sum', or 'none' for the per-row losses [N]. */
  reduction?: 'mean' | 'sum' | 'none';
}

/**
 * Cross-entropy between `logits` [N, C] and labels: int32 class ids [N], or one-hot /
 * probability rows [N, C] (float32). Like `torch.nn.functional.cross_entropy`: log-softmax and
 * the negative log-likelihood are one fused kernel (and one for the gradient).
 *
 * Class ids live on the GPU, so they are checked there: an id outside [0, C) makes the loss
 * (and the gradient of that row) NaN rather than throwing. To get a thrown error naming the bad
 * id, `await ts.checkLabels(labels, C)` before training.
 *
 * @example
 * const loss = ts.crossEntropy(model(x), ts.tensor([3, 1, 4], { dtype: 'int32' }));
 * const teacherLogits = ts.noGrad(() => model(x));   // e.g. a bigger model's scores
 * const soft = ts.crossEntropy(logits, ts.softmax(teacherLogits));   // probability targets
 */
export function crossEntropy(logits: Tensor, labels: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  tensorArg('crossEntropy', logits, 'logits');
  tensorArg('crossEntropy', labels, 'labels');
  checkLabelShapes('crossEntropy', logits, labels);
  const reduction = opts.reduction ?? 'mean';
  if (!['mean', 'sum', 'none'].includes(reduction))
    throw opError('crossEntropy', `reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
  const rows = Tensor._fromOp('softmaxCrossEntropy', [logits, labels], {});
  if (reduction === 'none') return rows;
  // One reduction over the per-row losses; the sum op's gradient broadcasts the scale back.
  const total = rows.sum();
  rows.dispose();
  if (reduction === 'sum') return total;
  const mean = total.mul(1 / logits.shape[0]!);
  total.dispose();
  return mean;
}

/**
 * Reads int32 class ids back and throws an Error naming the first one outside [0, numClasses).
 * `crossEntropy` itself cannot throw for them without a GPU round trip (it yields NaN instead),
 * so call this once on a dataset's labels, or in tests.
 *
 * @example
 * await ts.checkLabels(labels, 10);   // throws "checkLabels: labels[7] is 12, outside [0, 10) ..."
 */
export async function checkLabels(labels: Tensor, numClasses: number): Promise<void> {
  tensorArg('checkLabels', labels, 'labels');
  if (labels.dtype !== 'int32') {
    throw opError('checkLabels', `labels ${fmtShape(labels.shape)} are ${labels.dtype}; expected int32 class ids`, "Use ts.tensor(ids, { dtype: 'int32' })");
  }
  if (!Number.isInteger(numClasses) || numClasses <= 0) throw opError('checkLabels', `numClasses must be a positive integer, got ${numClasses}`);
  const ids = await labels.data();
  const bad = ids.findIndex((v) => v < 0 || v >= numClasses);
  if (bad >= 0) {
    throw opError(
      'checkLabels',
      `labels[${bad}] is ${ids[bad]}, outside [0, ${numClasses}) for labels ${fmtShape(labels.shape)}`,
      `Class ids must be 0..${numClasses - 1}`,
    );
  }
}
