import type { DType } from '../dtype.js';
import { fmtShape, opError } from '../errors.js';
import { sizeOf, stridesOf } from '../shape.js';
import { grid1d, kernelCall } from '../kernels.js';
import type { OpDef, OpDefs, ReduceParams } from './registry.js';
import { collapseDims, isInt, u32x8 } from './util.js';

/** Reduction codes; they must match the `OP` switch in kernels/reduce.wgsl. */
const REDUCE = { sum: 0, max: 1, min: 2, argmax: 3, argmin: 4 } as const;

/** The shape a reduction keeps: reduced axes become 1 with keepdims, else vanish. */
export function reducedShape(shape: readonly number[], { axes, keepdims }: ReduceParams): number[] {
  return keepdims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

function reduction(fn: keyof typeof REDUCE, outDtype: (x: DType) => DType, grad: OpDef<ReduceParams>['grad']): OpDef<ReduceParams> {
  return {
    shape([x], p) {
      const empty = p.axes.find((a) => x!.shape[a] === 0);
      if (fn !== 'sum' && empty !== undefined) {
        throw opError(fn, `cannot reduce over axis ${empty} of size 0 in a tensor of shape ${fmtShape(x!.shape)}`, 'There is no identity for this reduction');
      }
      return { shape: reducedShape(x!.shape, p), dtype: outDtype(x!.dtype) };
    },
    kernel({ inputs: [x], out, params }) {
      const strides = stridesOf(x!.shape);
      const kept = x!.shape.map((_, i) => i).filter((i) => !params.axes.includes(i));
      const o = collapseDims(kept.map((i) => x!.shape[i]!), [kept.map((i) => strides[i]!)]);
      // argmax/argmin report the index along their one axis, so that axis is never merged away.
      const r = fn.startsWith('arg')
        ? { shape: params.axes.map((a) => x!.shape[a]!), strides: [params.axes.map((a) => strides[a]!)] }
        : collapseDims(params.axes.map((a) => x!.shape[a]!), [params.axes.map((a) => strides[a]!)]);
      return kernelCall({
        kernel: 'reduce',
        constants: { OP: REDUCE[fn], X_INT: isInt(x!.dtype), OUT_INT: isInt(out.dtype) },
        uniforms: {
          out_size: out.size,
          red_size: sizeOf(r.shape),
          out_rank: o.shape.length,
          red_rank: r.shape.length,
          out_shape: u32x8(o.shape),
          out_strides: u32x8(o.strides[0]!),
          red_shape: u32x8(r.shape),
          red_strides: u32x8(r.strides[0]!),
        },
        buffers: { x: x!.buf, out: out.buf },
        workgroups: grid1d(out.size),
      });
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
  sum: reduction('sum', (d) => d, (dy, { inputs: [x], params }) => [
    dy.reshape(reducedShape(x!.shape, { ...params, keepdims: true })).broadcastTo(x!.shape),
  ]),
  max: reduction('max', (d) => d, extremeGrad),
  min: reduction('min', (d) => d, extremeGrad),
  argmax: reduction('argmax', () => 'int32', null),
  argmin: reduction('argmin', () => 'int32', null),
};
