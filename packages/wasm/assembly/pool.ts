/**
 * Max pooling over NCHW planes and its gradient, with the reference's conventions: padding is
 * -infinity, a value wins when it is greater than the best so far or is NaN (so the first of
 * equal maxima and the last NaN win), and the argmax is the winner's flat index ih*W + iw in
 * its plane (the first in-plane tap for a window of only -infinity).
 */

/**
 * out[p, oh, ow] = the window's maximum and arg[p, oh, ow] its index, for `planes` planes of
 * H x W. Example: maxPool2d(x, out, arg, 64 * 6, 28, 28, 14, 14, 2, 2, 2, 2, 0, 0).
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
  let o = out;
  let a = arg;
  for (let p = 0; p < planes; p++) {
    const plane = x + ((<usize>(p * H * W)) << 2);
    for (let oh = 0; oh < OH; oh++) {
      const top = oh * sh - ph;
      const h0 = max(top, 0);
      const h1 = min(top + kh, H);
      for (let ow = 0; ow < OW; ow++) {
        const left = ow * sw - pw;
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
        o += 4;
        a += 4;
      }
    }
  }
}

/**
 * dx (zeroed here) += dy at the input element each window's argmax names; an index outside
 * the plane is ignored. Example: maxPool2dBackward(dy, arg, dx, 64 * 6, 28, 28, 14 * 14).
 */
export function maxPool2dBackward(dy: usize, arg: usize, dx: usize, planes: i32, H: i32, W: i32, planeOut: i32): void {
  const hw = H * W;
  memory.fill(dx, 0, (<usize>(planes * hw)) << 2);
  let g = dy;
  let a = arg;
  for (let p = 0; p < planes; p++) {
    const plane = dx + ((<usize>(p * hw)) << 2);
    for (let o = 0; o < planeOut; o++) {
      const at = load<i32>(a);
      if (at >= 0 && at < hw) {
        const dst = plane + ((<usize>at) << 2);
        store<f32>(dst, load<f32>(dst) + load<f32>(g));
      }
      g += 4;
      a += 4;
    }
  }
}
