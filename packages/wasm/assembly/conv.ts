/**
 * The data movement of the convolutions, which the GEMM of gemm.ts turns into products:
 * im2col lays one sample's group of input planes out as a [cpg*KH*KW, OH*OW] matrix (one row
 * per filter tap, zero where the tap reads padding), col2im adds such a matrix back into the
 * planes (the adjoint, for the input gradient), and sumRows gives the bias gradient.
 *
 * With the tap (c, kh, kw) and output (oh, ow): ih = oh*sh - pt + kh*dh, iw = ow*sw - pl + kw*dw,
 * as in the reference kernels (NCHW, PyTorch semantics).
 */

/** The first output column whose tap (input column ow*sw + dx) is not left of the row. */
// @ts-expect-error: decorator
@inline
function firstTapInside(OW: i32, sw: i32, dx: i32): i32 {
  let ow = 0;
  while (ow < OW && ow * sw + dx < 0) ow++;
  return ow;
}

/** One past the last output column (from `lo`) whose tap lands inside a row of W columns. */
// @ts-expect-error: decorator
@inline
function endTapInside(OW: i32, sw: i32, dx: i32, W: i32, lo: i32): i32 {
  let ow = OW;
  while (ow > lo && (ow - 1) * sw + dx >= W) ow--;
  return ow;
}

/**
 * col[(c*KH + kh)*KW + kw, oh*OW + ow] = x[c, ih, iw] (0 in the padding) for the cpg planes of
 * H x W floats at x. Example: im2col(x, 1, 28, 28, 5, 5, 1, 1, 1, 1, 2, 2, 28, 28, col).
 */
export function im2col(
  x: usize,
  cpg: i32,
  H: i32,
  W: i32,
  KH: i32,
  KW: i32,
  sh: i32,
  sw: i32,
  dh: i32,
  dw: i32,
  pt: i32,
  pl: i32,
  OH: i32,
  OW: i32,
  col: usize,
): void {
  let out = col;
  for (let c = 0; c < cpg; c++) {
    const plane = x + ((<usize>(c * H * W)) << 2);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const dx = kw * dw - pl;
        const owLo = firstTapInside(OW, sw, dx);
        const owHi = endTapInside(OW, sw, dx, W, owLo);
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * sh - pt + kh * dh;
          if (ih < 0 || ih >= H) {
            memory.fill(out, 0, (<usize>OW) << 2);
          } else {
            const row = plane + ((<usize>(ih * W + dx)) << 2);
            if (owLo > 0) memory.fill(out, 0, (<usize>owLo) << 2);
            if (sw == 1) {
              memory.copy(out + ((<usize>owLo) << 2), row + ((<usize>owLo) << 2), (<usize>(owHi - owLo)) << 2);
            } else {
              for (let ow = owLo; ow < owHi; ow++) store<f32>(out + ((<usize>ow) << 2), load<f32>(row + ((<usize>(ow * sw)) << 2)));
            }
            if (owHi < OW) memory.fill(out + ((<usize>owHi) << 2), 0, (<usize>(OW - owHi)) << 2);
          }
          out += (<usize>OW) << 2;
        }
      }
    }
  }
}

/**
 * The adjoint of im2col: x[c, ih, iw] += col[(c*KH + kh)*KW + kw, oh*OW + ow] over the taps
 * inside the planes (the padding's entries are dropped). Same arguments as im2col.
 */
export function col2im(
  col: usize,
  cpg: i32,
  H: i32,
  W: i32,
  KH: i32,
  KW: i32,
  sh: i32,
  sw: i32,
  dh: i32,
  dw: i32,
  pt: i32,
  pl: i32,
  OH: i32,
  OW: i32,
  x: usize,
): void {
  let src = col;
  for (let c = 0; c < cpg; c++) {
    const plane = x + ((<usize>(c * H * W)) << 2);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const dx = kw * dw - pl;
        const owLo = firstTapInside(OW, sw, dx);
        const owHi = endTapInside(OW, sw, dx, W, owLo);
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * sh - pt + kh * dh;
          if (ih >= 0 && ih < H) {
            const row = plane + ((<usize>(ih * W + dx)) << 2);
            let ow = owLo;
            if (sw == 1) {
              for (; ow + 4 <= owHi; ow += 4) {
                const at = row + ((<usize>ow) << 2);
                v128.store(at, f32x4.add(v128.load(at), v128.load(src + ((<usize>ow) << 2))));
              }
            }
            for (; ow < owHi; ow++) {
              const at = row + ((<usize>(ow * sw)) << 2);
              store<f32>(at, load<f32>(at) + load<f32>(src + ((<usize>ow) << 2)));
            }
          }
          src += (<usize>OW) << 2;
        }
      }
    }
  }
}

/**
 * acc[r] += sum of row r of the rows x cols floats at src, in float64 (acc holds rows float64
 * values). Example: the bias gradient of a convolution, sumRows(dy_n, F, OH*OW, acc) per sample.
 */
export function sumRows(src: usize, rows: i32, cols: i32, acc: usize): void {
  for (let r = 0; r < rows; r++) {
    let s: f64 = 0;
    const row = src + ((<usize>(r * cols)) << 2);
    for (let j = 0; j < cols; j++) s += <f64>load<f32>(row + ((<usize>j) << 2));
    const at = acc + ((<usize>r) << 3);
    store<f64>(at, load<f64>(at) + s);
  }
}

/** dst[i * stride] = f32(acc[i]) for i < count (float64 sums back to float32). */
export function storeF64(acc: usize, count: i32, dst: usize, stride: i32): void {
  for (let i = 0; i < count; i++) store<f32>(dst + ((<usize>(i * stride)) << 2), <f32>load<f64>(acc + ((<usize>i) << 3)));
}

/** Fills `bytes` bytes at `ptr` with zeros. Example: zero(dx, 4 * size) before col2im. */
export function zero(ptr: usize, bytes: usize): void {
  memory.fill(ptr, 0, bytes);
}
