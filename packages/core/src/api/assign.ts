import { requireBackend } from '../engine.js';
import { fmtShape, opError } from '../errors.js';
import { grid1d, kernelCall } from '../kernels.js';
import { sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { u32x8 } from '../ops/util.js';

/**
 * Overwrites `target`'s values with `value`'s, in place (outside autograd). Long-lived tensors
 * such as parameters keep their identity and their GPU buffer; nothing is allocated.
 *
 * @example
 * ts.assign(w, ts.zerosLike(w));    // reset a parameter
 */
export function assign(target: Tensor, value: Tensor): Tensor {
  if (!(target instanceof Tensor) || !(value instanceof Tensor)) throw opError('assign', 'expected two tensors');
  if (!sameShape(target.shape, value.shape) || target.dtype !== value.dtype) {
    throw opError('assign', `cannot write ${fmtShape(value.shape)} ${value.dtype} into ${fmtShape(target.shape)} ${target.dtype}`, 'Shapes and dtypes must match');
  }
  const out = target._use('assign', 'target').buf;
  const x = value._use('assign', 'value').buf;
  if (out === x || target.size === 0) return target;
  requireBackend('assign').run(
    kernelCall({
      kernel: 'copy',
      uniforms: { size: target.size, rank: 1, x_offset: 0, out_offset: 0, shape: u32x8([target.size]), x_strides: u32x8([1]), out_strides: u32x8([1]) },
      buffers: { x, out },
      workgroups: grid1d(target.size),
    }),
  );
  return target;
}
