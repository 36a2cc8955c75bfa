import { convGeometry, type ConvGeometry, type KernelArgs, type OpParams } from '@tessera/core';
import type { WasmKernel, WasmRuntime } from '../contract.js';
import { BINARY_CODES } from './elementwise.js';
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

/**
 * Sample chunks a filter gradient sums apart, whatever the number of threads (which take whole
 * chunks), so that its bits do not depend on it.
 */
const FILTER_CHUNKS = 8;

/** The im2col arguments after the plane pointer: geometry then the col pointer. */
const geometryArgs = (g: ConvGeometry): number[] => [g.cpg, g.H, g.W, g.KH, g.KW, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.OH, g.OW];

/** Whether the input planes are already the col matrix (1x1 filter, stride 1, no padding). */
const isPointwise = (g: ConvGeometry): boolean => g.KH === 1 && g.KW === 1 && g.sh === 1 && g.sw === 1 && g.pt === 0 && g.pb === 0 && g.pl === 0 && g.pr === 0;

/** Scratch for one col matrix and the GEMM of an output `n` wide and `k` deep (one per part). */
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

/**
 * The stride-1 forward: the filters packed once, then per sample (split across threads) the
 * input planes zero-padded into the part's own scratch and the direct kernel per group.
 */
function directForward(g: ConvGeometry, rt: WasmRuntime, px: number, pw: number, pbias: number, py: number, relu: boolean): void {
  const taps = g.cpg * g.KH * g.KW;
  const [Hp, Wp] = [g.H + g.pt + g.pb, g.W + g.pl + g.pr];
  const packBytes = align16(fn(rt, 'packedFilterBytes')(g.fpg, g.cpg, g.KH, g.KW) as number);
  const offsBytes = align16(4 * taps);
  const packed = rt.scratch(packBytes * g.groups);
  const pack = fn(rt, 'packFilters');
  for (let grp = 0; grp < g.groups; grp++) pack(pw + 4 * grp * g.fpg * taps, g.fpg, g.cpg, g.KH, g.KW, packed + grp * packBytes);
  const paddedBytes = 4 * (fn(rt, 'paddedFloats')(g.C, Hp, Wp) as number);
  rt.parallel(g.N, g.N * g.F * g.OH * g.OW * taps, (lo, hi, call) => {
    const offs = rt.scratch(offsBytes + paddedBytes);
    const padded = offs + offsBytes;
    for (let n = lo; n < hi; n++) {
      call('padPlanes', px + 4 * n * g.C * g.H * g.W, g.C, g.H, g.W, g.pt, g.pl, Hp, Wp, padded);
      for (let grp = 0; grp < g.groups; grp++) {
        const planes = padded + 4 * grp * g.cpg * Hp * Wp;
        const y = py + 4 * (n * g.F + grp * g.fpg) * g.OH * g.OW;
        call(
          'convDirect',
          planes,
          g.cpg,
          Hp,
          Wp,
          packed + grp * packBytes,
          g.fpg,
          g.KH,
          g.KW,
          y,
          g.OH,
          g.OW,
          pbias ? pbias + 4 * grp * g.fpg : 0,
          relu ? 1 : 0,
          offs,
        );
      }
    }
  });
}

/** Any other forward: per sample (split across threads), im2col + the packed GEMM + the bias/relu epilogue. */
function gemmForward(g: ConvGeometry, rt: WasmRuntime, px: number, pw: number, pbias: number, py: number, relu: boolean): void {
  const taps = g.cpg * g.KH * g.KW;
  const P = g.OH * g.OW;
  const pointwise = isPointwise(g);
  rt.parallel(g.N, g.N * g.F * P * taps, (lo, hi, call) => {
    const s = scratchFor(rt, pointwise ? 0 : taps * P * 4, P, taps);
    for (let n = lo; n < hi; n++) {
      for (let grp = 0; grp < g.groups; grp++) {
        const planes = px + 4 * (n * g.C + grp * g.cpg) * g.H * g.W;
        const col = pointwise ? planes : s.col;
        if (!pointwise) call('im2col', planes, ...geometryArgs(g), col);
        const y = py + 4 * (n * g.F + grp * g.fpg) * P;
        call('gemm', pw + 4 * grp * g.fpg * taps, taps, 1, col, P, 1, y, P, P, taps, 0, g.fpg, 0, s.gemm);
        call('epilogue', y, P, P, 0, g.fpg, pbias ? pbias + 4 * grp * g.fpg : 0, pbias ? 2 : 0, relu ? 1 : 0);
      }
    }
  });
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
  // Samples write disjoint planes of dx, so they split across threads as they are.
  rt.parallel(g.N, g.N * g.F * P * taps, (lo, hi, call) => {
    const s = scratchFor(rt, taps * P * 4, P, g.fpg);
    for (let n = lo; n < hi; n++) {
      for (let grp = 0; grp < g.groups; grp++) {
        const planes = pdx + 4 * (n * g.C + grp * g.cpg) * g.H * g.W;
        const dyG = pdy + 4 * (n * g.F + grp * g.fpg) * P;
        // dcol(tap, p) = sum_f w[f, tap] dy[f, p]: A is w read transposed (rsA = 1, csA = taps).
        const dcol = pointwise ? planes : s.col;
        call('gemm', pw + 4 * grp * g.fpg * taps, 1, taps, dyG, P, 1, dcol, P, P, g.fpg, 0, taps, 0, s.gemm);
        if (!pointwise) call('col2im', dcol, ...geometryArgs(g), planes);
      }
    }
  });
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
  const [zero, add] = [fn(rt, 'zero'), fn(rt, 'binary')];
  // Every sample adds into all of dw, so the samples are summed in FILTER_CHUNKS fixed chunks,
  // each into a dw (and float64 bias sums) of its own, and the chunks are added in order: the
  // same bits on any number of threads, which take whole chunks. Chunk 0 sums into the output.
  const chunks = Math.min(g.N, FILTER_CHUNKS);
  const [biasBytes, dwBytes] = [params.withBias ? align16(8 * g.F) : 0, align16(4 * out.size)];
  const sums = Array.from({ length: chunks }, (_, c) => {
    const at = rt.scratch(biasBytes + (c === 0 ? 0 : dwBytes));
    zero(at, biasBytes + (c === 0 ? 0 : dwBytes));
    return { bias: at, dw: c === 0 ? pdw : at + biasBytes };
  });
  const zeros = rt.scratch(align16(4 * P));
  zero(zeros, align16(4 * P));
  rt.parallel(chunks, g.N * g.F * P * taps, (lo, hi, call) => {
    const colAt = pointwise ? 0 : rt.scratch(align16(taps * P * 4));
    for (let c = lo; c < hi; c++) {
      const { dw, bias } = sums[c]!;
      for (let n = Math.floor((g.N * c) / chunks); n < Math.floor((g.N * (c + 1)) / chunks); n++) {
        for (let grp = 0; grp < g.groups; grp++) {
          const planes = px + 4 * (n * g.C + grp * g.cpg) * g.H * g.W;
          const col = pointwise ? planes : colAt;
          if (!pointwise) call('im2col', planes, ...geometryArgs(g), col);
          // dw(f, tap) += sum_p dy[f, p] col[tap, p]: rows of P contiguous floats on both sides.
          const dyG = pdy + 4 * (n * g.F + grp * g.fpg) * P;
          call('dotRows', dyG, g.fpg, col, taps, P, dw + 4 * grp * g.fpg * rowLength, rowLength, zeros);
        }
        if (params.withBias) call('sumRows', pdy + 4 * n * g.F * P, g.F, P, bias);
      }
    }
  });
  for (const { dw } of sums.slice(1)) add(BINARY_CODES.add, pdw, 0, 0, 1, dw, 0, 0, 1, pdw, 1, 1, out.size);
  if (params.withBias) {
    // The bias sums stay float64 until the end.
    const acc = new Float64Array(rt.memory.buffer, sums[0]!.bias, g.F);
    for (const { bias } of sums.slice(1)) {
      const more = new Float64Array(rt.memory.buffer, bias, g.F);
      for (let f = 0; f < g.F; f++) acc[f]! += more[f]!;
    }
    fn(rt, 'storeF64')(sums[0]!.bias, g.F, pdw + 4 * taps, rowLength);
  }
  return true;
};
