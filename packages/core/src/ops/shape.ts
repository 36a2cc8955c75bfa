import { fmtShape, opError } from '../errors.js';
import { broadcastShapes, broadcastStrides, inferReshape, sameShape, stridesOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import type { OpDefs } from './registry.js';
import { unbroadcast } from './gradutil.js';

export const shapeOps: OpDefs<'reshape' | 'transpose' | 'slice' | 'pad' | 'broadcastTo' | 'concat'> = {
  reshape: {
    shape: ([x], p) => ({ shape: inferReshape('reshape', x!.shape, p.shape), dtype: x!.dtype }),
    view: true,
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
    grad: (dy, { params: { perm } }) => {
      const inv = new Array<number>(perm.length);
      perm.forEach((p, i) => {
        inv[p] = i;
      });
      return [dy.transpose(inv)];
    },
    expr: ([x]) => x!,
    gather: (x, { perm }) => ({ strides: perm.map((p) => stridesOf(x.shape)[p]!), offset: 0 }),
  },
  slice: {
    shape([x], { begin, size }) {
      if (![...begin, ...size].every(Number.isInteger)) {
        throw opError(
          'slice',
          `begin ${fmtShape(begin)} and size ${fmtShape(size)} must be integers`,
          `Expected whole offsets into shape ${fmtShape(x!.shape)}`,
        );
      }
      x!.shape.forEach((d, i) => {
        if (begin[i]! < 0 || size[i]! < 0 || begin[i]! + size[i]! > d) {
          throw opError('slice', `begin ${fmtShape(begin)} with size ${fmtShape(size)} leaves the bounds of shape ${fmtShape(x!.shape)} at axis ${i}`);
        }
      });
      return { shape: [...size], dtype: x!.dtype };
    },
    grad: (dy, { inputs: [x], params: { begin, size } }) => [
      Tensor._fromOp('pad', [dy], { before: [...begin], after: x!.shape.map((d, i) => d - begin[i]! - size[i]!) }),
    ],
    expr: ([x]) => x!,
    gather: (x, { begin }) => {
      const strides = stridesOf(x.shape);
      return { strides, offset: begin.reduce((o, b, d) => o + b * strides[d]!, 0) };
    },
  },
  pad: {
    shape: ([x], { before, after }) => ({ shape: x!.shape.map((d, i) => d + before[i]! + after[i]!), dtype: x!.dtype }),
    grad: (dy, { inputs: [x], params: { before } }) => [dy.slice(before, x!.shape)],
  },
  broadcastTo: {
    shape([x], { shape }) {
      const b = broadcastShapes('broadcastTo', x!.shape, shape);
      if (!sameShape(b, shape)) throw opError('broadcastTo', `cannot broadcast ${fmtShape(x!.shape)} to ${fmtShape(shape)}`);
      return { shape: [...shape], dtype: x!.dtype };
    },
    grad: (dy, { inputs: [x] }) => [unbroadcast(dy, x!.shape)],
    expr: ([x]) => x!,
    gather: (x, { shape }) => ({ strides: broadcastStrides(x.shape, shape), offset: 0 }),
  },
  concat: {
    shape(ins, { axis }) {
      const first = ins[0]!;
      for (const t of ins) {
        const ok = t.shape.length === first.shape.length && t.shape.every((d, i) => i === axis || d === first.shape[i]) && t.dtype === first.dtype;
        if (!ok) {
          throw opError(
            'concat',
            `cannot join ${ins.map((s) => `${fmtShape(s.shape)} ${s.dtype}`).join(', ')} along axis ${axis}`,
            'All inputs need the same rank, dtype and sizes except along the axis',
          );
        }
      }
      const shape = [...first.shape];
      shape[axis] = ins.reduce((s, t) => s + t.shape[axis]!, 0);
      return { shape, dtype: first.dtype };
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
