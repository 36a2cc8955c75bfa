/**
 * The short-inner walk of the batch-norm kernels ([N, C], or a late channel axis): the channels
 * go in blocks of up to COLUMNS columns (channel-position pairs), and each row's slice of a
 * block is walked as one contiguous run, with per-column float64 accumulators and coefficients
 * in scratch (`colScratchBytes`). See batchnorm.ts.
 */
import { WIDE, ld2, pack, f32At, f64At, fwd2, bwd2, f64Bytes } from './batchnorm-lanes';

/** The columns the short-inner walk takes at a time (its scratch stays within 32 KiB). */
const COLUMNS = 1024;

/** The channels the short-inner walk takes at a time: as many as fit in COLUMNS columns, at least 1. */
// @ts-expect-error: decorator
@inline
export function colBlock(inner: i32): i32 {
  return max(1, COLUMNS / max(1, inner));
}

/**
 * The scratch a part of `channels` channels needs for the short-inner walk (four float64 arrays
 * of one block's columns); 0 when inner >= WIDE. Example: colScratchBytes(64, 1) = 2048.
 */
export function colScratchBytes(channels: i32, inner: i32): i32 {
  return inner >= WIDE ? 0 : <i32>(4 * f64Bytes(min(channels, colBlock(inner)) * inner));
}

/** Fills dst[(c - c0) * inner + j] = v for every j (a channel's coefficient for each of its columns). */
// @ts-expect-error: decorator
@inline
function fillCols(dst: usize, c: i32, c0: i32, inner: i32, v: f64): void {
  const at = dst + ((<usize>((c - c0) * inner)) << 3);
  for (let j = 0; j < inner; j++) store<f64>(at + ((<usize>j) << 3), v);
}

/** The sum of a channel's columns dst[(c - c0) * inner + j] over j. */
// @ts-expect-error: decorator
@inline
function sumCols(acc: usize, c: i32, c0: i32, inner: i32): f64 {
  const at = acc + ((<usize>((c - c0) * inner)) << 3);
  let s: f64 = 0;
  for (let j = 0; j < inner; j++) s += load<f64>(at + ((<usize>j) << 3));
  return s;
}

/**
 * Column sums over the rows of the slice [k0, k0 + len) of each row (rowLen values apart):
 * acc[i] += x[n, k0 + i], or with mean (a per-column float64 array) acc[i] += (x - mean[i])^2.
 * acc is zeroed first.
 */
function columnSums(x: usize, rows: i32, rowLen: i32, k0: i32, len: i32, acc: usize, mean: usize): void {
  memory.fill(acc, 0, (<usize>len) << 3);
  let row = x + ((<usize>k0) << 2);
  const stride = (<usize>rowLen) << 2;
  for (let n = 0; n < rows; n++, row += stride) {
    let i = 0;
    for (; i + 2 <= len; i += 2) {
      const a = acc + ((<usize>i) << 3);
      let v = ld2(row + ((<usize>i) << 2));
      if (mean) {
        v = f64x2.sub(v, v128.load(mean + ((<usize>i) << 3)));
        v = f64x2.mul(v, v);
      }
      v128.store(a, f64x2.add(v128.load(a), v));
    }
    if (i < len) {
      let v = f32At(row, i);
      if (mean) {
        v -= f64At(mean, i);
        v *= v;
      }
      store<f64>(acc + ((<usize>i) << 3), f64At(acc, i) + v);
    }
  }
}

/** batchNormStats' short-inner walk, for the channels [c0, c1) (at most colBlock(inner) of them). */
export function statsColumns(x: usize, out: usize, rows: i32, C: i32, inner: i32, c0: i32, c1: i32, scratch: usize): void {
  const count = <f64>rows * <f64>inner;
  const len = (c1 - c0) * inner;
  const acc = scratch;
  const means = scratch + f64Bytes(len);
  columnSums(x, rows, C * inner, c0 * inner, len, acc, 0);
  for (let c = c0; c < c1; c++) {
    const mean = sumCols(acc, c, c0, inner) / count;
    fillCols(means, c, c0, inner, mean);
    store<f32>(out + ((<usize>c) << 2), <f32>mean);
  }
  columnSums(x, rows, C * inner, c0 * inner, len, acc, means);
  for (let c = c0; c < c1; c++) store<f32>(out + ((<usize>(C + c)) << 2), <f32>(sumCols(acc, c, c0, inner) / count));
}

/** batchNormForward's short-inner walk, for the channels [c0, c1) (at most colBlock(inner) of them). */
export function forwardColumns(
  x: usize,
  mean: usize,
  variance: usize,
  gamma: usize,
  beta: usize,
  y: usize,
  rows: i32,
  C: i32,
  inner: i32,
  eps: f64,
  c0: i32,
  c1: i32,
  scratch: usize,
): void {
  const len = (c1 - c0) * inner;
  const M = scratch;
  const A = M + f64Bytes(len);
  const B = A + f64Bytes(len);
  for (let c = c0; c < c1; c++) {
    fillCols(M, c, c0, inner, f32At(mean, c));
    fillCols(A, c, c0, inner, (gamma ? f32At(gamma, c) : 1) / Math.sqrt(f32At(variance, c) + eps));
    fillCols(B, c, c0, inner, beta ? f32At(beta, c) : 0);
  }
  const first = (<usize>(c0 * inner)) << 2;
  const stride = (<usize>(C * inner)) << 2;
  let px = x + first;
  let py = y + first;
  for (let n = 0; n < rows; n++, px += stride, py += stride) {
    let i = 0;
    for (; i + 4 <= len; i += 4) {
      const at = (<usize>i) << 2;
      const k = (<usize>i) << 3;
      const lo = fwd2(ld2(px + at), v128.load(M + k), v128.load(A + k), v128.load(B + k));
      const hi = fwd2(ld2(px + at + 8), v128.load(M + k + 16), v128.load(A + k + 16), v128.load(B + k + 16));
      v128.store(py + at, pack(lo, hi));
    }
    for (; i < len; i++) store<f32>(py + ((<usize>i) << 2), <f32>((f32At(px, i) - f64At(M, i)) * f64At(A, i) + f64At(B, i)));
  }
}

/** batchNormGradSums' short-inner walk, for the channels [c0, c1) (at most colBlock(inner) of them). */
export function gradSumsColumns(
  x: usize,
  mean: usize,
  variance: usize,
  dy: usize,
  out: usize,
  rows: i32,
  C: i32,
  inner: i32,
  eps: f64,
  c0: i32,
  c1: i32,
  scratch: usize,
): void {
  const stride = (<usize>(C * inner)) << 2;
  const len = (c1 - c0) * inner;
  const S = scratch;
  const D = S + f64Bytes(len);
  const M = D + f64Bytes(len);
  memory.fill(S, 0, 2 * f64Bytes(len));
  for (let c = c0; c < c1; c++) fillCols(M, c, c0, inner, f32At(mean, c));
  const first = (<usize>(c0 * inner)) << 2;
  let px = x + first;
  let pg = dy + first;
  for (let n = 0; n < rows; n++, px += stride, pg += stride) {
    let i = 0;
    for (; i + 2 <= len; i += 2) {
      const at = (<usize>i) << 2;
      const k = (<usize>i) << 3;
      const g = ld2(pg + at);
      v128.store(S + k, f64x2.add(v128.load(S + k), g));
      v128.store(D + k, f64x2.add(v128.load(D + k), f64x2.mul(g, f64x2.sub(ld2(px + at), v128.load(M + k)))));
    }
    if (i < len) {
      const k = (<usize>i) << 3;
      const g = f32At(pg, i);
      store<f64>(S + k, load<f64>(S + k) + g);
      store<f64>(D + k, load<f64>(D + k) + g * (f32At(px, i) - load<f64>(M + k)));
    }
  }
  for (let c = c0; c < c1; c++) {
    store<f32>(out + ((<usize>c) << 2), <f32>sumCols(S, c, c0, inner));
    store<f32>(out + ((<usize>(C + c)) << 2), <f32>(sumCols(D, c, c0, inner) / Math.sqrt(f32At(variance, c) + eps)));
  }
}

/** batchNormBackward's short-inner walk, for the channels [c0, c1) (at most colBlock(inner) of them). */
export function backwardColumns(
  x: usize,
  mean: usize,
  variance: usize,
  gamma: usize,
  dy: usize,
  sums: usize,
  dx: usize,
  rows: i32,
  C: i32,
  inner: i32,
  eps: f64,
  c0: i32,
  c1: i32,
  scratch: usize,
): void {
  const count = <f64>rows * <f64>inner;
  const stride = (<usize>(C * inner)) << 2;
  const len = (c1 - c0) * inner;
  const A = scratch;
  const M = A + f64Bytes(len);
  const K1 = M + f64Bytes(len);
  const K2 = K1 + f64Bytes(len);
  for (let c = c0; c < c1; c++) {
    const inv = 1 / Math.sqrt(f32At(variance, c) + eps);
    fillCols(A, c, c0, inner, (gamma ? f32At(gamma, c) : 1) * inv);
    if (sums) {
      fillCols(M, c, c0, inner, f32At(mean, c));
      fillCols(K1, c, c0, inner, f32At(sums, c) / count);
      fillCols(K2, c, c0, inner, (f32At(sums, C + c) / count) * inv);
    }
  }
  const first = (<usize>(c0 * inner)) << 2;
  let px = x + first;
  let pg = dy + first;
  let po = dx + first;
  for (let n = 0; n < rows; n++, px += stride, pg += stride, po += stride) {
    let i = 0;
    if (!sums) {
      for (; i + 4 <= len; i += 4) {
        const at = (<usize>i) << 2;
        const k = (<usize>i) << 3;
        v128.store(po + at, pack(f64x2.mul(v128.load(A + k), ld2(pg + at)), f64x2.mul(v128.load(A + k + 16), ld2(pg + at + 8))));
      }
      for (; i < len; i++) store<f32>(po + ((<usize>i) << 2), <f32>(f64At(A, i) * f32At(pg, i)));
      continue;
    }
    for (; i + 4 <= len; i += 4) {
      const at = (<usize>i) << 2;
      const k = (<usize>i) << 3;
      const lo = bwd2(ld2(px + at), ld2(pg + at), v128.load(M + k), v128.load(A + k), v128.load(K1 + k), v128.load(K2 + k));
      const k8 = k + 16;
      const hi = bwd2(ld2(px + at + 8), ld2(pg + at + 8), v128.load(M + k8), v128.load(A + k8), v128.load(K1 + k8), v128.load(K2 + k8));
      v128.store(po + at, pack(lo, hi));
    }
    for (; i < len; i++) {
      const v = f64At(A, i) * (f32At(pg, i) - f64At(K1, i) - (f32At(px, i) - f64At(M, i)) * f64At(K2, i));
      store<f32>(po + ((<usize>i) << 2), <f32>v);
    }
  }
}
