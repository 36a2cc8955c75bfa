import { requireTensor } from '../checks.js';
import { fmtShape, opError } from '../errors.js';
import { checkShape, normalizeAxis, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { arange } from './creation.js';
import { tidy } from './memory.js';

/**
 * The same values in a new shape (one dimension may be -1). Free: no copy is made.
 *
 * @example
 * x.reshape([-1, 784]);
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  if (!Array.isArray(shape)) throw opError('reshape', `shape must be an array, got ${JSON.stringify(shape)}`);
  return Tensor._fromOp('reshape', [x], { shape: [...shape] });
}

/**
 * Permutes dimensions; with no `perm`, reverses them (like NumPy's `x.T`).
 *
 * @example
 * x.transpose([0, 2, 3, 1]);   // NCHW -> NHWC
 */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  requireTensor('transpose', x, 'input');
  const p = perm ? perm.map((a) => normalizeAxis('transpose', a, x.rank, x.shape)) : [...Array(x.rank).keys()].reverse();
  if (p.every((v, i) => v === i)) return x.reshape(x.shape);
  return Tensor._fromOp('transpose', [x], { perm: p });
}

/**
 * Merges dimensions `startDim`..end into one (default 1, keeping the batch dimension).
 *
 * @example
 * ts.zeros([64, 16, 5, 5]).flatten();   // [64, 400]
 */
export function flatten(x: Tensor, startDim = 1): Tensor {
  requireTensor('flatten', x, 'input');
  const s = normalizeAxis('flatten', startDim, Math.max(x.rank, 1), x.shape);
  return x.reshape([...x.shape.slice(0, s), -1]);
}

/**
 * A box of `x` starting at `begin` with extent `size` (-1 or omitted: to the end).
 *
 * @example
 * x.slice([0, 2], [-1, 3]);   // columns 2..4 of every row
 */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  requireTensor('slice', x, 'input');
  if (begin.length !== x.rank || (size && size.length !== x.rank)) {
    throw opError('slice', `begin ${fmtShape(begin)} and size ${fmtShape(size ?? [])} need one entry per dimension of ${fmtShape(x.shape)}`);
  }
  const b = begin.map((v, i) => (v < 0 ? v + x.shape[i]! : v));
  const s = b.map((v, i) => (size === undefined || size[i] === -1 ? x.shape[i]! - v : size[i]!));
  if (sameShape(s, x.shape)) return x.reshape(x.shape);
  return Tensor._fromOp('slice', [x], { begin: b, size: s });
}

/**
 * Zero-pads `x` with `before[i]` and `after[i]` elements on dimension i.
 *
 * @example
 * ts.pad(ts.zeros([8, 1, 28, 28]), [0, 0, 2, 2], [0, 0, 2, 2]);   // [8, 1, 32, 32]
 */
export function pad(x: Tensor, before: readonly number[], after: readonly number[]): Tensor {
  requireTensor('pad', x, 'input');
  if (before.length !== x.rank || after.length !== x.rank || [...before, ...after].some((v) => !Number.isInteger(v) || v < 0)) {
    throw opError('pad', `before ${fmtShape(before)} and after ${fmtShape(after)} need one non-negative integer per dimension of ${fmtShape(x.shape)}`);
  }
  return Tensor._fromOp('pad', [x], { before: [...before], after: [...after] });
}

/** Repeats size-1 dimensions to reach `shape` (a real copy). @example b.broadcastTo([64, 10]) */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  requireTensor('broadcastTo', x, 'input');
  if (sameShape(x.shape, shape)) return x.reshape(shape);
  return Tensor._fromOp('broadcastTo', [x], { shape: checkShape('broadcastTo', [...shape]) });
}

/**
 * Joins tensors along an existing axis.
 *
 * @example
 * ts.concat([a, b], 0);
 */
export function concat(list: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(list) || list.length === 0 || !list.every((t) => t instanceof Tensor)) {
    throw opError('concat', 'expected a non-empty array of tensors');
  }
  const ax = normalizeAxis('concat', axis, list[0]!.rank, list[0]!.shape);
  if (list.length === 1) return list[0]!.reshape(list[0]!.shape);
  return Tensor._fromOp('concat', list, { axis: ax });
}

/** Inserts a size-1 dimension at `axis`. @example ts.expandDims(ts.zeros([8, 10]), 1)   // [8, 1, 10] */
export function expandDims(x: Tensor, axis: number): Tensor {
  requireTensor('expandDims', x, 'input');
  const a = normalizeAxis('expandDims', axis, x.rank + 1, x.shape);
  return x.reshape([...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

/** Removes size-1 dimensions (all, or the ones named). @example ts.squeeze(x, 1) */
export function squeeze(x: Tensor, axis?: number | number[]): Tensor {
  requireTensor('squeeze', x, 'input');
  const axes =
    axis === undefined
      ? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))
      : (typeof axis === 'number' ? [axis] : axis).map((a) => normalizeAxis('squeeze', a, x.rank, x.shape));
  for (const a of axes) if (x.shape[a] !== 1) throw opError('squeeze', `axis ${a} of shape ${fmtShape(x.shape)} has size ${x.shape[a]}, not 1`);
  return x.reshape(x.shape.filter((_, i) => !axes.includes(i)));
}

/**
 * One-hot rows (float32) for int32 class ids; ids outside [0, numClasses) give all-zero rows.
 *
 * @example
 * ts.oneHot(ts.tensor([2, 0], { dtype: 'int32' }), 3);   // [[0,0,1],[1,0,0]]
 */
export function oneHot(labels: Tensor, numClasses: number): Tensor {
  if (!(labels instanceof Tensor) || labels.dtype !== 'int32') {
    throw opError(
      'oneHot',
      `labels must be an int32 tensor, got ${labels instanceof Tensor ? `${labels.dtype} ${fmtShape(labels.shape)}` : typeof labels}`,
      "Use ts.tensor(ids, { dtype: 'int32' })",
    );
  }
  if (!Number.isInteger(numClasses) || numClasses <= 0) throw opError('oneHot', `numClasses must be a positive integer, got ${numClasses}`);
  return tidy(() => labels.reshape([...labels.shape, 1]).eq(arange(0, numClasses)));
}
