import { fmtShape, opError } from '../errors.js';
import { broadcastShapes, broadcastStrides, inferReshape, sameShape, sizeOf, stridesOf } from '../shape.js';
import { grid1d, kernelCall, type DeviceBuffer, type KernelCall } from '../kernels.js';
import type { OpDefs } from './registry.js';
import { collapseDims, u32x8 } from './util.js';
import { unbroadcast } from './gradutil.js';
import { pad as ts_pad } from '../api/shape.js';

/**
 * Copies the box `shape` from `x` (read with `xStrides` from `xOffset`) into `out` (written with
 * `outStrides` from `outOffset`). Transpose, slice, pad, broadcast and concat are all this copy.
 */
function copyCall(
  x: DeviceBuffer, out: DeviceBuffer, shape: readonly number[],
  xStrides: readonly number[], xOffset: number, outStrides: readonly number[], outOffset: number,
): KernelCall<'copy'> {
  const size = sizeOf(shape);
  const c = collapseDims(shape, [xStrides, outStrides]);
  return kernelCall({
    kernel: 'copy',
    uniforms: {
      size, rank: c.shape.length, x_offset: xOffset, out_offset: outOffset,
      shape: u32x8(c.shape), x_strides: u32x8(c.strides[0]!), out_strides: u32x8(c.strides[1]!),
    },
    buffers: { x, out },
    workgroups: grid1d(size),
  });
}

function fillZero(out: DeviceBuffer, size: number): KernelCall<'fill'> {
  return kernelCall({ kernel: 'fill', uniforms: { size, bits: 0 }, buffers: { out }, workgroups: grid1d(size) });
}

const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, v, i) => s + v * b[i]!, 0);

export const shapeOps: OpDefs<'reshape' | 'transpose' | 'slice' | 'pad' | 'broadcastTo' | 'concat'> = {
  reshape: {
    shape: ([x], p) => ({ shape: inferReshape('reshape', x!.shape, p.shape), dtype: x!.dtype }),
    kernel: 'view',
    grad: (dy, { inputs: [x] }) => [dy.reshape(x!.shape)],
  },
  transpose: {
    shape([x], { perm }) {
      const r = x!.shape.length;
      if (perm.length !== r || [...perm].sort((a, b) => a - b).some((v, i) => v !== i)) {
        throw opError('transpose', `perm ${JSON.stringify(perm)} is not a permutation of the ${r} axes of a tensor of shape ${fmtShape(x!.shape)}`);
      }
      return { shape: perm.map((p) => x!.shape[p]!), dtype: x!.dtype };
    },
    kernel({ inputs: [x], out, params: { perm } }) {
      const xs = stridesOf(x!.shape);
      return copyCall(x!.buf, out.buf, out.shape, perm.map((p) => xs[p]!), 0, stridesOf(out.shape), 0);
    },
    grad: (dy, { params: { perm } }) => {
      const inv = new Array<number>(perm.length);
      perm.forEach((p, i) => (inv[p] = i));
      return [dy.transpose(inv)];
    },
  },
  slice: {
    shape([x], { begin, size }) {
      x!.shape.forEach((d, i) => {
        if (begin[i]! < 0 || size[i]! < 0 || begin[i]! + size[i]! > d) {
          throw opError('slice', `begin ${fmtShape(begin)} with size ${fmtShape(size)} leaves the bounds of shape ${fmtShape(x!.shape)} at axis ${i}`);
        }
      });
      return { shape: [...size], dtype: x!.dtype };
    },
    kernel({ inputs: [x], out, params: { begin } }) {
      const xs = stridesOf(x!.shape);
      return copyCall(x!.buf, out.buf, out.shape, xs, dot(begin, xs), stridesOf(out.shape), 0);
    },
    grad: (dy, { inputs: [x], params: { begin, size } }) => [
      ts_pad(dy, begin, x!.shape.map((d, i) => d - begin[i]! - size[i]!)),
    ],
  },
  pad: {
    shape: ([x], { before, after }) => ({ shape: x!.shape.map((d, i) => d + before[i]! + after[i]!), dtype: x!.dtype }),
    kernel({ inputs: [x], out, params: { before } }) {
      const os = stridesOf(out.shape);
      return [fillZero(out.buf, out.size), copyCall(x!.buf, out.buf, x!.shape, stridesOf(x!.shape), 0, os, dot(before, os))];
    },
    grad: (dy, { inputs: [x], params: { before } }) => [dy.slice(before, x!.shape)],
  },
  broadcastTo: {
    shape([x], { shape }) {
      const b = broadcastShapes('broadcastTo', x!.shape, shape);
      if (!sameShape(b, shape)) throw opError('broadcastTo', `cannot broadcast ${fmtShape(x!.shape)} to ${fmtShape(shape)}`);
      return { shape: [...shape], dtype: x!.dtype };
    },
    kernel: ({ inputs: [x], out }) =>
      copyCall(x!.buf, out.buf, out.shape, broadcastStrides(x!.shape, out.shape), 0, stridesOf(out.shape), 0),
    grad: (dy, { inputs: [x] }) => [unbroadcast(dy, x!.shape)],
  },
  concat: {
    shape(ins, { axis }) {
      const first = ins[0]!;
      for (const t of ins) {
        const ok = t.shape.length === first.shape.length && t.shape.every((d, i) => i === axis || d === first.shape[i]) && t.dtype === first.dtype;
        if (!ok) {
          throw opError('concat', `cannot join ${ins.map((s) => `${fmtShape(s.shape)} ${s.dtype}`).join(', ')} along axis ${axis}`, 'All inputs need the same rank, dtype and sizes except along the axis');
        }
      }
      const shape = [...first.shape];
      shape[axis] = ins.reduce((s, t) => s + t.shape[axis]!, 0);
      return { shape, dtype: first.dtype };
    },
    kernel({ inputs, out, params: { axis } }) {
      const os = stridesOf(out.shape);
      let at = 0;
      return inputs.filter((x) => x.size > 0).map((x) => {
        const call = copyCall(x.buf, out.buf, x.shape, stridesOf(x.shape), 0, os, at * os[axis]!);
        at += x.shape[axis]!;
        return call;
      });
    },
    grad: (dy, { inputs, params: { axis }, needs }) => {
      let at = 0;
      return inputs.map((x, i) => {
        const begin = x.shape.map((_, d) => (d === axis ? at : 0));
        at += x.shape[axis]!;
        return needs[i] ? dy.slice(begin, x.shape) : null;
      });
    },
  },
};
