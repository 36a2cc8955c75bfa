/**
 * Softmax cross-entropy over rows of logits [N, C], forward and backward, in float64 like the
 * reference: per row m = the first maximum, rest = sum over the other entries of exp(x - m),
 * l = log1p(rest), and the loss is (m - x[label]) + l. Labels are int32 class ids
 * (labelsAreIds = 1) or float32 target rows [N, C].
 *
 * Softmax and log-softmax along any axis and their gradient (softmaxRows, softmaxBackwardRows),
 * with the same row statistics: a row is the D elements along the axis, `inner` apart. Their
 * exp and log1p are fdlibm's as V8 computes them (fdlibm.ts), and every sum runs in the
 * reference's order, so the results equal the reference's bit for bit.
 */
import { fdExp, fdLog1p } from './fdlibm';
import { expLanes } from './fdlibm-lanes';

/** m, rest of one row (the first strict maximum from -infinity; NaNs never win). */
// @ts-expect-error: decorator
@inline
function rowMax(row: usize, C: i32): i32 {
  let m: f32 = -Infinity;
  let top = 0;
  for (let c = 0; c < C; c++) {
    const v = load<f32>(row + (<usize>c << 2));
    if (v > m) {
      m = v;
      top = c;
    }
  }
  return top;
}

/**
 * out[n] = the loss of row n; stats[n] = (m, l, target sum). A class id outside [0, C) gives a
 * NaN loss. Example: softmaxCrossEntropy(x, labels, 1, out, stats, 64, 10).
 */
export function softmaxCrossEntropy(x: usize, labels: usize, labelsAreIds: i32, out: usize, stats: usize, N: i32, C: i32): void {
  for (let n = 0; n < N; n++) {
    const row = x + (<usize>(n * C) << 2);
    const top = rowMax(row, C);
    const m = <f64>load<f32>(row + (<usize>top << 2));
    let rest: f64 = 0;
    for (let c = 0; c < C; c++) if (c != top) rest += Math.exp(<f64>load<f32>(row + (<usize>c << 2)) - m);
    const l = Math.log1p(rest);
    const s = stats + (<usize>(3 * n) << 2);
    store<f32>(s, <f32>m);
    store<f32>(s, <f32>l, 4);
    if (labelsAreIds) {
      const label = load<i32>(labels + (<usize>n << 2));
      const loss = label >= 0 && label < C ? m - <f64>load<f32>(row + (<usize>label << 2)) + l : NaN;
      store<f32>(out + (<usize>n << 2), <f32>loss);
      store<f32>(s, 1, 8);
    } else {
      const t = labels + (<usize>(n * C) << 2);
      let loss: f64 = 0;
      let targetSum: f64 = 0;
      for (let c = 0; c < C; c++) {
        const tc = <f64>load<f32>(t + (<usize>c << 2));
        if (tc != 0) loss += tc * (m - <f64>load<f32>(row + (<usize>c << 2)) + l);
        targetSum += tc;
      }
      store<f32>(out + (<usize>n << 2), <f32>loss);
      store<f32>(s, <f32>targetSum, 8);
    }
  }
}

/**
 * dx[n, c] = (exp(x - m - l) * targetSum - t[n, c]) * dy[n], from the forward's stats; a row
 * with an invalid class id is NaN. Example: softmaxCrossEntropyBackward(x, labels, 1, stats, dy, dx, 64, 10).
 */
export function softmaxCrossEntropyBackward(
  x: usize,
  labels: usize,
  labelsAreIds: i32,
  stats: usize,
  dy: usize,
  dx: usize,
  N: i32,
  C: i32,
): void {
  for (let n = 0; n < N; n++) {
    const s = stats + (<usize>(3 * n) << 2);
    const m = <f64>load<f32>(s);
    const l = <f64>load<f32>(s, 4);
    const targetSum = <f64>load<f32>(s, 8);
    const g = <f64>load<f32>(dy + (<usize>n << 2));
    const label = labelsAreIds ? load<i32>(labels + (<usize>n << 2)) : -1;
    const valid = !labelsAreIds || (label >= 0 && label < C);
    const row = x + (<usize>(n * C) << 2);
    const out = dx + (<usize>(n * C) << 2);
    for (let c = 0; c < C; c++) {
      const p = Math.exp(<f64>load<f32>(row + (<usize>c << 2)) - m - l) * targetSum;
      const t: f64 = labelsAreIds ? (label == c ? 1 : 0) : <f64>load<f32>(labels + (<usize>(n * C + c) << 2));
      store<f32>(out + (<usize>c << 2), valid ? <f32>((p - t) * g) : NaN);
    }
  }
}

/** The largest non-NaN value of n contiguous floats (-infinity if none), 4 lanes at a time. */
function maxContiguous(p: usize, n: i32): f32 {
  let acc = f32x4.splat(-Infinity);
  let j = 0;
  // pmax(acc, v) = acc < v ? v : acc: a NaN v never enters.
  for (; j + 4 <= n; j += 4) acc = f32x4.pmax(acc, v128.load(p + ((<usize>j) << 2)));
  let m = max(max(f32x4.extract_lane(acc, 0), f32x4.extract_lane(acc, 1)), max(f32x4.extract_lane(acc, 2), f32x4.extract_lane(acc, 3)));
  for (; j < n; j++) {
    const v = load<f32>(p + ((<usize>j) << 2));
    if (v > m) m = v;
  }
  return m;
}

/**
 * The index of the row's first strict maximum (the reference's top: the first element equal to
 * the largest non-NaN value), or -1 when that is -infinity or every element is NaN (the
 * reference's m stays -infinity, top 0).
 */
function rowTop(row: usize, D: i32, step: usize): i32 {
  let m: f32;
  if (step == 4) {
    m = maxContiguous(row, D);
  } else {
    m = -Infinity;
    for (let j = 0; j < D; j++) {
      const v = load<f32>(row + <usize>j * step);
      if (v > m) m = v;
    }
  }
  if (m == -Infinity) return -1;
  let j = 0;
  if (step == 4) {
    const mv = f32x4.splat(m);
    for (; j + 4 <= D; j += 4) {
      const hit = i32x4.bitmask(f32x4.eq(v128.load(row + ((<usize>j) << 2)), mv));
      if (hit) return j + ctz(hit);
    }
  }
  while (load<f32>(row + <usize>j * step) != m) j++;
  return j;
}

/**
 * Softmax (log = 0) or log-softmax (log = 1) of rows [r0, r1) of x seen as [outer, D, inner]
 * (row r: elements (r / inner) * D * inner + j * inner + r % inner), as the reference: m =
 * x[top], e_j = exp(x_j - m), rest = the sum of the e_j but top's in order, and out_j =
 * e_j / (1 + rest), or (x_j - m) - log1p(rest); float64, rounded once. `e` is scratch for D
 * float64 values. Example (the last axis of [64, 10]): softmaxRows(x, out, 0, 64, 10, 1, 0, e).
 */
export function softmaxRows(x: usize, out: usize, r0: i32, r1: i32, D: i32, inner: i32, log: i32, e: usize): void {
  const step = (<usize>inner) << 2;
  for (let r = r0; r < r1; r++) {
    const at = (<usize>((r / inner) * D * inner + (r % inner))) << 2;
    const row = x + at;
    const dst = out + at;
    let top = rowTop(row, D, step);
    let m: f64 = -Infinity;
    if (top < 0) top = 0;
    else m = <f64>load<f32>(row + <usize>top * step);
    // e_j, 2 lanes at a time along a contiguous row; then rest, in order.
    let j = 0;
    if (step == 4) {
      const mv = f64x2.splat(m);
      for (; j + 2 <= D; j += 2) {
        const v = f64x2.promote_low_f32x4(v128.load64_zero(row + ((<usize>j) << 2)));
        v128.store(e + ((<usize>j) << 3), expLanes(f64x2.sub(v, mv)));
      }
    }
    for (; j < D; j++) store<f64>(e + ((<usize>j) << 3), fdExp(<f64>load<f32>(row + <usize>j * step) - m));
    let rest: f64 = 0;
    for (let k = 0; k < top; k++) rest += load<f64>(e + ((<usize>k) << 3));
    for (let k = top + 1; k < D; k++) rest += load<f64>(e + ((<usize>k) << 3));
    if (log) {
      const l = fdLog1p(rest);
      j = 0;
      if (step == 4) {
        const mv = f64x2.splat(m);
        const lv = f64x2.splat(l);
        for (; j + 2 <= D; j += 2) {
          const o = (<usize>j) << 2;
          const v = f64x2.promote_low_f32x4(v128.load64_zero(row + o));
          v128.store64_lane(dst + o, f32x4.demote_f64x2_zero(f64x2.sub(f64x2.sub(v, mv), lv)), 0);
        }
      }
      for (; j < D; j++) {
        const o = <usize>j * step;
        store<f32>(dst + o, <f32>((<f64>load<f32>(row + o) - m) - l));
      }
    } else if (step == 4) {
      const d = f64x2.splat(1 + rest);
      j = 0;
      for (; j + 4 <= D; j += 4) {
        const lo = f32x4.demote_f64x2_zero(f64x2.div(v128.load(e + ((<usize>j) << 3)), d));
        const hi = f32x4.demote_f64x2_zero(f64x2.div(v128.load(e + ((<usize>j) << 3), 16), d));
        v128.store(dst + ((<usize>j) << 2), v128.shuffle<f32>(lo, hi, 0, 1, 4, 5));
      }
      for (; j < D; j++) store<f32>(dst + ((<usize>j) << 2), <f32>(load<f64>(e + ((<usize>j) << 3)) / (1 + rest)));
    } else {
      const d = 1 + rest;
      for (let j = 0; j < D; j++) store<f32>(dst + <usize>j * step, <f32>(load<f64>(e + ((<usize>j) << 3)) / d));
    }
  }
}

/**
 * The gradient of rows [r0, r1) (laid out as in softmaxRows), from y (the forward output) and
 * dy: dot = the sum over the row of dy * y (softmax) or of dy (log-softmax), in order, and
 * dx = y * (dy - dot), or dy - exp(y) * dot; float64, rounded once.
 * Example (the last axis of [64, 10]): softmaxBackwardRows(y, dy, dx, 0, 64, 10, 1, 0).
 */
export function softmaxBackwardRows(y: usize, dy: usize, dx: usize, r0: i32, r1: i32, D: i32, inner: i32, log: i32): void {
  const step = (<usize>inner) << 2;
  for (let r = r0; r < r1; r++) {
    const at = (<usize>((r / inner) * D * inner + (r % inner))) << 2;
    const yr = y + at;
    const gr = dy + at;
    const dst = dx + at;
    let dot: f64 = 0;
    if (log) {
      for (let j = 0; j < D; j++) dot += <f64>load<f32>(gr + <usize>j * step);
      let j = 0;
      if (step == 4) {
        const d = f64x2.splat(dot);
        for (; j + 2 <= D; j += 2) {
          const o = (<usize>j) << 2;
          const ey = expLanes(f64x2.promote_low_f32x4(v128.load64_zero(yr + o)));
          const g = f64x2.promote_low_f32x4(v128.load64_zero(gr + o));
          v128.store64_lane(dst + o, f32x4.demote_f64x2_zero(f64x2.sub(g, f64x2.mul(ey, d))), 0);
        }
      }
      for (; j < D; j++) {
        const o = <usize>j * step;
        store<f32>(dst + o, <f32>(<f64>load<f32>(gr + o) - fdExp(<f64>load<f32>(yr + o)) * dot));
      }
      continue;
    }
    for (let j = 0; j < D; j++) {
      const o = <usize>j * step;
      dot += <f64>load<f32>(gr + o) * <f64>load<f32>(yr + o);
    }
    let j = 0;
    if (step == 4) {
      const d = f64x2.splat(dot);
      for (; j + 4 <= D; j += 4) {
        const o = (<usize>j) << 2;
        const yv = v128.load(yr + o);
        const gv = v128.load(gr + o);
        const yh = v128.shuffle<f32>(yv, yv, 2, 3, 2, 3);
        const gh = v128.shuffle<f32>(gv, gv, 2, 3, 2, 3);
        const lo = f64x2.mul(f64x2.promote_low_f32x4(yv), f64x2.sub(f64x2.promote_low_f32x4(gv), d));
        const hi = f64x2.mul(f64x2.promote_low_f32x4(yh), f64x2.sub(f64x2.promote_low_f32x4(gh), d));
        v128.store(dst + o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5));
      }
    }
    for (; j < D; j++) {
      const o = <usize>j * step;
      store<f32>(dst + o, <f32>(<f64>load<f32>(yr + o) * (<f64>load<f32>(gr + o) - dot)));
    }
  }
}
