import type { KernelArgs, ReduceParams } from '@tessera/core';
import type { WasmKernel } from '../contract.js';
import { allF32, fn } from './util.js';

/**
 * Float32 reductions over axes that form one contiguous run once size-1 axes are ignored, as
 * x [outer, red, inner] -> [outer, inner] (assembly/reduce.ts, float64 accumulation in the
 * reference's order, so equal results; max/min/argmax/argmin with its first-wins and NaN rules).
 * Other axis sets, int32 inputs and empty reductions fall back.
 */

/**
 * Splits `shape` into [outer, red, inner] for a reduction over `axes`, or null when the
 * reduced axes of size > 1 are not adjacent.
 *
 * @example
 * splitAxes([64, 6, 28, 28], [0, 2, 3]);   // null
 * splitAxes([64, 120], [0]);               // { outer: 1, red: 64, inner: 120 }
 */
export function splitAxes(shape: readonly number[], axes: readonly number[]): { outer: number; red: number; inner: number } | null {
  let first = -1;
  let last = -1;
  for (let d = 0; d < shape.length; d++) {
    if (!axes.includes(d) || shape[d] === 1) continue;
    if (first < 0) first = d;
    last = d;
  }
  let [outer, red, inner] = [1, 1, 1];
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (first < 0 || d < first) outer *= n;
    else if (d > last) inner *= n;
    else if (axes.includes(d) || n === 1) red *= n;
    else return null;
  }
  return { outer, red, inner };
}

/**
 * sum over params.axes (float32).
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof sum>;
 * sum(args, rt);
 */
export const sum: WasmKernel = (raw, rt) => {
  const { inputs, out, params } = raw as unknown as KernelArgs<ReduceParams>;
  const [x] = inputs;
  if (!x || !allF32(x, out)) return false;
  const split = splitAxes(x.shape, params.axes);
  if (!split) return false;
  const acc = rt.scratch(Math.max(16, 8 * split.inner));
  fn(rt, 'sumAxis')(rt.ptr(x.buf), rt.ptr(out.buf), split.outer, split.red, split.inner, acc);
  return true;
};

/** The module's extremeAxis modes. */
const EXTREME_MODES = { max: 0, min: 1, argmax: 2, argmin: 3 } as const;

/**
 * max, min (float32 out) and argmax, argmin (int32 out) over params.axes of a float32 input.
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof EXTREME_KERNELS.argmax>;
 * EXTREME_KERNELS.argmax(args, rt);   // the first index of each row's maximum
 */
export const EXTREME_KERNELS = Object.fromEntries(
  Object.entries(EXTREME_MODES).map(([name, mode]) => {
    const kernel: WasmKernel = (raw, rt) => {
      const { inputs, out, params } = raw as unknown as KernelArgs<ReduceParams>;
      const [x] = inputs;
      if (x?.dtype !== 'float32' || out.dtype !== (mode >= 2 ? 'int32' : 'float32')) return false;
      const split = splitAxes(x.shape, params.axes);
      if (!split || split.red === 0) return false;
      fn(rt, 'extremeAxis')(rt.ptr(x.buf), rt.ptr(out.buf), split.outer, split.red, split.inner, mode);
      return true;
    };
    return [name, kernel];
  }),
) as Record<keyof typeof EXTREME_MODES, WasmKernel>;
