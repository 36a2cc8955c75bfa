/**
 * The filter gradient's product dw[f, t] += sum_p dy[f, p] * col[t, p]: both operands have the
 * reduction index p contiguous (dy's rows are one sample's output planes, col's rows are
 * im2col's tap rows), so the product is a block of dot products of contiguous rows. A tile of
 * 2 dy rows x 4 col rows keeps 8 f32x4 partial sums in registers and loads each vector once
 * per tile step (6 loads for 8 multiply-adds), with no packing. Rows past the matrix edge read
 * a zero row and are not stored, so every tile runs the same loop.
 */

/** Horizontal sum of the 4 lanes. */
// @ts-expect-error: decorator
@inline
function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Row r of the rows x P matrix at base (rows `pitch` bytes apart), or the zero row past the end. */
// @ts-expect-error: decorator
@inline
function rowAt(base: usize, r: i32, rows: i32, pitch: usize, zeroRow: usize): usize {
  return r < rows ? base + <usize>r * pitch : zeroRow;
}

/** dw[f * ldw + t] += s (skipped for a tile's rows past the edge). */
// @ts-expect-error: decorator
@inline
function addTo(dw: usize, ldw: i32, f: i32, t: i32, F: i32, T: i32, s: f32): void {
  if (f < F && t < T) {
    const at = dw + ((<usize>(f * ldw + t)) << 2);
    store<f32>(at, load<f32>(at) + s);
  }
}

/** The scalar tail of one dot product (p from p0 to P). */
// @ts-expect-error: decorator
@inline
function tail(a: usize, b: usize, p0: i32, P: i32): f32 {
  let s: f32 = 0;
  for (let p = p0; p < P; p++) s += load<f32>(a + ((<usize>p) << 2)) * load<f32>(b + ((<usize>p) << 2));
  return s;
}

/**
 * dw[f, t] += sum_{p < P} dy[f, p] * col[t, p] for f < F, t < T; dy and col rows are P floats
 * apart, dw rows ldw floats apart; zeroRow points at P zero floats. Example (one sample of
 * LeNet conv2): dotRows(dy_n, 16, col, 150, 100, dw, 151, zeros).
 */
export function dotRows(dy: usize, F: i32, col: usize, T: i32, P: i32, dw: usize, ldw: i32, zeroRow: usize): void {
  const pitch = (<usize>P) << 2;
  const P4 = P & ~3;
  for (let f0 = 0; f0 < F; f0 += 2) {
    const a0 = rowAt(dy, f0, F, pitch, zeroRow);
    const a1 = rowAt(dy, f0 + 1, F, pitch, zeroRow);
    for (let t0 = 0; t0 < T; t0 += 4) {
      const q0 = rowAt(col, t0, T, pitch, zeroRow);
      const q1 = rowAt(col, t0 + 1, T, pitch, zeroRow);
      const q2 = rowAt(col, t0 + 2, T, pitch, zeroRow);
      const q3 = rowAt(col, t0 + 3, T, pitch, zeroRow);
      let s00 = f32x4.splat(0);
      let s01 = f32x4.splat(0);
      let s02 = f32x4.splat(0);
      let s03 = f32x4.splat(0);
      let s10 = f32x4.splat(0);
      let s11 = f32x4.splat(0);
      let s12 = f32x4.splat(0);
      let s13 = f32x4.splat(0);
      for (let off: usize = 0; off < (<usize>P4) << 2; off += 16) {
        const x0 = v128.load(a0 + off);
        const x1 = v128.load(a1 + off);
        let b = v128.load(q0 + off);
        s00 = f32x4.add(s00, f32x4.mul(x0, b));
        s10 = f32x4.add(s10, f32x4.mul(x1, b));
        b = v128.load(q1 + off);
        s01 = f32x4.add(s01, f32x4.mul(x0, b));
        s11 = f32x4.add(s11, f32x4.mul(x1, b));
        b = v128.load(q2 + off);
        s02 = f32x4.add(s02, f32x4.mul(x0, b));
        s12 = f32x4.add(s12, f32x4.mul(x1, b));
        b = v128.load(q3 + off);
        s03 = f32x4.add(s03, f32x4.mul(x0, b));
        s13 = f32x4.add(s13, f32x4.mul(x1, b));
      }
      addTo(dw, ldw, f0, t0, F, T, hsum(s00) + tail(a0, q0, P4, P));
      addTo(dw, ldw, f0, t0 + 1, F, T, hsum(s01) + tail(a0, q1, P4, P));
      addTo(dw, ldw, f0, t0 + 2, F, T, hsum(s02) + tail(a0, q2, P4, P));
      addTo(dw, ldw, f0, t0 + 3, F, T, hsum(s03) + tail(a0, q3, P4, P));
      addTo(dw, ldw, f0 + 1, t0, F, T, hsum(s10) + tail(a1, q0, P4, P));
      addTo(dw, ldw, f0 + 1, t0 + 1, F, T, hsum(s11) + tail(a1, q1, P4, P));
      addTo(dw, ldw, f0 + 1, t0 + 2, F, T, hsum(s12) + tail(a1, q2, P4, P));
      addTo(dw, ldw, f0 + 1, t0 + 3, F, T, hsum(s13) + tail(a1, q3, P4, P));
    }
  }
}
