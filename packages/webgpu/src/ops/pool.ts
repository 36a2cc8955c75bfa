import { poolGeometry, sizeOf, type Pool2dParams } from '@tessera/core';
import { grid1d, kernelCall } from '../spec.js';
import { bucketKey } from '../tune/sites.js';
import type { KernelBuilders } from './context.js';

/** The uniform block both pooling kernel files share (kernels/lib/pool.wgsl's Params). */
function poolUniforms(g: ReturnType<typeof poolGeometry>, p: Pool2dParams, total: number) {
  return {
    total,
    H: g.H,
    W: g.W,
    OH: g.OH,
    OW: g.OW,
    kh: p.kernelSize[0],
    kw: p.kernelSize[1],
    sh: p.stride[0],
    sw: p.stride[1],
    ph: p.padding[0],
    pw: p.padding[1],
  };
}

/** The unrolled 2x2 path needs every tap in bounds: no padding (floor mode does the rest). */
const k2 = (p: Pool2dParams): number => (p.kernelSize[0] === 2 && p.kernelSize[1] === 2 && p.padding[0] === 0 && p.padding[1] === 0 ? 1 : 0);
/** Windows that do not overlap let the gradient gather skip its loops. */
const nonOverlap = (p: Pool2dParams): number => (p.stride[0] >= p.kernelSize[0] && p.stride[1] >= p.kernelSize[1] ? 1 : 0);
/** Unpadded 2x2 windows at stride 2 over even planes cover every element exactly once. */
const tiles2 = (p: Pool2dParams, x: readonly number[]): boolean =>
  k2(p) === 1 && p.stride[0] === 2 && p.stride[1] === 2 && x[x.length - 2]! % 2 === 0 && x[x.length - 1]! % 2 === 0;

export const poolKernels: KernelBuilders<'maxPool2d' | 'maxPool2dBackward' | 'avgPool2d' | 'avgPool2dBackward'> = {
  maxPool2d({ inputs: [x], out, aux: [arg], params }) {
    const g = poolGeometry('maxPool2d', x!.shape, params);
    return kernelCall({
      kernel: 'maxPool2d',
      constants: { K2: k2(params) },
      uniforms: poolUniforms(g, params, out.size),
      buffers: { x: x!.buf, out: out.buf, arg: arg!.buf },
      workgroups: grid1d(out.size),
    });
  },
  maxPool2dBackward({ inputs: [dy, arg], out, params }, { variant }) {
    const g = poolGeometry('maxPool2dBackward', params.inputShape, params);
    const tiles = tiles2(params, params.inputShape);
    const bucket = bucketKey({ planes: sizeOf(params.inputShape.slice(0, -2)), H: g.H, W: g.W }, { k: params.kernelSize[0] });
    const perWindow = variant('maxPool2dBackward', bucket, tiles ? ['window', 'gather'] : ['gather'], tiles ? 'window' : 'gather') === 'window';
    const total = perWindow ? dy!.size : out.size;
    return kernelCall({
      kernel: 'maxPool2dBackward',
      constants: { NONOVERLAP: nonOverlap(params), TILE2: perWindow ? 1 : 0 },
      uniforms: poolUniforms(g, params, total),
      buffers: { dy: dy!.buf, dx: out.buf, arg: arg!.buf },
      workgroups: grid1d(total),
    });
  },
  avgPool2d({ inputs: [x], out, params }) {
    const g = poolGeometry('avgPool2d', x!.shape, params);
    return kernelCall({
      kernel: 'avgPool2d',
      constants: { K2: k2(params) },
      uniforms: poolUniforms(g, params, out.size),
      buffers: { x: x!.buf, out: out.buf },
      workgroups: grid1d(out.size),
    });
  },
  avgPool2dBackward({ inputs: [dy], out, params }) {
    const g = poolGeometry('avgPool2dBackward', params.inputShape, params);
    return kernelCall({
      kernel: 'avgPool2dBackward',
      constants: { NONOVERLAP: nonOverlap(params) },
      uniforms: poolUniforms(g, params, out.size),
      buffers: { dy: dy!.buf, dx: out.buf },
      workgroups: grid1d(out.size),
    });
  },
};
