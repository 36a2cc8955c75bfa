import { requireTensor } from '../checks.js';
import { storageWords } from '../dtype.js';
import { requireBackend } from '../engine.js';
import { fmtShape, opError } from '../errors.js';
import { sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';

/**
 * Overwrites `target`'s values with `value`'s, in place (outside autograd). Long-lived tensors
 * such as parameters keep their identity and their GPU buffer; nothing is allocated.
 *
 * @example
 * ts.assign(w, ts.zerosLike(w));    // reset a parameter
 */
export function assign(target: Tensor, value: Tensor): Tensor {
  requireTensor('assign', target, 'target');
  requireTensor('assign', value, 'value');
  if (!sameShape(target.shape, value.shape) || target.dtype !== value.dtype) {
    throw opError(
      'assign',
      `cannot write ${fmtShape(value.shape)} ${value.dtype} into ${fmtShape(target.shape)} ${target.dtype}`,
      'Shapes and dtypes must match',
    );
  }
  const out = target._use('assign', 'target').buf;
  const x = value._use('assign', 'value').buf;
  if (out === x || target.size === 0) return target;
  requireBackend('assign').copy(x, out, storageWords(target.dtype, target.size));
  return target;
}
