import type { KernelArgs, OpParams } from '@tessera/core';
import type { WasmKernel } from '../contract.js';

/**
 * arange and random (assembly/creation.ts), bit for bit the reference's: arange in float32
 * (or wrapping int32) arithmetic, random the counter-based stream of kernels/random.wgsl, so a
 * tensor made with a seed is the same on this backend as on the reference (uniform in float32
 * operations; normal's Box-Muller in float64 with V8's log and cos). Both split across threads
 * by element ranges: element i depends on i alone.
 */

/**
 * The reference's f32ToI32 (WGSL i32(f32(x)) as Tint compiles it): truncation after clamping
 * to [-2^31, 2147483520], NaN to -2^31.
 */
function f32ToI32(x: number): number {
  const v = Math.fround(x);
  if (Number.isNaN(v) || v <= -2147483648) return -2147483648;
  if (v >= 2147483520) return 2147483520;
  return Math.trunc(v);
}

/**
 * arange: out[i] = start + f32(i) * step (float32), or i32(start) + i * i32(step) (int32).
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof arange>;
 * arange(args, rt);
 */
export const arange: WasmKernel = (raw, rt) => {
  const { out, params } = raw as unknown as KernelArgs<OpParams['arange']>;
  const isInt = out.dtype === 'int32';
  const [start, step] = isInt ? [f32ToI32(params.start), f32ToI32(params.step)] : [Math.fround(params.start), Math.fround(params.step)];
  const po = rt.ptr(out.buf);
  rt.parallel(out.size, out.size, (lo, hi, call) => {
    call('arange', po + 4 * lo, lo, hi - lo, start, step, isInt ? 1 : 0);
  });
  return true;
};

/**
 * random: uniform in [a, b) or normal (mean a, standard deviation b) numbers of stream
 * (params.seed, params.stream), element i the reference's uniformAt / normalAt of i.
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof random>;
 * random(args, rt);
 */
export const random: WasmKernel = (raw, rt) => {
  const { out, params } = raw as unknown as KernelArgs<OpParams['random']>;
  if (out.dtype !== 'float32') return false;
  const normal = params.dist === 'normal' ? 1 : 0;
  // (seed and stream as the reference's u32: a module i32 argument keeps the same 32 bits.)
  const [seed, stream] = [params.seed >>> 0, params.stream >>> 0];
  const [a, b] = [Math.fround(params.a), Math.fround(params.b)];
  const po = rt.ptr(out.buf);
  rt.parallel(out.size, out.size * (normal ? 32 : 4), (lo, hi, call) => {
    call('random', po + 4 * lo, lo, hi - lo, seed, stream, normal, a, b);
  });
  return true;
};
