import { normalizeAxes, normalizeAxis, sizeOf } from '../shape.js';
import { requireTensor } from '../checks.js';
import { Tensor } from '../tensor.js';
import { tidy } from './memory.js';

type Axis = number | readonly number[] | undefined;

const reduce =
  (op: 'sum' | 'max' | 'min') =>
  (x: Tensor, axis?: Axis, keepdims = false): Tensor =>
    Tensor._fromOp(op, [x], { axes: normalizeAxes(op, axis, requireTensor(op, x, 'input').shape), keepdims });

/** Sum over `axis` (all axes when omitted). @example x.sum(1, true) */
export const sum = reduce('sum');
/** Largest value over `axis`. @example logits.max(-1, true) */
export const max = reduce('max');
/** Smallest value over `axis`. @example x.min() */
export const min = reduce('min');

/**
 * Mean over `axis` (all axes when omitted); the result is float32.
 *
 * @example
 * loss.mean();
 */
export function mean(x: Tensor, axis?: Axis, keepdims = false): Tensor {
  const axes = normalizeAxes('mean', axis, requireTensor('mean', x, 'input').shape);
  const n = sizeOf(axes.map((a) => x.shape[a]!));
  return tidy(() => Tensor._fromOp('sum', [x.dtype === 'int32' ? x.cast('float32') : x], { axes, keepdims }).mul(1 / n));
}

/** Index of the largest value along `axis` (int32; the first one on ties). @example logits.argmax(1) */
export function argmax(x: Tensor, axis: number): Tensor {
  requireTensor('argmax', x, 'input');
  return Tensor._fromOp('argmax', [x], { axes: [normalizeAxis('argmax', axis, x.rank, x.shape)], keepdims: false });
}

/** Index of the smallest value along `axis` (int32). @example ts.tensor([[3, 1], [0, 2]]).argmin(0)   // [1, 0] */
export function argmin(x: Tensor, axis: number): Tensor {
  requireTensor('argmin', x, 'input');
  return Tensor._fromOp('argmin', [x], { axes: [normalizeAxis('argmin', axis, x.rank, x.shape)], keepdims: false });
}
