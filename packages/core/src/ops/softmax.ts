import { isFloatDType } from '../dtype.js';
import { fmtShape, opError } from '../errors.js';
import { sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import type { OpDefs, TensorInfo } from './registry.js';
import { requireFloat32 } from './gradutil.js';

/**
 * Fused, numerically stable softmax / log-softmax along any axis, and softmax cross-entropy.
 * As separate tensor ops these take 5-7 dispatches and as many full-size temporaries each; fused
 * they are one pass per direction, and the max-subtraction lives inside the kernel.
 */

/**
 * How a row-wise kernel sees a tensor around `axis`: [outer, D, inner], with `rows` = outer *
 * inner rows of D elements each (element j of row r sits at (r / inner) * D * inner + j * inner
 * + r % inner).
 */
export function softmaxRows(shape: readonly number[], axis: number) {
  const D = shape[axis]!;
  const inner = sizeOf(shape.slice(axis + 1));
  return { rows: sizeOf(shape.slice(0, axis)) * inner, D, inner };
}

function checkAxis(op: string, x: TensorInfo, axis: number): void {
  requireFloat32(op, x);
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) {
    throw opError(op, `axis ${axis} is out of range for input ${fmtShape(x.shape)}`);
  }
}

function softmaxDef(log: boolean): OpDefs<'softmax'>['softmax'] {
  const op = log ? 'logSoftmax' : 'softmax';
  return {
    shape([x], { axis }) {
      checkAxis(op, x!, axis);
      return { shape: x!.shape, dtype: 'float32' };
    },
    grad: (dy, { out, params }) => [Tensor._fromOp('softmaxBackward', [out, dy], { axis: params.axis, log })],
  };
}

/** Labels are int32 ids [N] or float32 probability rows [N, C]; the error says which fit. */
export function checkLabels(op: string, logits: TensorInfo, labels: TensorInfo): void {
  if (logits.shape.length !== 2 || !isFloatDType(logits.dtype)) {
    throw opError(
      op,
      `logits ${fmtShape(logits.shape)} ${logits.dtype} are not a float [N, C] matrix`,
      'Flatten them to [N, C] first (and cast int32 scores to float32)',
    );
  }
  const [n, c] = logits.shape as [number, number];
  const ids = labels.dtype === 'int32';
  const ok = ids ? labels.shape.length === 1 && labels.shape[0] === n : labels.shape.length === 2 && labels.shape[0] === n && labels.shape[1] === c;
  if (!ok) {
    // Class ids made with ts.tensor([3, 1, 4]) are float32: say how to make them int32.
    const floatIds = !ids && labels.shape.length === 1 && labels.shape[0] === n;
    throw opError(
      op,
      `labels ${fmtShape(labels.shape)} ${labels.dtype} do not fit logits ${fmtShape(logits.shape)}`,
      floatIds
        ? `Class ids must be int32: create them with ts.tensor(ids, { dtype: 'int32' }) or convert with labels.cast('int32') (ts.tensor([3, 1, 4]) is float32)`
        : `Expected int32 class ids [${n}] or float32 probabilities [${n}, ${c}]`,
    );
  }
  if (c === 0) throw opError(op, `logits ${fmtShape(logits.shape)} have no classes`);
}

export const softmaxOps: OpDefs<'softmax' | 'logSoftmax' | 'softmaxBackward' | 'softmaxCrossEntropy' | 'softmaxCrossEntropyBackward'> = {
  softmax: softmaxDef(false),
  logSoftmax: softmaxDef(true),

  // Inputs: the forward output y and dy.
  softmaxBackward: {
    shape([y, dy], { axis }) {
      checkAxis('softmaxBackward', y!, axis);
      if (dy!.shape.length !== y!.shape.length || dy!.shape.some((d, i) => d !== y!.shape[i])) {
        throw opError('softmaxBackward', `output gradient ${fmtShape(dy!.shape)} does not match output ${fmtShape(y!.shape)}`);
      }
      return { shape: y!.shape, dtype: 'float32' };
    },
    grad: null,
  },

  // Per-row losses [N]; each row's maximum, log-sum-exp above it and target sum are saved
  // (aux [N, 3]) for the backward kernel.
  softmaxCrossEntropy: {
    shape([x, labels]) {
      checkLabels('crossEntropy', x!, labels!);
      const n = x!.shape[0]!;
      return { shape: [n], dtype: 'float32', aux: [{ shape: [n, 3], dtype: 'float32' }] };
    },
    grad(dy, { inputs: [x, labels], aux: [stats], needs }) {
      const dx = needs[0] ? Tensor._fromOp('softmaxCrossEntropyBackward', [x!, labels!, stats!, dy], {}) : null;
      // Probability targets get d loss_n / d t[n,c] = -log_softmax(x)[n,c], as in PyTorch.
      const dt = needs[1]
        ? Tensor._fromOp('logSoftmax', [x!], { axis: 1 })
            .mul(dy.reshape([dy.size, 1]))
            .neg()
        : null;
      return [dx, dt];
    },
  },

  // Inputs: logits, labels, the saved row statistics and the per-row loss gradient.
  softmaxCrossEntropyBackward: {
    shape([x, labels, stats, dy]) {
      checkLabels('crossEntropy', x!, labels!);
      const n = x!.shape[0]!;
      if (stats!.shape.length !== 2 || stats!.shape[0] !== n || stats!.shape[1] !== 3) {
        throw opError(
          'softmaxCrossEntropyBackward',
          `row statistics ${fmtShape(stats!.shape)} do not match logits ${fmtShape(x!.shape)}`,
          `Expected [${n}, 3]`,
        );
      }
      if (dy!.shape.length !== 1 || dy!.shape[0] !== n) {
        throw opError('softmaxCrossEntropyBackward', `loss gradient ${fmtShape(dy!.shape)} does not match logits ${fmtShape(x!.shape)}`, `Expected [${n}]`);
      }
      return { shape: x!.shape, dtype: 'float32' };
    },
    grad: null,
  },
};
