import { stridesOf, type KernelArgs, type ReduceParams } from '@tessera/core';
import { f32Of, floatsOf, i32Of } from '../buffer.js';
import { f32ToI32, offsetOf, type KernelGroup } from './util.js';

/**
 * Reductions over `params.axes`, as kernels/reduce.wgsl computes them. For each output element
 * (the kept axes, row-major) the reduced sub-box is walked in row-major order over the reduced
 * axes; `r` below is the position in that walk, which is the index along the axis when one axis
 * is reduced (what argmax/argmin return).
 *
 * - sum: float64 accumulation for float32 input; wrapping int32 arithmetic for int32 input.
 * - max/min/argmax/argmin: values are loaded as float32 (int32 through f32(i32)); the first
 *   strict extreme wins ties, and the first NaN wins over everything (PyTorch): once the running
 *   value is NaN nothing replaces it. An int32 max/min is stored back with i32().
 */

type ReduceName = 'sum' | 'max' | 'min' | 'argmax' | 'argmin';

/** Where each output element's sub-box starts, and the offsets of the sub-box's elements. */
function layout(shape: readonly number[], axes: readonly number[]) {
  const strides = stridesOf(shape);
  const kept = shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const keptShape = kept.map((d) => shape[d]!);
  const keptStrides = kept.map((d) => strides[d]!);
  const redShape = axes.map((d) => shape[d]!);
  const redStrides = axes.map((d) => strides[d]!);
  let redSize = 1;
  for (const n of redShape) redSize *= n;
  const base = (o: number): number => offsetOf(o, keptShape, keptStrides);
  const step = (r: number): number => offsetOf(r, redShape, redStrides);
  return { base, step, redSize };
}

function reduction(name: ReduceName) {
  return ({ inputs: [x], out, params }: KernelArgs<ReduceParams>): void => {
    const { base, step, redSize } = layout(x!.shape, params.axes);

    // Integer sum: exact, wrapping like WGSL's i32 addition.
    if (name === 'sum' && x!.dtype === 'int32') {
      const xs = i32Of(x!);
      const o = i32Of(out);
      for (let i = 0; i < out.size; i++) {
        let acc = 0;
        for (let r = 0; r < redSize; r++) acc = (acc + xs[base(i) + step(r)]!) | 0;
        o[i] = acc;
      }
      return;
    }

    const xs = floatsOf(x!);
    const result = new Float64Array(out.size);
    for (let i = 0; i < out.size; i++) {
      const start = base(i);
      if (name === 'sum') {
        let acc = 0;
        for (let r = 0; r < redSize; r++) acc += xs[start + step(r)]!;
        result[i] = acc;
        continue;
      }
      const wantsMax = name === 'max' || name === 'argmax';
      let best = 0;
      let at = 0;
      for (let r = 0; r < redSize; r++) {
        const v = xs[start + step(r)]!;
        const better = wantsMax ? v > best : v < best;
        const nanBeatsNumber = Number.isNaN(v) && !Number.isNaN(best);
        if (r === 0 || better || nanBeatsNumber) {
          best = v;
          at = r;
        }
      }
      result[i] = name === 'argmax' || name === 'argmin' ? at : best;
    }

    if (out.dtype === 'int32') {
      const o = i32Of(out);
      for (let i = 0; i < out.size; i++) o[i] = name.startsWith('arg') ? result[i]! : f32ToI32(result[i]!);
    } else {
      f32Of(out).set(result);
    }
  };
}

export const reduceKernels: KernelGroup<ReduceName> = {
  sum: reduction('sum'),
  max: reduction('max'),
  min: reduction('min'),
  argmax: reduction('argmax'),
  argmin: reduction('argmin'),
};
