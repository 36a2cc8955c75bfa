/**
 * Batch normalization (core's ops/norm.ts), as the reference computes it: x is [rows, C, inner]
 * around the channel axis, channel c's values x[(n * C + c) * inner + j], and every kernel
 * handles the channels [c0, c1), so that threads can split the channels.
 *
 * Arithmetic is float64 throughout, in two lanes (f64x2): the sums accumulate in float64 (four
 * accumulators, so their order, and so the last bits, can differ from the reference's sequential
 * sums), and the per-element passes evaluate the reference's expression in its order in float64
 * and round once, so that given the same statistics they equal the reference bit for bit.
 *
 * Two walks: with `inner` >= WIDE a channel's `rows` runs of `inner` values are walked one
 * after another (NCHW images); with a short `inner` ([N, C], or a late channel axis) the
 * channels go in blocks of up to COLUMNS columns (channel-position pairs), and each row's slice
 * of a block is walked as one contiguous run, with per-column float64 accumulators and
 * coefficients in scratch (`colScratchBytes`).
 */
import { colBlock, statsColumns, forwardColumns, gradSumsColumns, backwardColumns } from './batchnorm-columns';
import { WIDE, ld2, pack, hsum, f32At, fwd2, bwd2 } from './batchnorm-lanes';

/** Σ x over channel c (float64), or with `sq` Σ (x - m)^2. */
function channelSum(x: usize, rows: i32, C: i32, inner: i32, c: i32, sq: bool, mean: f64): f64 {
  const m = f64x2.splat(mean);
  let s0 = f64x2.splat(0);
  let s1 = s0;
  let s2 = s0;
  let s3 = s0;
  let t: f64 = 0;
  const stride = (<usize>(C * inner)) << 2;
  const bytes = (<usize>inner) << 2;
  let run = x + ((<usize>(c * inner)) << 2);
  for (let n = 0; n < rows; n++, run += stride) {
    const end = run + bytes;
    let p = run;
    if (sq) {
      for (; p + 32 <= end; p += 32) {
        const e0 = f64x2.sub(ld2(p), m);
        const e1 = f64x2.sub(ld2(p + 8), m);
        const e2 = f64x2.sub(ld2(p + 16), m);
        const e3 = f64x2.sub(ld2(p + 24), m);
        s0 = f64x2.add(s0, f64x2.mul(e0, e0));
        s1 = f64x2.add(s1, f64x2.mul(e1, e1));
        s2 = f64x2.add(s2, f64x2.mul(e2, e2));
        s3 = f64x2.add(s3, f64x2.mul(e3, e3));
      }
      for (; p + 8 <= end; p += 8) {
        const e = f64x2.sub(ld2(p), m);
        s0 = f64x2.add(s0, f64x2.mul(e, e));
      }
      if (p < end) {
        const e = <f64>load<f32>(p) - mean;
        t += e * e;
      }
    } else {
      for (; p + 32 <= end; p += 32) {
        s0 = f64x2.add(s0, ld2(p));
        s1 = f64x2.add(s1, ld2(p + 8));
        s2 = f64x2.add(s2, ld2(p + 16));
        s3 = f64x2.add(s3, ld2(p + 24));
      }
      for (; p + 8 <= end; p += 8) s0 = f64x2.add(s0, ld2(p));
      if (p < end) t += <f64>load<f32>(p);
    }
  }
  return hsum(f64x2.add(f64x2.add(s0, s1), f64x2.add(s2, s3))) + t;
}

/**
 * out[c] = the mean of channel c, out[C + c] = its biased variance, for c in [c0, c1): the sum,
 * then the squared deviations from the float64 mean, both in float64. `scratch`: colScratchBytes.
 * Example (channels 0-15 of x [64, 16, 28, 28]): batchNormStats(x, out, 64, 16, 784, 0, 16, 0).
 */
export function batchNormStats(x: usize, out: usize, rows: i32, C: i32, inner: i32, c0: i32, c1: i32, scratch: usize): void {
  const count = <f64>rows * <f64>inner;
  if (inner >= WIDE) {
    for (let c = c0; c < c1; c++) {
      const mean = channelSum(x, rows, C, inner, c, false, 0) / count;
      const m2 = channelSum(x, rows, C, inner, c, true, mean);
      store<f32>(out + ((<usize>c) << 2), <f32>mean);
      store<f32>(out + ((<usize>(C + c)) << 2), <f32>(m2 / count));
    }
    return;
  }
  const block = colBlock(inner);
  for (let b = c0; b < c1; b += block) statsColumns(x, out, rows, C, inner, b, min(c1, b + block), scratch);
}

/**
 * y = (x - mean) * a + beta with a = gamma / sqrt(var + eps) (gamma 1 and beta 0 where their
 * pointers are 0), for the channels [c0, c1). mean and var are [C] float32 arrays (the wrapper
 * points var at row 1 of a [2, C] statistics tensor). `scratch`: colScratchBytes.
 * Example: batchNormForward(x, stats, stats + 64, gamma, beta, y, 64, 16, 784, 1e-5, 0, 16, 0).
 */
export function batchNormForward(
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
  if (inner >= WIDE) {
    const stride = (<usize>(C * inner)) << 2;
    for (let c = c0; c < c1; c++) {
      const mc = f32At(mean, c);
      const ac = (gamma ? f32At(gamma, c) : 1) / Math.sqrt(f32At(variance, c) + eps);
      const bc = beta ? f32At(beta, c) : 0;
      const m = f64x2.splat(mc);
      const a = f64x2.splat(ac);
      const b = f64x2.splat(bc);
      const first = (<usize>(c * inner)) << 2;
      let px = x + first;
      let py = y + first;
      for (let n = 0; n < rows; n++, px += stride, py += stride) {
        let j = 0;
        for (; j + 4 <= inner; j += 4) {
          const at = (<usize>j) << 2;
          v128.store(py + at, pack(fwd2(ld2(px + at), m, a, b), fwd2(ld2(px + at + 8), m, a, b)));
        }
        for (; j < inner; j++) store<f32>(py + ((<usize>j) << 2), <f32>((f32At(px, j) - mc) * ac + bc));
      }
    }
    return;
  }
  const block = colBlock(inner);
  for (let b = c0; b < c1; b += block) forwardColumns(x, mean, variance, gamma, beta, y, rows, C, inner, eps, b, min(c1, b + block), scratch);
}

/**
 * out[c] = Σ dy, out[C + c] = Σ dy * (x - mean) / sqrt(var + eps) over channel c, for c in
 * [c0, c1), in float64. `scratch`: colScratchBytes.
 * Example: batchNormGradSums(x, stats, stats + 64, dy, out, 64, 16, 784, 1e-5, 0, 16, 0).
 */
export function batchNormGradSums(
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
  if (inner >= WIDE) {
    for (let c = c0; c < c1; c++) {
      const mc = f32At(mean, c);
      const m = f64x2.splat(mc);
      let s0 = f64x2.splat(0);
      let s1 = f64x2.splat(0);
      let d0 = f64x2.splat(0);
      let d1 = f64x2.splat(0);
      let ts: f64 = 0;
      let td: f64 = 0;
      const first = (<usize>(c * inner)) << 2;
      let px = x + first;
      let pg = dy + first;
      for (let n = 0; n < rows; n++, px += stride, pg += stride) {
        let j = 0;
        for (; j + 4 <= inner; j += 4) {
          const at = (<usize>j) << 2;
          const g0 = ld2(pg + at);
          const g1 = ld2(pg + at + 8);
          s0 = f64x2.add(s0, g0);
          s1 = f64x2.add(s1, g1);
          d0 = f64x2.add(d0, f64x2.mul(g0, f64x2.sub(ld2(px + at), m)));
          d1 = f64x2.add(d1, f64x2.mul(g1, f64x2.sub(ld2(px + at + 8), m)));
        }
        for (; j < inner; j++) {
          const g = f32At(pg, j);
          ts += g;
          td += g * (f32At(px, j) - mc);
        }
      }
      store<f32>(out + ((<usize>c) << 2), <f32>(hsum(f64x2.add(s0, s1)) + ts));
      store<f32>(out + ((<usize>(C + c)) << 2), <f32>((hsum(f64x2.add(d0, d1)) + td) / Math.sqrt(f32At(variance, c) + eps)));
    }
    return;
  }
  const block = colBlock(inner);
  for (let b = c0; b < c1; b += block) gradSumsColumns(x, mean, variance, dy, out, rows, C, inner, eps, b, min(c1, b + block), scratch);
}

/**
 * The input gradient, for the channels [c0, c1): with inv = 1 / sqrt(var + eps) and a = gamma *
 * inv, dx = a * dy in evaluation (sums 0); in training, from sums [2, C] = [Σ dy, Σ dy * xhat]
 * over the channel's count = rows * inner values, dx = a * (dy - Σdy / count - (x - mean) *
 * (Σ dy * xhat / count) * inv). `scratch`: colScratchBytes.
 * Example: batchNormBackward(x, stats, stats + 64, gamma, dy, sums, dx, 64, 16, 784, 1e-5, 0, 16, 0).
 */
export function batchNormBackward(
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
  if (inner >= WIDE) {
    for (let c = c0; c < c1; c++) {
      const inv = 1 / Math.sqrt(f32At(variance, c) + eps);
      const ac = (gamma ? f32At(gamma, c) : 1) * inv;
      const a = f64x2.splat(ac);
      const first = (<usize>(c * inner)) << 2;
      let px = x + first;
      let pg = dy + first;
      let po = dx + first;
      if (!sums) {
        for (let n = 0; n < rows; n++, pg += stride, po += stride) {
          let j = 0;
          for (; j + 4 <= inner; j += 4) {
            const at = (<usize>j) << 2;
            v128.store(po + at, pack(f64x2.mul(a, ld2(pg + at)), f64x2.mul(a, ld2(pg + at + 8))));
          }
          for (; j < inner; j++) store<f32>(po + ((<usize>j) << 2), <f32>(ac * f32At(pg, j)));
        }
        continue;
      }
      const mc = f32At(mean, c);
      const k1c = f32At(sums, c) / count;
      const k2c = (f32At(sums, C + c) / count) * inv;
      const m = f64x2.splat(mc);
      const k1 = f64x2.splat(k1c);
      const k2 = f64x2.splat(k2c);
      for (let n = 0; n < rows; n++, px += stride, pg += stride, po += stride) {
        let j = 0;
        for (; j + 4 <= inner; j += 4) {
          const at = (<usize>j) << 2;
          const lo = bwd2(ld2(px + at), ld2(pg + at), m, a, k1, k2);
          const hi = bwd2(ld2(px + at + 8), ld2(pg + at + 8), m, a, k1, k2);
          v128.store(po + at, pack(lo, hi));
        }
        for (; j < inner; j++) store<f32>(po + ((<usize>j) << 2), <f32>(ac * (f32At(pg, j) - k1c - (f32At(px, j) - mc) * k2c)));
      }
    }
    return;
  }
  const block = colBlock(inner);
  for (let b = c0; b < c1; b += block) backwardColumns(x, mean, variance, gamma, dy, sums, dx, rows, C, inner, eps, b, min(c1, b + block), scratch);
}

/**
 * out[c] = (1 - momentum) * running[c] + momentum * (scale * stats[c]) for c < C, in float64
 * (stats points at the wanted row of the [2, C] batch statistics).
 * Example (the running variance, unbiased): batchNormRunning(rv, stats + 64, out, 16, 0.1, 50176 / 50175).
 */
export function batchNormRunning(running: usize, stats: usize, out: usize, C: i32, momentum: f64, scale: f64): void {
  const keep = 1 - momentum;
  const k = f64x2.splat(keep);
  const mom = f64x2.splat(momentum);
  const s = f64x2.splat(scale);
  let c = 0;
  for (; c + 2 <= C; c += 2) {
    const at = (<usize>c) << 2;
    const v = f64x2.add(f64x2.mul(k, ld2(running + at)), f64x2.mul(mom, f64x2.mul(s, ld2(stats + at))));
    v128.store64_lane(out + at, f32x4.demote_f64x2_zero(v), 0);
  }
  if (c < C) store<f32>(out + ((<usize>c) << 2), <f32>(keep * f32At(running, c) + momentum * (scale * f32At(stats, c))));
}
