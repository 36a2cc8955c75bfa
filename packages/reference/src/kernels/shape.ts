import { broadcastStrides, stridesOf } from '@tessera/core';
import { u32Of } from '../buffer.js';
import { offsetOf, type KernelGroup } from './util.js';

/**
 * Data movement. Every op here copies raw 32-bit words, so it works for both dtypes and keeps
 * NaN payloads; each is "out[i] = x[offset of i]" for some way of reading x, as in
 * kernels/copy.wgsl.
 */

/**
 * Copies the box `shape` from `src` (read at srcStart + sum k_d * srcStrides[d]) to `dst`
 * (written at dstStart + sum k_d * dstStrides[d]), visiting the box in row-major order.
 */
function copyBox(
  src: Uint32Array,
  srcStrides: readonly number[],
  srcStart: number,
  dst: Uint32Array,
  dstStrides: readonly number[],
  dstStart: number,
  shape: readonly number[],
): void {
  let size = 1;
  for (const n of shape) size *= n;
  for (let i = 0; i < size; i++) {
    dst[dstStart + offsetOf(i, shape, dstStrides)] = src[srcStart + offsetOf(i, shape, srcStrides)]!;
  }
}

/** Sum of a[d] * b[d]: the offset of a multi-index in a strided layout. */
const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, v, d) => s + v * b[d]!, 0);

export const shapeKernels: KernelGroup<'reshape' | 'transpose' | 'slice' | 'pad' | 'broadcastTo' | 'concat'> = {
  /** A view in core (never run there); as a kernel, a plain copy of the elements. */
  reshape({ inputs: [x], out }) {
    u32Of(out).set(u32Of(x!).subarray(0, out.size));
  },

  /** out[i_0, ..., i_r] = x[j] with j's axis perm[d] equal to i_d. */
  transpose({ inputs: [x], out, params: { perm } }) {
    const xStrides = stridesOf(x!.shape);
    copyBox(
      u32Of(x!),
      perm.map((p) => xStrides[p]!),
      0,
      u32Of(out),
      stridesOf(out.shape),
      0,
      out.shape,
    );
  },

  /** out[i] = x[begin + i] along every axis. */
  slice({ inputs: [x], out, params: { begin } }) {
    const xStrides = stridesOf(x!.shape);
    copyBox(u32Of(x!), xStrides, dot(begin, xStrides), u32Of(out), stridesOf(out.shape), 0, out.shape);
  },

  /** Zeros, with x placed at offset `before` along every axis (`after` is implied by the shape). */
  pad({ inputs: [x], out, params: { before } }) {
    const o = u32Of(out);
    o.fill(0);
    const outStrides = stridesOf(out.shape);
    copyBox(u32Of(x!), stridesOf(x!.shape), 0, o, outStrides, dot(before, outStrides), x!.shape);
  },

  /** NumPy broadcasting: size-1 and missing axes of x are re-read (stride 0). */
  broadcastTo({ inputs: [x], out }) {
    copyBox(u32Of(x!), broadcastStrides(x!.shape, out.shape), 0, u32Of(out), stridesOf(out.shape), 0, out.shape);
  },

  /** The inputs one after another along `axis`. */
  concat({ inputs, out, params: { axis } }) {
    const o = u32Of(out);
    const outStrides = stridesOf(out.shape);
    let at = 0;
    for (const x of inputs) {
      copyBox(u32Of(x), stridesOf(x.shape), 0, o, outStrides, at * outStrides[axis]!, x.shape);
      at += x.shape[axis]!;
    }
  },
};
