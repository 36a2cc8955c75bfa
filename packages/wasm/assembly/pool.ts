/**
 * Max pooling over NCHW planes and its gradient, with the reference's conventions: padding is
 * -infinity, a value wins when it is greater than the best so far or is NaN (so the first of
 * equal maxima and the last NaN win), and the argmax is the winner's flat index ih*W + iw in
 * its plane (the first in-plane tap for a window of only -infinity).
 */

/**
 * The first output column whose window lies wholly inside its row (left = ow*sw - pw >= 0), for
 * the pooling kernels' SIMD runs. Example: innerFirst(14, 2, 0) == 0.
 */
// @ts-expect-error: decorator
@inline
export function innerFirst(OW: i32, sw: i32, pw: i32): i32 {
  return min(OW, (pw + sw - 1) / sw);
}

/**
 * One past the last output column (from `first`) whose window ends inside its row of W
 * (left + kw <= W). Example: innerEnd(14, 28, 2, 2, 0, 0) == 14.
 */
// @ts-expect-error: decorator
@inline
export function innerEnd(OW: i32, W: i32, kw: i32, sw: i32, pw: i32, first: i32): i32 {
  return min(OW, max(first, W + pw - kw >= 0 ? (W + pw - kw) / sw + 1 : 0));
}

/**
 * out[p, oh, ow] = the window's maximum and arg[p, oh, ow] its index, for `planes` planes of
 * H x W. Example: maxPool2d(x, out, arg, 64 * 6, 28, 28, 14, 14, 2, 2, 2, 2, 0, 0).
 *
 * The columns whose windows lie wholly inside the row (all of them without padding) run 4
 * windows at a time in f32x4 lanes, branch-free: each tap, in the scalar loop's row-major
 * order, wins in the lanes where it is greater than the best so far or NaN (a gt and an ne
 * compare), and bitselect takes its value and index there, so every lane ends exactly as the
 * scalar loop would. A row of more than 4 such columns ends with a group overlapping the one
 * before (recomputing the same outputs) instead of a scalar tail; the padded edge columns and
 * rows of fewer than 4 inner columns run the scalar loop.
 */
export function maxPool2d(
  x: usize,
  out: usize,
  arg: usize,
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
  const owA = innerFirst(OW, sw, pw);
  const owB = innerEnd(OW, W, kw, sw, pw, owA);
  const inner = owB - owA >= 4 ? owB - owA : 0;
  const scalarEnd = inner ? owA : OW;
  const fast2x2 = kh == 2 && kw == 2 && sw == 2;
  const innerBytes = (<usize>owA) << 2;
  let o = out;
  let a = arg;
  for (let p = 0; p < planes; p++) {
    const plane = x + ((<usize>(p * H * W)) << 2);
    for (let oh = 0; oh < OH; oh++) {
      const top = oh * sh - ph;
      const h0 = max(top, 0);
      const h1 = min(top + kh, H);
      for (let ow = 0; ow < scalarEnd; ow++) {
        scalarWindow(plane, W, h0, h1, ow * sw - pw, kw, o + ((<usize>ow) << 2), a + ((<usize>ow) << 2));
      }
      if (inner) {
        const left0 = owA * sw - pw;
        if (fast2x2 && h1 - h0 == 2) row2x2(plane, W, h0, left0, inner, o + innerBytes, a + innerBytes);
        else rowGeneral(plane, W, h0, h1, kw, sw, left0, inner, o + innerBytes, a + innerBytes);
        for (let ow = owB; ow < OW; ow++) {
          scalarWindow(plane, W, h0, h1, ow * sw - pw, kw, o + ((<usize>ow) << 2), a + ((<usize>ow) << 2));
        }
      }
      o += (<usize>OW) << 2;
      a += (<usize>OW) << 2;
    }
  }
}

/** One window, rows [h0, h1) and columns [left, left + kw) clipped to the plane, into o and a. */
function scalarWindow(plane: usize, W: i32, h0: i32, h1: i32, left: i32, kw: i32, o: usize, a: usize): void {
  const w0 = max(left, 0);
  const w1 = min(left + kw, W);
  let best: f32 = -Infinity;
  let at = h0 * W + w0;
  for (let ih = h0; ih < h1; ih++) {
    for (let iw = w0; iw < w1; iw++) {
      const v = load<f32>(plane + ((<usize>(ih * W + iw)) << 2));
      if (v > best || v != v) {
        best = v;
        at = ih * W + iw;
      }
    }
  }
  store<f32>(o, best);
  store<i32>(a, at);
}

/**
 * `count` (>= 4) inner 2x2 windows of stride 2 on rows h0 and h0 + 1, the first at column
 * left0: per 4 windows, two 8-float loads per row deinterleaved into even and odd columns.
 * The first tap needs no compare (it is the initial best and index either way).
 */
function row2x2(plane: usize, W: i32, h0: i32, left0: i32, count: i32, o: usize, a: usize): void {
  const r0 = plane + ((<usize>(h0 * W + left0)) << 2);
  const r1 = r0 + ((<usize>W) << 2);
  const first = i32x4.add(i32x4.splat(h0 * W + left0), i32x4(0, 2, 4, 6));
  const one = i32x4.splat(1);
  const down = i32x4.splat(W);
  const diag = i32x4.splat(W + 1);
  let g = 0;
  while (true) {
    const col = (<usize>g) << 3;
    const a0 = v128.load(r0 + col);
    const a1 = v128.load(r0 + col, 16);
    const b0 = v128.load(r1 + col);
    const b1 = v128.load(r1 + col, 16);
    let best = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6);
    let v = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
    let m = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
    best = v128.bitselect(v, best, m);
    let off = v128.and(one, m);
    v = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6);
    m = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
    best = v128.bitselect(v, best, m);
    off = v128.bitselect(down, off, m);
    v = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
    m = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
    best = v128.bitselect(v, best, m);
    off = v128.bitselect(diag, off, m);
    v128.store(o + ((<usize>g) << 2), best);
    v128.store(a + ((<usize>g) << 2), i32x4.add(i32x4.add(first, i32x4.splat(g << 1)), off));
    if (g + 4 >= count) break;
    g = min(g + 4, count - 4);
  }
}

/**
 * `count` (>= 4) inner windows of any size and stride on rows [h0, h1), the first at column
 * left0: per 4 windows and tap, one 4-float load at stride 1, else 4 lane loads.
 */
function rowGeneral(plane: usize, W: i32, h0: i32, h1: i32, kw: i32, sw: i32, left0: i32, count: i32, o: usize, a: usize): void {
  const step = i32x4.mul(i32x4(0, 1, 2, 3), i32x4.splat(sw));
  const sw4 = (<usize>sw) << 2;
  let g = 0;
  while (true) {
    const left = left0 + g * sw;
    const cols = i32x4.add(i32x4.splat(left), step);
    let best = f32x4.splat(-Infinity);
    let at = i32x4.add(cols, i32x4.splat(h0 * W));
    for (let ih = h0; ih < h1; ih++) {
      const row = plane + ((<usize>(ih * W + left)) << 2);
      const rowAt = i32x4.add(cols, i32x4.splat(ih * W));
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
        const m = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
        best = v128.bitselect(v, best, m);
        at = v128.bitselect(i32x4.add(rowAt, i32x4.splat(j)), at, m);
      }
    }
    v128.store(o + ((<usize>g) << 2), best);
    v128.store(a + ((<usize>g) << 2), at);
    if (g + 4 >= count) break;
    g = min(g + 4, count - 4);
  }
}

/**
 * dx (zeroed here) += dy at the input element each window's argmax names; an index outside
 * the plane is ignored. Example: maxPool2dBackward(dy, arg, dx, 64 * 6, 28, 28, 14 * 14).
 */
export function maxPool2dBackward(dy: usize, arg: usize, dx: usize, planes: i32, H: i32, W: i32, planeOut: i32): void {
  const hw = H * W;
  let g = dy;
  let a = arg;
  for (let p = 0; p < planes; p++) {
    const plane = dx + ((<usize>(p * hw)) << 2);
    // Zeroed plane by plane, so it is still in L1 for its scatter.
    memory.fill(plane, 0, (<usize>hw) << 2);
    for (let o = 0; o < planeOut; o++) {
      const at = load<i32>(a);
      if (<u32>at < <u32>hw) {
        const dst = plane + ((<usize>at) << 2);
        store<f32>(dst, load<f32>(dst) + load<f32>(g));
      }
      g += 4;
      a += 4;
    }
  }
}
