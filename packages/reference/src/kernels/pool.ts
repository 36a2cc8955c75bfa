import { poolGeometry, type Pool2dParams } from '@tessera/core';
import { f32Of, floatsOf, i32Of } from '../buffer.js';
import type { KernelGroup } from './util.js';

/**
 * Max and average pooling over NCHW planes (floor-mode output size, symmetric padding) and their
 * gradients, as kernels/max_pool2d.wgsl and kernels/avg_pool2d.wgsl compute them. Output (oh, ow)
 * of a plane reads the window rows [oh*sh - ph, oh*sh - ph + kh) and columns
 * [ow*sw - pw, ow*sw - pw + kw), clipped to the plane; the clipped-off taps are padding.
 */

/** The in-plane bounds [h0, h1) x [w0, w1) of output (oh, ow)'s window, without the padding. */
function windowOf(p: Pool2dParams, H: number, W: number, oh: number, ow: number) {
  const top = oh * p.stride[0] - p.padding[0];
  const left = ow * p.stride[1] - p.padding[1];
  return {
    h0: Math.max(top, 0),
    h1: Math.min(top + p.kernelSize[0], H),
    w0: Math.max(left, 0),
    w1: Math.min(left + p.kernelSize[1], W),
  };
}

/** Calls `visit(plane, o, window)` for every output element o (flat within its plane). */
function forEachWindow(p: Pool2dParams, inputShape: readonly number[], visit: (plane: number, o: number, win: ReturnType<typeof windowOf>) => void): void {
  const g = poolGeometry('pool2d', inputShape, p);
  for (let plane = 0; plane < g.planes; plane++) {
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++) visit(plane, oh * g.OW + ow, windowOf(p, g.H, g.W, oh, ow));
    }
  }
}

export const poolKernels: KernelGroup<'maxPool2d' | 'maxPool2dBackward' | 'avgPool2d' | 'avgPool2dBackward'> = {
  /**
   * out = the window's maximum; aux[0] (int32) = the winner's flat index ih*W + iw in its plane.
   * Padding counts as -infinity. Scanning the window row by row from -infinity, a value wins
   * when it is greater than the best so far or is NaN: so the FIRST of equal maxima wins, and
   * the LAST NaN of the window wins. A window of only -infinity reports its first in-plane tap.
   */
  maxPool2d({ inputs: [x], out, aux: [arg], params }) {
    const [, , H, W] = x!.shape as [number, number, number, number];
    const planeOut = out.shape[2]! * out.shape[3]!;
    const X = floatsOf(x!);
    const o = f32Of(out);
    const a = i32Of(arg!);
    forEachWindow(params, x!.shape, (plane, oi, { h0, h1, w0, w1 }) => {
      let best = -Infinity;
      let at = h0 * W + w0;
      for (let ih = h0; ih < h1; ih++) {
        for (let iw = w0; iw < w1; iw++) {
          const v = X[plane * H * W + ih * W + iw]!;
          if (v > best || Number.isNaN(v)) {
            best = v;
            at = ih * W + iw;
          }
        }
      }
      o[plane * planeOut + oi] = best;
      a[plane * planeOut + oi] = at;
    });
  },

  /**
   * dx of params.inputShape: each dy element is added to the input element its window's argmax
   * names (windows may overlap, so one element can collect several); all others get 0. An index
   * outside the plane (never written by maxPool2d) is ignored.
   */
  maxPool2dBackward({ inputs: [dy, arg], out, params }) {
    const [, , H, W] = params.inputShape as [number, number, number, number];
    const DY = floatsOf(dy!);
    const A = i32Of(arg!);
    const planeOut = dy!.shape[2]! * dy!.shape[3]!;
    const acc = new Float64Array(out.size);
    forEachWindow(params, params.inputShape, (plane, oi) => {
      const at = A[plane * planeOut + oi]!;
      if (at >= 0 && at < H * W) acc[plane * H * W + at] += DY[plane * planeOut + oi]!;
    });
    f32Of(out).set(acc);
  },

  /**
   * out = (sum of the window's in-plane values) / (kh * kw): padded taps count as zeros in the
   * divisor (PyTorch's count_include_pad=True), as in avg_pool2d.wgsl.
   */
  avgPool2d({ inputs: [x], out, params }) {
    const [, , H, W] = x!.shape as [number, number, number, number];
    const planeOut = out.shape[2]! * out.shape[3]!;
    const divisor = params.kernelSize[0] * params.kernelSize[1];
    const X = floatsOf(x!);
    const o = f32Of(out);
    forEachWindow(params, x!.shape, (plane, oi, { h0, h1, w0, w1 }) => {
      let sum = 0;
      for (let ih = h0; ih < h1; ih++) {
        for (let iw = w0; iw < w1; iw++) sum += X[plane * H * W + ih * W + iw]!;
      }
      o[plane * planeOut + oi] = sum / divisor;
    });
  },

  /** dx[i] = (sum of dy over the windows whose in-plane taps include i) / (kh * kw). */
  avgPool2dBackward({ inputs: [dy], out, params }) {
    const [, , H, W] = params.inputShape as [number, number, number, number];
    const planeOut = dy!.shape[2]! * dy!.shape[3]!;
    const divisor = params.kernelSize[0] * params.kernelSize[1];
    const DY = floatsOf(dy!);
    const acc = new Float64Array(out.size);
    forEachWindow(params, params.inputShape, (plane, oi, { h0, h1, w0, w1 }) => {
      const g = DY[plane * planeOut + oi]!;
      for (let ih = h0; ih < h1; ih++) {
        for (let iw = w0; iw < w1; iw++) acc[plane * H * W + ih * W + iw] += g;
      }
    });
    const o = f32Of(out);
    for (let i = 0; i < out.size; i++) o[i] = acc[i]! / divisor;
  },
};
