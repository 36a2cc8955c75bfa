import { grid1d, kernelCall } from '../spec.js';
import type { KernelBuilders } from './context.js';
import { bitsOf, isInt } from './util.js';

export const creationKernels: KernelBuilders<'fill' | 'arange' | 'random'> = {
  fill: ({ out, params }) =>
    kernelCall({
      kernel: 'fill',
      uniforms: { size: out.size, bits: bitsOf(params.value, params.dtype === 'int32' ? 'int32' : 'float32') },
      buffers: { out: out.buf },
      workgroups: grid1d(out.size),
    }),
  arange: ({ out, params }) =>
    kernelCall({
      kernel: 'arange',
      constants: { OUT_INT: isInt(params.dtype) },
      uniforms: { size: out.size, start: params.start, step: params.step },
      buffers: { out: out.buf },
      workgroups: grid1d(out.size),
    }),
  random: ({ out, params }) =>
    kernelCall({
      kernel: 'random',
      constants: { NORMAL: params.dist === 'normal' ? 1 : 0 },
      uniforms: { size: out.size, seed: params.seed >>> 0, stream: params.stream >>> 0, a: params.a, b: params.b },
      buffers: { out: out.buf },
      workgroups: grid1d(out.size),
    }),
};
