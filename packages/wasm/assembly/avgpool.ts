/**
 * Average pooling over NCHW planes and its gradient, as the reference computes them: a window's
 * in-plane taps are summed in float64 from 0, row by row, and divided by kh * kw (padded taps
 * count as zeros in the divisor: PyTorch's count_include_pad=True); the gradient sums, for each
 * input element, the dy of every window holding it in window order, and divides likewise.
 * Results are rounded to float32 once, so they equal the reference's bit for bit.
 */
import { innerEnd, innerFirst } from './pool';

/** Sums 4 windows' taps in float64 lanes: two f64x2 accumulators, low and high pair. */
// @ts-expect-error: decorator
@inline
function addLanes(acc: v128, v: v128, high: bool): v128 {
  return f64x2.add(acc, f64x2.promote_low_f32x4(high ? v128.shuffle<f32>(v, v, 2, 3, 2, 3) : v));
}

/** The 4 float32 results acc_lo / d, acc_hi / d (float64 division, rounded once). */
// @ts-expect-error: decorator
@inline
function quotients(lo: v128, hi: v128, d: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(f64x2.div(lo, d)), f32x4.demote_f64x2_zero(f64x2.div(hi, d)), 0, 1, 4, 5);
}

/**
 * out[p, oh, ow] = the mean of the window, for `planes` planes of H x W.
 * Example (2x2, stride 2): avgPool2d(x, out, 64 * 16, 28, 28, 14, 14, 2, 2, 2, 2, 0, 0).
 *
 * The columns whose windows lie wholly inside the row run 4 windows at a time, each lane
 * summing its own window in the scalar order (a 2x2 window of stride 2 from two 8-float loads
 * per row, others by lane loads); a row of more than 4 such windows ends with a group
 * overlapping the one before. Padded edge columns and short rows run the scalar loop.
 */
export function avgPool2d(
  x: usize,
  out: usize,
  planes: i32,
  H: i32,
  W: i32,
  OH: i32,
  OW: i32,
  kh: i32,
  kw: i32,
  sh: i32,
  sw: i32,
  ph: i32,
  pw: i32,
): void {
  const divisor = <f64>(kh * kw);
  const owA = innerFirst(OW, sw, pw);
  const owB = innerEnd(OW, W, kw, sw, pw, owA);
  const inner = owB - owA >= 4 ? owB - owA : 0;
  const scalarEnd = inner ? owA : OW;
  const fast2x2 = kw == 2 && sw == 2;
  const innerBytes = (<usize>owA) << 2;
  let o = out;
  for (let p = 0; p < planes; p++) {
    const plane = x + ((<usize>(p * H * W)) << 2);
    for (let oh = 0; oh < OH; oh++) {
      const top = oh * sh - ph;
      const h0 = max(top, 0);
      const h1 = min(top + kh, H);
      for (let ow = 0; ow < scalarEnd; ow++) scalarWindow(plane, W, h0, h1, ow * sw - pw, kw, divisor, o + ((<usize>ow) << 2));
      if (inner) {
        const left0 = owA * sw - pw;
        if (fast2x2) row2(plane, W, h0, h1, left0, inner, divisor, o + innerBytes);
        else rowGeneral(plane, W, h0, h1, kw, sw, left0, inner, divisor, o + innerBytes);
        for (let ow = owB; ow < OW; ow++) scalarWindow(plane, W, h0, h1, ow * sw - pw, kw, divisor, o + ((<usize>ow) << 2));
      }
      o += (<usize>OW) << 2;
    }
  }
}

/** One window, rows [h0, h1) and columns [left, left + kw) clipped to the plane, into o. */
function scalarWindow(plane: usize, W: i32, h0: i32, h1: i32, left: i32, kw: i32, divisor: f64, o: usize): void {
  const w0 = max(left, 0);
  const w1 = min(left + kw, W);
  let sum: f64 = 0;
  for (let ih = h0; ih < h1; ih++) {
    for (let iw = w0; iw < w1; iw++) sum += <f64>load<f32>(plane + ((<usize>(ih * W + iw)) << 2));
  }
  store<f32>(o, <f32>(sum / divisor));
}

/**
 * `count` (>= 4) inner windows 2 wide at stride 2 on rows [h0, h1), the first at column
 * left0: per 4 windows and row, two 4-float loads deinterleaved into the left and right taps.
 */
function row2(plane: usize, W: i32, h0: i32, h1: i32, left0: i32, count: i32, divisor: f64, o: usize): void {
  const d = f64x2.splat(divisor);
  const zero = f64x2.splat(0);
  let g = 0;
  while (true) {
    let lo = zero;
    let hi = zero;
    for (let ih = h0; ih < h1; ih++) {
      const q = plane + ((<usize>(ih * W + left0 + 2 * g)) << 2);
      const a = v128.load(q);
      const b = v128.load(q, 16);
      const l = v128.shuffle<f32>(a, b, 0, 2, 4, 6);
      const r = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
      lo = addLanes(addLanes(lo, l, false), r, false);
      hi = addLanes(addLanes(hi, l, true), r, true);
    }
    v128.store(o + ((<usize>g) << 2), quotients(lo, hi, d));
    if (g + 4 >= count) break;
    g = min(g + 4, count - 4);
  }
}

/**
 * `count` (>= 4) inner windows of any width and stride on rows [h0, h1), the first at column
 * left0: per 4 windows and tap, one 4-float load at stride 1, else 4 lane loads.
 */
function rowGeneral(plane: usize, W: i32, h0: i32, h1: i32, kw: i32, sw: i32, left0: i32, count: i32, divisor: f64, o: usize): void {
  const d = f64x2.splat(divisor);
  const zero = f64x2.splat(0);
  const sw4 = (<usize>sw) << 2;
  let g = 0;
  while (true) {
    let lo = zero;
    let hi = zero;
    for (let ih = h0; ih < h1; ih++) {
      const row = plane + ((<usize>(ih * W + left0 + g * sw)) << 2);
      for (let j = 0; j < kw; j++) {
        const q = row + ((<usize>j) << 2);
        let v: v128;
        if (sw == 1) {
          v = v128.load(q);
        } else {
          v = v128.load32_zero(q);
          v = v128.load32_lane(q + sw4, v, 1);
          v = v128.load32_lane(q + 2 * sw4, v, 2);
          v = v128.load32_lane(q + 3 * sw4, v, 3);
        }
        lo = addLanes(lo, v, false);
        hi = addLanes(hi, v, true);
      }
    }
    v128.store(o + ((<usize>g) << 2), quotients(lo, hi, d));
    if (g + 4 >= count) break;
    g = min(g + 4, count - 4);
  }
}

/**
 * dx[p, ih, iw] = (the sum, in window order, of dy over the windows whose in-plane taps hold
 * (ih, iw)) / (kh * kw); 0 where no window does. Example (2x2, stride 2):
 * avgPool2dBackward(dy, dx, 64 * 16, 28, 28, 14, 14, 2, 2, 2, 2, 0, 0).
 *
 * Windows that do not overlap (stride >= window) give each element at most one dy, whose
 * float64 quotient rounded to float32 is the float32 quotient (0 + dy) / (kh * kw): 4 lanes
 * at a time, and for 2 wide windows of stride 2 each quotient stored twice.
 */
export function avgPool2dBackward(
  dy: usize,
  dx: usize,
  planes: i32,
  H: i32,
  W: i32,
  OH: i32,
  OW: i32,
  kh: i32,
  kw: i32,
  sh: i32,
  sw: i32,
  ph: i32,
  pw: i32,
): void {
  const divisor = kh * kw;
  const disjoint = sh >= kh && sw >= kw;
  for (let p = 0; p < planes; p++) {
    const g = dy + ((<usize>(p * OH * OW)) << 2);
    const plane = dx + ((<usize>(p * H * W)) << 2);
    for (let ih = 0; ih < H; ih++) {
      const dst = plane + ((<usize>(ih * W)) << 2);
      // The window rows holding ih: oh in [ohLo, ohHi].
      const num = ih + ph - kh + 1;
      const ohLo = num <= 0 ? 0 : (num + sh - 1) / sh;
      const ohHi = min(OH - 1, (ih + ph) / sh);
      if (ohLo > ohHi) {
        memory.fill(dst, 0, (<usize>W) << 2);
        continue;
      }
      if (disjoint) disjointRow(g + ((<usize>(ohLo * OW)) << 2), dst, W, OW, kw, sw, pw, divisor);
      else gatherRow(g, dst, ih, W, OW, ohLo, ohHi, kw, sw, pw, <f64>divisor);
    }
  }
}

/** One input row under one row of non-overlapping windows (dy row gr). */
function disjointRow(gr: usize, dst: usize, W: i32, OW: i32, kw: i32, sw: i32, pw: i32, divisor: i32): void {
  const zero = f32x4.splat(0);
  const d = f32x4.splat(<f32>divisor);
  let iw = 0;
  if (kw == 2 && sw == 2 && pw == 0) {
    // Columns 2 ow and 2 ow + 1 take window ow's quotient, for ow < OW.
    let ow = 0;
    for (; ow + 4 <= OW; ow += 4) {
      const q = f32x4.div(f32x4.add(zero, v128.load(gr + ((<usize>ow) << 2))), d);
      const at = dst + ((<usize>ow) << 3);
      v128.store(at, v128.shuffle<f32>(q, q, 0, 0, 1, 1));
      v128.store(at, v128.shuffle<f32>(q, q, 2, 2, 3, 3), 16);
    }
    iw = 2 * ow;
  }
  for (; iw < W; iw++) {
    const ow = (iw + pw) / sw;
    let v: f32 = 0;
    if (ow < OW && iw + pw - ow * sw < kw) v = (<f32>0 + load<f32>(gr + ((<usize>ow) << 2))) / <f32>divisor;
    store<f32>(dst + ((<usize>iw) << 2), v);
  }
}

/**
 * One input row ih under the window rows [ohLo, ohHi] of overlapping windows: float64 sums.
 * Column iw lies in windows ow in [max(0, ceil((iw + pw - kw + 1) / sw)), min(OW - 1,
 * floor((iw + pw) / sw))]; both quotients step along with iw (no division per element).
 */
function gatherRow(g: usize, dst: usize, ih: i32, W: i32, OW: i32, ohLo: i32, ohHi: i32, kw: i32, sw: i32, pw: i32, divisor: f64): void {
  let hiQ = pw / sw;
  let hiR = pw % sw;
  // ceil((iw + pw - kw + 1) / sw) = floor((iw + pw - kw + sw) / sw), the numerator maybe negative.
  const loN = pw - kw + sw;
  let loQ = loN / sw;
  if (loN % sw != 0 && loN < 0) loQ--;
  let loR = loN - loQ * sw;
  for (let iw = 0; iw < W; iw++) {
    const owLo = max(0, loQ);
    const owHi = min(OW - 1, hiQ);
    let acc: f64 = 0;
    for (let oh = ohLo; oh <= ohHi; oh++) {
      const gr = g + ((<usize>(oh * OW)) << 2);
      for (let ow = owLo; ow <= owHi; ow++) acc += <f64>load<f32>(gr + ((<usize>ow) << 2));
    }
    store<f32>(dst + ((<usize>iw) << 2), <f32>(acc / divisor));
    if (++hiR == sw) {
      hiR = 0;
      hiQ++;
    }
    if (++loR == sw) {
      loR = 0;
      loQ++;
    }
  }
}
