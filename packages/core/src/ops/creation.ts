import { checkShape } from '../shape.js';
import { grid1d, kernelCall } from '../kernels.js';
import type { OpDefs } from './registry.js';
import { bitsOf, isInt } from './util.js';

const noInputs = (op: string, n: number): void => {
  if (n !== 0) throw new Error(`${op}: takes no tensor inputs`);
};

export const creationOps: OpDefs<'fill' | 'arange' | 'random'> = {
  fill: {
    shape: (ins, p) => (noInputs('fill', ins.length), { shape: checkShape('fill', p.shape), dtype: p.dtype }),
    kernel: ({ out, params }) =>
      kernelCall({ kernel: 'fill', uniforms: { size: out.size, bits: bitsOf(params.value, params.dtype) }, buffers: { out: out.buf }, workgroups: grid1d(out.size) }),
    grad: null,
  },
  arange: {
    shape: (ins, p) => (noInputs('arange', ins.length), { shape: [p.count], dtype: p.dtype }),
    kernel: ({ out, params }) =>
      kernelCall({
        kernel: 'arange', constants: { OUT_INT: isInt(params.dtype) },
        uniforms: { size: out.size, start: params.start, step: params.step }, buffers: { out: out.buf }, workgroups: grid1d(out.size),
      }),
    grad: null,
  },
  random: {
    shape: (ins, p) => (noInputs('random', ins.length), { shape: checkShape('random', p.shape), dtype: 'float32' }),
    kernel: ({ out, params }) =>
      kernelCall({
        kernel: 'random', constants: { NORMAL: params.dist === 'normal' ? 1 : 0 },
        uniforms: { size: out.size, seed: params.seed >>> 0, stream: params.stream >>> 0, a: params.a, b: params.b },
        buffers: { out: out.buf }, workgroups: grid1d(out.size),
      }),
    grad: null,
  },
};
