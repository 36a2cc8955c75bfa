import { softmaxRows, type KernelArgs, type OpParams } from '@tessera/core';
import type { WasmKernel } from '../contract.js';
import { allF32, fn } from './util.js';

/**
 * Softmax cross-entropy forward and backward (assembly/softmax.ts), float64 inside like the
 * reference: labels are int32 class ids [N] or float32 target rows [N, C]; aux[0] [N, 3] holds
 * each row's (max, log1p(rest), target sum) for the backward pass. Softmax, log-softmax and
 * their gradient along any axis, bit for bit the reference's (its exp and log1p are V8's).
 */

/** Element visits a row element costs in the split across threads (an exp is some 20 flops). */
const EXP_WORK = 16;

function softmaxKernel(log: boolean): WasmKernel {
  return (raw, rt) => {
    const { inputs, out, params } = raw as unknown as KernelArgs<OpParams['softmax']>;
    const [x] = inputs;
    if (!x || !allF32(x, out)) return false;
    const { rows, D, inner } = softmaxRows(x.shape, params.axis);
    if (rows === 0 || D === 0) return true;
    const [px, po] = [rt.ptr(x.buf), rt.ptr(out.buf)];
    rt.parallel(rows, rows * D * EXP_WORK, (lo, hi, call) => {
      call('softmaxRows', px, po, lo, hi, D, inner, log ? 1 : 0, rt.scratch(8 * D));
    });
    return true;
  };
}

/**
 * softmax and logSoftmax along params.axis: out = exp(x - m) / (1 + rest) or (x - m) - l per row.
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof SOFTMAX_KERNELS.softmax>;
 * SOFTMAX_KERNELS.softmax(args, rt);
 */
export const SOFTMAX_KERNELS: Record<'softmax' | 'logSoftmax', WasmKernel> = {
  softmax: softmaxKernel(false),
  logSoftmax: softmaxKernel(true),
};

/**
 * softmaxBackward: inputs [y (the forward output), dy] -> dx = y * (dy - sum(dy * y)), or for
 * log-softmax dy - exp(y) * sum(dy), per row along params.axis.
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof softmaxBackward>;
 * softmaxBackward(args, rt);
 */
export const softmaxBackward: WasmKernel = (raw, rt) => {
  const { inputs, out, params } = raw as unknown as KernelArgs<OpParams['softmaxBackward']>;
  const [y, dy] = inputs;
  if (!y || !dy || !allF32(y, dy, out) || dy.size !== y.size) return false;
  const { rows, D, inner } = softmaxRows(y.shape, params.axis);
  if (rows === 0 || D === 0) return true;
  const [py, pg, po] = [rt.ptr(y.buf), rt.ptr(dy.buf), rt.ptr(out.buf)];
  rt.parallel(rows, rows * D * (params.log ? EXP_WORK : 2), (lo, hi, call) => {
    call('softmaxBackwardRows', py, pg, po, lo, hi, D, inner, params.log ? 1 : 0);
  });
  return true;
};

/**
 * softmaxCrossEntropy: out [N] losses, aux[0] [N, 3] row statistics.
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof softmaxCrossEntropy>;
 * softmaxCrossEntropy(args, rt);
 */
export const softmaxCrossEntropy: WasmKernel = (raw, rt) => {
  const { inputs, out, aux } = raw as unknown as KernelArgs<{}>;
  const [x, labels] = inputs;
  const stats = aux[0];
  if (!x || !labels || !stats || !allF32(x, out, stats) || x.shape.length !== 2) return false;
  const [N, C] = x.shape as [number, number];
  const ids = labels.dtype === 'int32' ? 1 : 0;
  fn(rt, 'softmaxCrossEntropy')(rt.ptr(x.buf), rt.ptr(labels.buf), ids, rt.ptr(out.buf), rt.ptr(stats.buf), N, C);
  return true;
};

/**
 * softmaxCrossEntropyBackward: inputs [logits, labels, stats, dy [N]] -> dx [N, C].
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof softmaxCrossEntropyBackward>;
 * softmaxCrossEntropyBackward(args, rt);
 */
export const softmaxCrossEntropyBackward: WasmKernel = (raw, rt) => {
  const { inputs, out } = raw as unknown as KernelArgs<{}>;
  const [x, labels, stats, dy] = inputs;
  if (!x || !labels || !stats || !dy || !allF32(x, stats, dy, out) || x.shape.length !== 2) return false;
  const [N, C] = x.shape as [number, number];
  const ids = labels.dtype === 'int32' ? 1 : 0;
  fn(rt, 'softmaxCrossEntropyBackward')(rt.ptr(x.buf), rt.ptr(labels.buf), ids, rt.ptr(stats.buf), rt.ptr(dy.buf), rt.ptr(out.buf), N, C);
  return true;
};
