import { broadcastStrides, stridesOf, type KernelArgs, type KernelTensor, type OpParams } from '@tessera/core';
import type { WasmKernel, WasmRuntime } from '../contract.js';
import { allF32, collapse, fn } from './util.js';

/**
 * Data movement (assembly/data.ts): slice, transpose, broadcastTo, reshape, pad and concat as
 * strided box copies of 32-bit words (any dtype, NaN payloads kept, like the reference), fill
 * and where. A box that does not collapse to 4 loop levels (3 for where) falls back.
 */

/** Pads collapsed sizes and strides to `levels` levels at the outside (size 1, stride 0). */
function toLevels(shape: number[], strides: number[][], levels: number): boolean {
  if (shape.length > levels) return false;
  while (shape.length < levels) {
    shape.unshift(1);
    for (const s of strides) s.unshift(0);
  }
  return true;
}

/**
 * Copies the box `shape` from word offset srcStart of src's buffer, read through srcStrides, to
 * dstStart of dst's, written through dstStrides (element strides); false if it needs more than
 * 4 loop levels.
 */
function copy(
  rt: WasmRuntime,
  src: KernelTensor,
  srcStrides: readonly number[],
  srcStart: number,
  dst: KernelTensor,
  dstStrides: readonly number[],
  dstStart: number,
  shape: readonly number[],
): boolean {
  if (shape.includes(0)) return true;
  const c = collapse(shape, [srcStrides, dstStrides]);
  if (!toLevels(c.shape, c.strides, 4)) return false;
  const [s, t] = c.strides as [number[], number[]];
  fn(rt, 'copyBox')(rt.ptr(src.buf) + 4 * srcStart, s[0]!, s[1]!, s[2]!, s[3]!, rt.ptr(dst.buf) + 4 * dstStart, t[0]!, t[1]!, t[2]!, t[3]!, ...c.shape);
  return true;
}

/** Sum of a[d] * b[d]. */
const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, v, d) => s + v * b[d]!, 0);

/** Whether a multi-step copy can run: every box collapses to 4 levels (checked before writing). */
const fits = (shape: readonly number[], ...strides: (readonly number[])[]): boolean => collapse(shape, strides).shape.length <= 4;

/**
 * slice, transpose, broadcastTo, reshape, pad, concat and fill by op name.
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof DATA_KERNELS.slice>;
 * DATA_KERNELS.slice(args, rt);   // out[i] = x[begin + i]
 */
export const DATA_KERNELS: Record<'slice' | 'transpose' | 'broadcastTo' | 'reshape' | 'pad' | 'concat' | 'fill', WasmKernel> = {
  slice: (raw, rt) => {
    const { inputs, out, params } = raw as unknown as KernelArgs<OpParams['slice']>;
    const x = inputs[0]!;
    const xs = stridesOf(x.shape);
    return copy(rt, x, xs, dot(params.begin, xs), out, stridesOf(out.shape), 0, out.shape);
  },
  transpose: (raw, rt) => {
    const { inputs, out, params } = raw as unknown as KernelArgs<OpParams['transpose']>;
    const x = inputs[0]!;
    const xs = stridesOf(x.shape);
    return copy(
      rt,
      x,
      params.perm.map((p) => xs[p]!),
      0,
      out,
      stridesOf(out.shape),
      0,
      out.shape,
    );
  },
  broadcastTo: (raw, rt) => {
    const { inputs, out } = raw as unknown as KernelArgs<{}>;
    const x = inputs[0]!;
    return copy(rt, x, broadcastStrides(x.shape, out.shape), 0, out, stridesOf(out.shape), 0, out.shape);
  },
  reshape: (raw, rt) => {
    const { inputs, out } = raw as unknown as KernelArgs<{}>;
    return copy(rt, inputs[0]!, [1], 0, out, [1], 0, [out.size]);
  },
  pad: (raw, rt) => {
    const { inputs, out, params } = raw as unknown as KernelArgs<OpParams['pad']>;
    const x = inputs[0]!;
    const os = stridesOf(out.shape);
    if (!fits(x.shape, stridesOf(x.shape), os)) return false;
    fn(rt, 'fill32')(rt.ptr(out.buf), 0, out.size);
    return copy(rt, x, stridesOf(x.shape), 0, out, os, dot(params.before, os), x.shape);
  },
  concat: (raw, rt) => {
    const { inputs, out, params } = raw as unknown as KernelArgs<OpParams['concat']>;
    const os = stridesOf(out.shape);
    if (!inputs.every((x) => fits(x.shape, stridesOf(x.shape), os))) return false;
    let at = 0;
    for (const x of inputs) {
      copy(rt, x, stridesOf(x.shape), 0, out, os, at * os[params.axis]!, x.shape);
      at += x.shape[params.axis]!;
    }
    return true;
  },
  fill: (raw, rt) => {
    const { out, params } = raw as unknown as KernelArgs<OpParams['fill']>;
    // The word the reference's Int32Array / Float32Array fill stores.
    const word = out.dtype === 'int32' ? new Int32Array([params.value]) : new Float32Array([params.value]);
    fn(rt, 'fill32')(rt.ptr(out.buf), new Uint32Array(word.buffer)[0]!, out.size);
    return true;
  },
};

/**
 * where(cond, a, b) with a float32 cond and a, b of the output's dtype, broadcast.
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof where>;
 * where(args, rt);   // out = cond != 0 ? a : b
 */
export const where: WasmKernel = (raw, rt) => {
  const { inputs, out } = raw as unknown as KernelArgs<{}>;
  const [cond, a, b] = inputs;
  if (!cond || !a || !b || !allF32(cond) || a.dtype !== out.dtype || b.dtype !== out.dtype) return false;
  if (out.size === 0) return true;
  const c = collapse(
    out.shape,
    [cond, a, b].map((t) => broadcastStrides(t.shape, out.shape)),
  );
  if (!toLevels(c.shape, c.strides, 3)) return false;
  const [sc, sa, sb] = c.strides as [number[], number[], number[]];
  fn(rt, 'where')(rt.ptr(cond.buf), ...sc, rt.ptr(a.buf), ...sa, rt.ptr(b.buf), ...sb, rt.ptr(out.buf), ...c.shape);
  return true;
};
