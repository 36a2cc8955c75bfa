import type { DType } from '../dtype.js';
import { fmtShape, opError } from '../errors.js';
import type { OpDef, OpDefs, ReduceParams } from './registry.js';

/** The shape a reduction keeps: reduced axes become 1 with keepdims, else vanish. */
export function reducedShape(shape: readonly number[], { axes, keepdims }: ReduceParams): number[] {
  return keepdims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

function reduction(fn: 'sum' | 'max' | 'min' | 'argmax' | 'argmin', outDtype: (x: DType) => DType, grad: OpDef<ReduceParams>['grad']): OpDef<ReduceParams> {
  return {
    shape([x], p) {
      const empty = p.axes.find((a) => x!.shape[a] === 0);
      if (fn !== 'sum' && empty !== undefined) {
        throw opError(fn, `cannot reduce over axis ${empty} of size 0 in a tensor of shape ${fmtShape(x!.shape)}`, 'There is no identity for this reduction');
      }
      return { shape: reducedShape(x!.shape, p), dtype: outDtype(x!.dtype) };
    },
    grad,
  };
}

/** max/min: the gradient goes to every element equal to the extreme, split evenly (PyTorch's amax). */
const extremeGrad: OpDef<ReduceParams>['grad'] = (dy, { inputs: [x], out, params }) => {
  const keepShape = reducedShape(x!.shape, { ...params, keepdims: true });
  const mask = x!.eq(out.reshape(keepShape));
  const count = mask.sum(params.axes, true);
  return [mask.mul(dy.reshape(keepShape).div(count))];
};

export const reduceOps: OpDefs<'sum' | 'max' | 'min' | 'argmax' | 'argmin'> = {
  sum: reduction(
    'sum',
    (d) => d,
    (dy, { inputs: [x], params }) => [dy.reshape(reducedShape(x!.shape, { ...params, keepdims: true })).broadcastTo(x!.shape)],
  ),
  max: reduction('max', (d) => d, extremeGrad),
  min: reduction('min', (d) => d, extremeGrad),
  argmax: reduction('argmax', () => 'int32', null),
  argmin: reduction('argmin', () => 'int32', null),
};
