import type { KernelArgs } from '@tessera/core';
import type { WasmKernel } from '../contract.js';
import { allF32, fn } from './util.js';

/**
 * Softmax cross-entropy forward and backward (assembly/softmax.ts), float64 inside like the
 * reference: labels are int32 class ids [N] or float32 target rows [N, C]; aux[0] [N, 3] holds
 * each row's (max, log1p(rest), target sum) for the backward pass.
 */

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
