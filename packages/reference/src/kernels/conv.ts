import { convGeometry, type ConvGeometry } from '@tessera/core';
import { f32Of, floatsOf } from '../buffer.js';
import { wgslMax, type KernelGroup } from './util.js';

/**
 * 2-D convolution (NCHW, PyTorch semantics: cross-correlation, zero padding [top, bottom, left,
 * right], stride, dilation, groups) and its two gradients, as direct loops with float64
 * accumulation. With g = the group of filter f (f / fpg) and, for output (oh, ow) and tap
 * (kh, kw), the input position
 *
 *   ih = oh * sh - pt + kh * dh,   iw = ow * sw - pl + kw * dw,
 *
 * taps that fall in the padding read 0 and are skipped.
 */

/** Flat offsets into x [N, C, H, W], w [F, cpg, KH, KW] and y [N, F, OH, OW]. */
function indexers(g: ConvGeometry) {
  return {
    xAt: (n: number, c: number, ih: number, iw: number): number => ((n * g.C + c) * g.H + ih) * g.W + iw,
    wAt: (f: number, c: number, kh: number, kw: number): number => ((f * g.cpg + c) * g.KH + kh) * g.KW + kw,
    yAt: (n: number, f: number, oh: number, ow: number): number => ((n * g.F + f) * g.OH + oh) * g.OW + ow,
  };
}

/**
 * Calls `visit` for every (n, f, oh, ow) and every in-bounds tap (c, kh, kw) of it, with the
 * absolute input channel and position: the one loop nest all three convolutions share.
 */
function forEachTap(
  g: ConvGeometry,
  visit: (n: number, f: number, oh: number, ow: number, c: number, kh: number, kw: number, inChannel: number, ih: number, iw: number) => void,
): void {
  for (let n = 0; n < g.N; n++) {
    for (let f = 0; f < g.F; f++) {
      const group = Math.floor(f / g.fpg);
      for (let oh = 0; oh < g.OH; oh++) {
        for (let ow = 0; ow < g.OW; ow++) {
          for (let c = 0; c < g.cpg; c++) {
            for (let kh = 0; kh < g.KH; kh++) {
              const ih = oh * g.sh - g.pt + kh * g.dh;
              if (ih < 0 || ih >= g.H) continue;
              for (let kw = 0; kw < g.KW; kw++) {
                const iw = ow * g.sw - g.pl + kw * g.dw;
                if (iw < 0 || iw >= g.W) continue;
                visit(n, f, oh, ow, c, kh, kw, group * g.cpg + c, ih, iw);
              }
            }
          }
        }
      }
    }
  }
}

export const convKernels: KernelGroup<'conv2d' | 'conv2dBackpropInput' | 'conv2dBackpropFilter' | 'reluBackward'> = {
  /**
   * y[n, f, oh, ow] = act( sum_{c, kh, kw} x[n, g*cpg + c, ih, iw] * w[f, c, kh, kw] + bias[f] );
   * 'relu' is WGSL's max(v, 0) after the bias.
   */
  conv2d({ inputs: [x, w, bias], out, params }) {
    const g = convGeometry('conv2d', x!.shape, w!.shape, params);
    const { xAt, wAt, yAt } = indexers(g);
    const [X, Wt] = [floatsOf(x!), floatsOf(w!)];
    const acc = new Float64Array(out.size);
    forEachTap(g, (n, f, oh, ow, c, kh, kw, ci, ih, iw) => {
      acc[yAt(n, f, oh, ow)] += X[xAt(n, ci, ih, iw)]! * Wt[wAt(f, c, kh, kw)]!;
    });
    const B = bias ? floatsOf(bias) : null;
    const o = f32Of(out);
    for (let i = 0; i < out.size; i++) {
      const f = Math.floor(i / (g.OH * g.OW)) % g.F;
      let v = acc[i]! + (B ? B[f]! : 0);
      if (params.activation === 'relu') v = wgslMax(v, 0);
      o[i] = v;
    }
  },

  /**
   * dx = the transposed convolution of dy with w: every dy[n, f, oh, ow] flows back through each
   * tap it was computed from, dx[n, g*cpg + c, ih, iw] += dy[n, f, oh, ow] * w[f, c, kh, kw].
   */
  conv2dBackpropInput({ inputs: [dy, w], out, params }) {
    const g = convGeometry('conv2dBackpropInput', params.inputShape, w!.shape, params);
    const { xAt, wAt, yAt } = indexers(g);
    const [DY, Wt] = [floatsOf(dy!), floatsOf(w!)];
    const acc = new Float64Array(out.size);
    forEachTap(g, (n, f, oh, ow, c, kh, kw, ci, ih, iw) => {
      acc[xAt(n, ci, ih, iw)] += DY[yAt(n, f, oh, ow)]! * Wt[wAt(f, c, kh, kw)]!;
    });
    f32Of(out).set(acc);
  },

  /**
   * dw[f, c, kh, kw] = sum_{n, oh, ow} dy[n, f, oh, ow] * x[n, g*cpg + c, ih, iw], laid out as
   * rows of cpg*KH*KW taps per filter (the filter shape's own row-major layout). With
   * `withBias` each row has one more entry, the bias gradient sum_{n, oh, ow} dy[n, f, oh, ow].
   * `chunks` only splits the GPU's reduction and changes nothing here.
   */
  conv2dBackpropFilter({ inputs: [x, dy], out, params }) {
    const g = convGeometry('conv2dBackpropFilter', x!.shape, params.filterShape, params);
    const { xAt, yAt } = indexers(g);
    const taps = g.cpg * g.KH * g.KW;
    const rowLength = taps + (params.withBias ? 1 : 0);
    const [X, DY] = [floatsOf(x!), floatsOf(dy!)];
    const acc = new Float64Array(g.F * rowLength);
    forEachTap(g, (n, f, oh, ow, c, kh, kw, ci, ih, iw) => {
      acc[f * rowLength + (c * g.KH + kh) * g.KW + kw] += DY[yAt(n, f, oh, ow)]! * X[xAt(n, ci, ih, iw)]!;
    });
    if (params.withBias) {
      for (let n = 0; n < g.N; n++) {
        for (let f = 0; f < g.F; f++) {
          for (let p = 0; p < g.OH * g.OW; p++) acc[f * rowLength + taps] += DY[yAt(n, f, 0, 0) + p]!;
        }
      }
    }
    f32Of(out).set(acc);
  },

  /** dx = dy where the ReLU's output y > 0, else 0 (select(0, dy, y > 0): a NaN dy there is dropped). */
  reluBackward({ inputs: [dy, y], out }) {
    const [DY, Y] = [floatsOf(dy!), floatsOf(y!)];
    const o = f32Of(out);
    for (let i = 0; i < out.size; i++) o[i] = Y[i]! > 0 ? DY[i]! : 0;
  },
};
