import { broadcastStrides, sizeOf, stridesOf, type DeviceBuffer } from '@tessera/core';
import { grid1d, kernelCall, type KernelCall } from '../spec.js';
import type { KernelBuilders } from './context.js';
import { collapseDims, u32x8 } from './util.js';

/**
 * Copies the box `shape` from `x` (read with `xStrides` from `xOffset`) into `out` (written with
 * `outStrides` from `outOffset`). Transpose, slice, pad, broadcast, concat and assign are all
 * this copy.
 */
export function copyCall(
  x: DeviceBuffer,
  out: DeviceBuffer,
  shape: readonly number[],
  xStrides: readonly number[],
  xOffset: number,
  outStrides: readonly number[],
  outOffset: number,
): KernelCall<'copy'> {
  const size = sizeOf(shape);
  const c = collapseDims(shape, [xStrides, outStrides]);
  return kernelCall({
    kernel: 'copy',
    uniforms: {
      size,
      rank: c.shape.length,
      x_offset: xOffset,
      out_offset: outOffset,
      shape: u32x8(c.shape),
      x_strides: u32x8(c.strides[0]!),
      out_strides: u32x8(c.strides[1]!),
    },
    buffers: { x, out },
    workgroups: grid1d(size),
  });
}

function fillZero(out: DeviceBuffer, size: number): KernelCall<'fill'> {
  return kernelCall({ kernel: 'fill', uniforms: { size, bits: 0 }, buffers: { out }, workgroups: grid1d(size) });
}

const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, v, i) => s + v * b[i]!, 0);

export const shapeKernels: KernelBuilders<'reshape' | 'transpose' | 'slice' | 'pad' | 'broadcastTo' | 'concat'> = {
  // A view: core never runs it; a plain copy keeps the table total.
  reshape: ({ inputs: [x], out }) => copyCall(x!.buf, out.buf, [out.size], [1], 0, [1], 0),
  transpose({ inputs: [x], out, params: { perm } }) {
    const xs = stridesOf(x!.shape);
    return copyCall(
      x!.buf,
      out.buf,
      out.shape,
      perm.map((p) => xs[p]!),
      0,
      stridesOf(out.shape),
      0,
    );
  },
  slice({ inputs: [x], out, params: { begin } }) {
    const xs = stridesOf(x!.shape);
    return copyCall(x!.buf, out.buf, out.shape, xs, dot(begin, xs), stridesOf(out.shape), 0);
  },
  pad({ inputs: [x], out, params: { before } }) {
    const os = stridesOf(out.shape);
    return [fillZero(out.buf, out.size), copyCall(x!.buf, out.buf, x!.shape, stridesOf(x!.shape), 0, os, dot(before, os))];
  },
  broadcastTo: ({ inputs: [x], out }) => copyCall(x!.buf, out.buf, out.shape, broadcastStrides(x!.shape, out.shape), 0, stridesOf(out.shape), 0),
  concat({ inputs, out, params: { axis } }) {
    const os = stridesOf(out.shape);
    let at = 0;
    return inputs
      .filter((x) => x.size > 0)
      .map((x) => {
        const call = copyCall(x.buf, out.buf, x.shape, stridesOf(x.shape), 0, os, at * os[axis]!);
        at += x.shape[axis]!;
        return call;
      });
  },
};
