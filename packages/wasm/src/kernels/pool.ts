import { poolGeometry, type KernelArgs, type OpParams } from '@tessera/core';
import type { WasmKernel } from '../contract.js';
import { allF32 } from './util.js';

/**
 * Max pooling and its gradient (assembly/pool.ts), with the reference's argmax convention: the
 * winner's flat index ih*W + iw within its input plane, as int32 in aux[0]. Average pooling and
 * its gradient (assembly/avgpool.ts): float64 window sums over kh * kw (padding counts in the
 * divisor), bit for bit the reference's.
 */

/**
 * maxPool2d: out = the window maxima, aux[0] = their in-plane indices.
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof maxPool2d>;
 * maxPool2d(args, rt);
 */
export const maxPool2d: WasmKernel = (raw, rt) => {
  const { inputs, out, aux, params } = raw as unknown as KernelArgs<OpParams['maxPool2d']>;
  const [x] = inputs;
  const arg = aux[0];
  if (!x || !arg || !allF32(x, out) || arg.dtype !== 'int32') return false;
  const g = poolGeometry('maxPool2d', x.shape, params);
  const [kh, kw] = params.kernelSize;
  const [sh, sw] = params.stride;
  const [ph, pw] = params.padding;
  const [px, po, pa] = [rt.ptr(x.buf), rt.ptr(out.buf), rt.ptr(arg.buf)];
  const [inPlane, outPlane] = [4 * g.H * g.W, 4 * g.OH * g.OW];
  rt.parallel(g.planes, g.planes * g.OH * g.OW * kh * kw, (lo, hi, call) => {
    call('maxPool2d', px + lo * inPlane, po + lo * outPlane, pa + lo * outPlane, hi - lo, g.H, g.W, g.OH, g.OW, kh, kw, sh, sw, ph, pw);
  });
  return true;
};

/**
 * maxPool2dBackward: dx of params.inputShape gets each dy at its window's argmax (summed where
 * windows overlap).
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof maxPool2dBackward>;
 * maxPool2dBackward(args, rt);
 */
export const maxPool2dBackward: WasmKernel = (raw, rt) => {
  const { inputs, out, params } = raw as unknown as KernelArgs<OpParams['maxPool2dBackward']>;
  const [dy, arg] = inputs;
  if (!dy || !arg || !allF32(dy, out) || arg.dtype !== 'int32') return false;
  const g = poolGeometry('maxPool2dBackward', params.inputShape, params);
  const [pdy, pa, pdx] = [rt.ptr(dy.buf), rt.ptr(arg.buf), rt.ptr(out.buf)];
  const [inPlane, outPlane] = [4 * g.H * g.W, 4 * g.OH * g.OW];
  rt.parallel(g.planes, g.planes * (g.H * g.W + g.OH * g.OW), (lo, hi, call) => {
    call('maxPool2dBackward', pdy + lo * outPlane, pa + lo * outPlane, pdx + lo * inPlane, hi - lo, g.H, g.W, g.OH * g.OW);
  });
  return true;
};

/**
 * avgPool2d: out = the window sums of the in-plane taps / (kh * kw).
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof avgPool2d>;
 * avgPool2d(args, rt);
 */
export const avgPool2d: WasmKernel = (raw, rt) => {
  const { inputs, out, params } = raw as unknown as KernelArgs<OpParams['avgPool2d']>;
  const [x] = inputs;
  if (!x || !allF32(x, out)) return false;
  const g = poolGeometry('avgPool2d', x.shape, params);
  const [kh, kw] = params.kernelSize;
  const [sh, sw] = params.stride;
  const [ph, pw] = params.padding;
  const [px, po] = [rt.ptr(x.buf), rt.ptr(out.buf)];
  const [inPlane, outPlane] = [4 * g.H * g.W, 4 * g.OH * g.OW];
  rt.parallel(g.planes, g.planes * g.OH * g.OW * kh * kw, (lo, hi, call) => {
    call('avgPool2d', px + lo * inPlane, po + lo * outPlane, hi - lo, g.H, g.W, g.OH, g.OW, kh, kw, sh, sw, ph, pw);
  });
  return true;
};

/**
 * avgPool2dBackward: dx of params.inputShape = the sum of dy over the windows holding each
 * element / (kh * kw).
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof avgPool2dBackward>;
 * avgPool2dBackward(args, rt);
 */
export const avgPool2dBackward: WasmKernel = (raw, rt) => {
  const { inputs, out, params } = raw as unknown as KernelArgs<OpParams['avgPool2dBackward']>;
  const [dy] = inputs;
  if (!dy || !allF32(dy, out)) return false;
  const g = poolGeometry('avgPool2dBackward', params.inputShape, params);
  const [kh, kw] = params.kernelSize;
  const [sh, sw] = params.stride;
  const [ph, pw] = params.padding;
  const [pdy, pdx] = [rt.ptr(dy.buf), rt.ptr(out.buf)];
  const [inPlane, outPlane] = [4 * g.H * g.W, 4 * g.OH * g.OW];
  rt.parallel(g.planes, g.planes * (g.H * g.W + g.OH * g.OW * kh * kw), (lo, hi, call) => {
    call('avgPool2dBackward', pdy + lo * outPlane, pdx + lo * inPlane, hi - lo, g.H, g.W, g.OH, g.OW, kh, kw, sh, sw, ph, pw);
  });
  return true;
};
