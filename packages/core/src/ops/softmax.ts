import { engine } from '../engine.js';
import { fmtShape, opError } from '../errors.js';
import { grid1d, kernelCall } from '../kernels.js';
import { sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import type { OpDefs, TensorInfo } from './registry.js';

/**
 * Fused, numerically stable softmax / log-softmax along any axis, and softmax cross-entropy.
 * As separate tensor ops these take 5-7 dispatches and as many full-size temporaries each; fused
 * they are one pass per direction, and the max-subtraction lives inside the kernel.
 */

/** A row-wise kernel sees the tensor as [outer, D, inner] around the axis. */
function rowsOf(shape: readonly number[], axis: number) {
  const D = shape[axis]!;
  const inner = sizeOf(shape.slice(axis + 1));
  return { rows: sizeOf(shape.slice(0, axis)) * inner, D, inner };
}

function checkAxis(op: string, x: TensorInfo, axis: number): void {
  if (x.dtype !== 'float32') throw opError(op, `input of shape ${fmtShape(x.shape)} is ${x.dtype}; expected float32`, 'Convert it with .cast("float32")');
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
    kernel({ inputs: [x], out, params }) {
      const r = rowsOf(x!.shape, params.axis);
      // A GPU gets a workgroup per row once rows are wide enough to share; a CPU adapter, which
      // runs barrier-free code fastest, keeps a thread per row.
      const rows = !engine.backend!.caps.registerTiling && r.D >= 64;
      return kernelCall({
        kernel: rows ? 'softmaxRows' : 'softmax',
        constants: { LOG: log ? 1 : 0 },
        uniforms: r,
        buffers: { x: x!.buf, out: out.buf },
        workgroups: grid1d(rows ? r.rows * 64 : r.rows),
      });
    },
    grad: (dy, { out, params }) => [Tensor._fromOp('softmaxBackward', [out, dy], { axis: params.axis, log })],
  };
}

/** Labels are int32 ids [N] or float32 probability rows [N, C]; the error says which fit. */
export function checkLabels(op: string, logits: TensorInfo, labels: TensorInfo): void {
  if (logits.shape.length !== 2 || logits.dtype !== 'float32') {
    throw opError(op, `logits ${fmtShape(logits.shape)} ${logits.dtype} are not a float32 [N, C] matrix`, 'Flatten them to [N, C] first');
  }
  const [n, c] = logits.shape as [number, number];
  const ids = labels.dtype === 'int32';
  const ok = ids ? labels.shape.length === 1 && labels.shape[0] === n : labels.shape.length === 2 && labels.shape[0] === n && labels.shape[1] === c;
  if (!ok) {
    throw opError(op, `labels ${fmtShape(labels.shape)} ${labels.dtype} do not fit logits ${fmtShape(logits.shape)}`, `Expected int32 class ids [${n}] or float32 probabilities [${n}, ${c}]`);
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
    kernel({ inputs: [y, dy], out, params }) {
      const r = rowsOf(y!.shape, params.axis);
      return kernelCall({
        kernel: 'softmaxBackward',
        constants: { LOG: params.log ? 1 : 0 },
        uniforms: r,
        buffers: { y: y!.buf, dy: dy!.buf, dx: out.buf },
        workgroups: grid1d(r.rows),
      });
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
    kernel({ inputs: [x, labels], out, aux: [stats] }) {
      const [N, C] = x!.shape as [number, number];
      return kernelCall({
        kernel: 'crossEntropy',
        constants: { LABEL_INT: labels!.dtype === 'int32' ? 1 : 0 },
        uniforms: { N, C },
        buffers: { x: x!.buf, labels: labels!.buf, out: out.buf, stats: stats!.buf },
        workgroups: grid1d(N),
      });
    },
    grad(dy, { inputs: [x, labels], aux: [stats], needs }) {
      const dx = needs[0] ? Tensor._fromOp('softmaxCrossEntropyBackward', [x!, labels!, stats!, dy], {}) : null;
      // Probability targets get d loss_n / d t[n,c] = -log_softmax(x)[n,c], as in PyTorch.
      const dt = needs[1] ? Tensor._fromOp('logSoftmax', [x!], { axis: 1 }).mul(dy.reshape([dy.size, 1])).neg() : null;
      return [dx, dt];
    },
  },

  // Inputs: logits, labels, the saved row statistics and the per-row loss gradient.
  softmaxCrossEntropyBackward: {
    shape([x, labels, stats, dy]) {
      checkLabels('crossEntropy', x!, labels!);
      const n = x!.shape[0]!;
      if (stats!.shape.length !== 2 || stats!.shape[0] !== n || stats!.shape[1] !== 3) {
        throw opError('softmaxCrossEntropyBackward', `row statistics ${fmtShape(stats!.shape)} do not match logits ${fmtShape(x!.shape)}`, `Expected [${n}, 3]`);
      }
      if (dy!.shape.length !== 1 || dy!.shape[0] !== n) {
        throw opError('softmaxCrossEntropyBackward', `loss gradient ${fmtShape(dy!.shape)} does not match logits ${fmtShape(x!.shape)}`, `Expected [${n}]`);
      }
      return { shape: x!.shape, dtype: 'float32' };
    },
    kernel({ inputs: [x, labels, stats, dy], out }) {
      const [N, C] = x!.shape as [number, number];
      return kernelCall({
        kernel: 'crossEntropyBackward',
        constants: { LABEL_INT: labels!.dtype === 'int32' ? 1 : 0 },
        uniforms: { N, C },
        buffers: { x: x!.buf, labels: labels!.buf, stats: stats!.buf, dy: dy!.buf, dx: out.buf },
        workgroups: grid1d(N * C),
      });
    },
    grad: null,
  },
};
