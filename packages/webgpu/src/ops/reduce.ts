import { sizeOf, stridesOf, type KernelArgs, type ReduceParams } from '@tessera/core';
import { grid1d, kernelCall } from '../spec.js';
import type { KernelBuilders } from './context.js';
import { collapseDims, isInt, u32x8 } from './util.js';

/** Reduction codes; they must match the `OP` switch in kernels/reduce.wgsl. */
const REDUCE = { sum: 0, max: 1, min: 2, argmax: 3, argmin: 4 } as const;

function reduction(fn: keyof typeof REDUCE) {
  return ({ inputs: [x], out, params }: KernelArgs<ReduceParams>) => {
    const strides = stridesOf(x!.shape);
    const kept = x!.shape.map((_, i) => i).filter((i) => !params.axes.includes(i));
    const o = collapseDims(
      kept.map((i) => x!.shape[i]!),
      [kept.map((i) => strides[i]!)],
    );
    // argmax/argmin report the index along their one axis, so that axis is never merged away.
    const r = fn.startsWith('arg')
      ? { shape: params.axes.map((a) => x!.shape[a]!), strides: [params.axes.map((a) => strides[a]!)] }
      : collapseDims(
          params.axes.map((a) => x!.shape[a]!),
          [params.axes.map((a) => strides[a]!)],
        );
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
  };
}

export const reduceKernels: KernelBuilders<keyof typeof REDUCE> = {
  sum: reduction('sum'),
  max: reduction('max'),
  min: reduction('min'),
  argmax: reduction('argmax'),
  argmin: reduction('argmin'),
};
