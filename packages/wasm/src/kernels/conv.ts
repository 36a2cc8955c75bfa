import { convGeometry, type ConvGeometry, type KernelArgs, type OpParams } from '@tessera/core';
import type { WasmKernel, WasmRuntime } from '../contract.js';
import { align16, allF32, fn } from './util.js';

/**
 * The convolutions, per sample and group. With taps = cpg*KH*KW and P = OH*OW:
 *
 *   forward:       stride 1 and dilation 1: the direct kernel (assembly/direct.ts) on the
 *                  zero-padded input planes, bias and relu fused; otherwise
 *                  y[n, g] [fpg, P] = w[g] [fpg, taps] . col [taps, P] (im2col + GEMM)
 *   input grad:    dcol [taps, P] = w[g]^T . dy[n, g] [fpg, P];  dx[n, g] += col2im(dcol)
 *   filter grad:   dw[g] [fpg, taps] += dy[n, g] . col^T as dot products of contiguous rows
 *                  (assembly/dots.ts), the bias column summed in float64
 *
 * Which kernel serves which case was chosen by measurement on the LeNet-5 shapes (see
 * bench/wasm-kernels.mjs). A 1x1, stride-1, unpadded convolution reads the input planes as the
 * col matrix itself.
 */

/** The im2col arguments after the plane pointer: geometry then the col pointer. */
const geometryArgs = (g: ConvGeometry): number[] => [g.cpg, g.H, g.W, g.KH, g.KW, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.OH, g.OW];

/** Whether the input planes are already the col matrix (1x1 filter, stride 1, no padding). */
const isPointwise = (g: ConvGeometry): boolean => g.KH === 1 && g.KW === 1 && g.sh === 1 && g.sw === 1 && g.pt === 0 && g.pb === 0 && g.pl === 0 && g.pr === 0;

/** Scratch for one col matrix and the GEMM of an output `n` wide and `k` deep, partitioned. */
function scratchFor(rt: WasmRuntime, colBytes: number, n: number, k: number): { col: number; gemm: number } {
  const gemmBytes = align16(fn(rt, 'gemmScratchBytes')(n, k) as number);
  const base = rt.scratch(align16(colBytes) + gemmBytes);
  return { col: base, gemm: base + align16(colBytes) };
}

/**
 * conv2d forward, NCHW, any stride/dilation/padding/groups, optional bias [F] and fused relu.
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof conv2d>;
 * conv2d(args, rt);   // y = relu(conv(x, w) + b)
 */
export const conv2d: WasmKernel = (raw, rt) => {
  const { inputs, out, params } = raw as unknown as KernelArgs<OpParams['conv2d']>;
  const [x, w, bias] = inputs;
  if (!x || !w || !allF32(x, w, bias, out)) return false;
  const g = convGeometry('conv2d', x.shape, w.shape, params);
  if (g.OH * g.OW === 0 || g.N === 0 || g.F === 0) return true;
  if (g.sh === 1 && g.sw === 1 && g.dh === 1 && g.dw === 1)
    directForward(g, rt, rt.ptr(x.buf), rt.ptr(w.buf), bias ? rt.ptr(bias.buf) : 0, rt.ptr(out.buf), params.activation === 'relu');
  else gemmForward(g, rt, rt.ptr(x.buf), rt.ptr(w.buf), bias ? rt.ptr(bias.buf) : 0, rt.ptr(out.buf), params.activation === 'relu');
  return true;
};

/** The stride-1 forward: per sample, the input planes zero-padded, then the direct kernel per group. */
function directForward(g: ConvGeometry, rt: WasmRuntime, px: number, pw: number, pbias: number, py: number, relu: boolean): void {
  const taps = g.cpg * g.KH * g.KW;
  const [Hp, Wp] = [g.H + g.pt + g.pb, g.W + g.pl + g.pr];
  const packBytes = align16(fn(rt, 'packedFilterBytes')(g.fpg, g.cpg, g.KH, g.KW) as number);
  const offsBytes = align16(4 * taps);
  const base = rt.scratch(offsBytes + packBytes * g.groups + 4 * (fn(rt, 'paddedFloats')(g.C, Hp, Wp) as number));
  const offs = base + packBytes * g.groups;
  const padded = offs + offsBytes;
  const [pack, pad, direct] = [fn(rt, 'packFilters'), fn(rt, 'padPlanes'), fn(rt, 'convDirect')];
  for (let grp = 0; grp < g.groups; grp++) pack(pw + 4 * grp * g.fpg * taps, g.fpg, g.cpg, g.KH, g.KW, base + grp * packBytes);
  for (let n = 0; n < g.N; n++) {
    pad(px + 4 * n * g.C * g.H * g.W, g.C, g.H, g.W, g.pt, g.pl, Hp, Wp, padded);
    for (let grp = 0; grp < g.groups; grp++) {
      const planes = padded + 4 * grp * g.cpg * Hp * Wp;
      const y = py + 4 * (n * g.F + grp * g.fpg) * g.OH * g.OW;
      direct(planes, g.cpg, Hp, Wp, base + grp * packBytes, g.fpg, g.KH, g.KW, y, g.OH, g.OW, pbias ? pbias + 4 * grp * g.fpg : 0, relu ? 1 : 0, offs);
    }
  }
}

/** Any other forward: im2col + the packed GEMM + the bias/relu epilogue. */
function gemmForward(g: ConvGeometry, rt: WasmRuntime, px: number, pw: number, pbias: number, py: number, relu: boolean): void {
  const taps = g.cpg * g.KH * g.KW;
  const P = g.OH * g.OW;
  const pointwise = isPointwise(g);
  const s = scratchFor(rt, pointwise ? 0 : taps * P * 4, P, taps);
  const [im2col, gemm, epilogue] = [fn(rt, 'im2col'), fn(rt, 'gemm'), fn(rt, 'epilogue')];
  for (let n = 0; n < g.N; n++) {
    for (let grp = 0; grp < g.groups; grp++) {
      const planes = px + 4 * (n * g.C + grp * g.cpg) * g.H * g.W;
      const col = pointwise ? planes : s.col;
      if (!pointwise) im2col(planes, ...geometryArgs(g), col);
      const y = py + 4 * (n * g.F + grp * g.fpg) * P;
      gemm(pw + 4 * grp * g.fpg * taps, taps, 1, col, P, 1, y, P, P, taps, 0, g.fpg, 0, s.gemm);
      epilogue(y, P, P, 0, g.fpg, pbias ? pbias + 4 * grp * g.fpg : 0, pbias ? 2 : 0, relu ? 1 : 0);
    }
  }
}

/**
 * conv2dBackpropInput: dx [inputShape] from dy [N, F, OH, OW] and w, the adjoint of conv2d.
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof conv2dBackpropInput>;
 * conv2dBackpropInput(args, rt);
 */
export const conv2dBackpropInput: WasmKernel = (raw, rt) => {
  const { inputs, out, params } = raw as unknown as KernelArgs<OpParams['conv2dBackpropInput']>;
  const [dy, w] = inputs;
  if (!dy || !w || !allF32(dy, w, out)) return false;
  const g = convGeometry('conv2dBackpropInput', params.inputShape, w.shape, params);
  const taps = g.cpg * g.KH * g.KW;
  const P = g.OH * g.OW;
  const [pdy, pw, pdx] = [rt.ptr(dy.buf), rt.ptr(w.buf), rt.ptr(out.buf)];
  fn(rt, 'zero')(pdx, out.size * 4);
  if (P === 0 || g.fpg === 0) return true;
  const pointwise = isPointwise(g);
  const s = scratchFor(rt, taps * P * 4, P, g.fpg);
  const [col2im, gemm] = [fn(rt, 'col2im'), fn(rt, 'gemm')];
  for (let n = 0; n < g.N; n++) {
    for (let grp = 0; grp < g.groups; grp++) {
      const planes = pdx + 4 * (n * g.C + grp * g.cpg) * g.H * g.W;
      const dyG = pdy + 4 * (n * g.F + grp * g.fpg) * P;
      // dcol(tap, p) = sum_f w[f, tap] dy[f, p]: A is w read transposed (rsA = 1, csA = taps).
      const dcol = pointwise ? planes : s.col;
      gemm(pw + 4 * grp * g.fpg * taps, 1, taps, dyG, P, 1, dcol, P, P, g.fpg, 0, taps, 0, s.gemm);
      if (!pointwise) col2im(dcol, ...geometryArgs(g), planes);
    }
  }
  return true;
};

/**
 * conv2dBackpropFilter: dw [F, cpg*KH*KW (+1 with withBias, the bias gradient)] from x and dy,
 * summed over the batch. The bias column is summed in float64 like the reference.
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof conv2dBackpropFilter>;
 * conv2dBackpropFilter(args, rt);
 */
export const conv2dBackpropFilter: WasmKernel = (raw, rt) => {
  const { inputs, out, params } = raw as unknown as KernelArgs<OpParams['conv2dBackpropFilter']>;
  const [x, dy] = inputs;
  if (!x || !dy || !allF32(x, dy, out)) return false;
  const g = convGeometry('conv2dBackpropFilter', x.shape, params.filterShape, params);
  const taps = g.cpg * g.KH * g.KW;
  const rowLength = taps + (params.withBias ? 1 : 0);
  const P = g.OH * g.OW;
  const [px, pdy, pdw] = [rt.ptr(x.buf), rt.ptr(dy.buf), rt.ptr(out.buf)];
  fn(rt, 'zero')(pdw, out.size * 4);
  if (taps === 0 || g.F === 0) return true;
  const pointwise = isPointwise(g);
  const biasBytes = params.withBias ? align16(8 * g.F) : 0;
  const zeroBytes = align16(4 * P);
  const base = rt.scratch(biasBytes + zeroBytes + (pointwise ? 0 : align16(taps * P * 4)));
  const [biasAcc, zeros, colAt] = [base, base + biasBytes, base + biasBytes + zeroBytes];
  const [im2col, dotRows, sumRows, storeF64, zero] = [fn(rt, 'im2col'), fn(rt, 'dotRows'), fn(rt, 'sumRows'), fn(rt, 'storeF64'), fn(rt, 'zero')];
  zero(base, biasBytes + zeroBytes);
  for (let n = 0; n < g.N; n++) {
    for (let grp = 0; grp < g.groups; grp++) {
      const planes = px + 4 * (n * g.C + grp * g.cpg) * g.H * g.W;
      const col = pointwise ? planes : colAt;
      if (!pointwise) im2col(planes, ...geometryArgs(g), col);
      // dw(f, tap) += sum_p dy[f, p] col[tap, p]: rows of P contiguous floats on both sides.
      const dyG = pdy + 4 * (n * g.F + grp * g.fpg) * P;
      dotRows(dyG, g.fpg, col, taps, P, pdw + 4 * grp * g.fpg * rowLength, rowLength, zeros);
    }
    if (params.withBias) sumRows(pdy + 4 * n * g.F * P, g.F, P, biasAcc);
  }
  if (params.withBias) storeF64(biasAcc, g.F, pdw + 4 * taps, rowLength);
  return true;
};
