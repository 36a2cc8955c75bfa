/**
 * Single-precision GEMM on raw pointers into the imported memory, with 128-bit SIMD:
 *
 *   C[i, j] (+)= sum_k A(i, k) * B(k, j)     for rows i in [rowStart, rowEnd)
 *
 * A(i, k) lives at a + 4 * (i * rsA + k * csA) and B(k, j) at b + 4 * (k * rsB + j * csB), so
 * one routine serves every transA/transB combination and the im2col products of the
 * convolutions. The work is blocked the GotoBLAS way: K in blocks of KC; for each block B is
 * packed into 8-column panels (k-major, zero padded) and each 4-row strip of A into a 4-row
 * panel, so the 4x8 micro-kernel reads both operands contiguously. 4x8 keeps 8 f32x4
 * accumulators + 2 B vectors + 1 broadcast A value in registers: 11 of the 16 XMM registers
 * V8 allocates, so nothing spills.
 *
 * The dot products are summed in float32 (there is no FMA in WebAssembly SIMD).
 */

/** K block length: a 4 x KC panel of A (4 KiB) stays in L1 while the B panels stream. */
const KC: i32 = 256;

/**
 * Packs B(k0 .. k0+kc, 0 .. n) into panels of 8 columns: panel p holds, for each k, the 8
 * values B(k, 8p .. 8p+8), zeros past column n.
 */
function packB(b: usize, rsB: i32, csB: i32, k0: i32, kc: i32, n: i32, dst: usize): void {
  const panels = (n + 7) >> 3;
  for (let p = 0; p < panels; p++) {
    const j0 = p << 3;
    const w = min(8, n - j0);
    let out = dst + (<usize>(p * kc) << 5);
    if (csB == 1 && w == 8) {
      // Row-major B: the 8 values are adjacent, two unaligned vector loads.
      let src = b + (<usize>(k0 * rsB + j0) << 2);
      const step = <usize>rsB << 2;
      for (let k = 0; k < kc; k++) {
        v128.store(out, v128.load(src));
        v128.store(out, v128.load(src, 16), 16);
        src += step;
        out += 32;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const row = b + (<usize>((k0 + k) * rsB + j0 * csB) << 2);
        for (let j = 0; j < 8; j++) {
          store<f32>(out + (<usize>j << 2), j < w ? load<f32>(row + (<usize>(j * csB) << 2)) : 0);
        }
        out += 32;
      }
    }
  }
}

/** Packs rows i0 .. i0+h (h <= 4) of A(., k0 .. k0+kc) k-major, 4 values per k, zero padded. */
function packA(a: usize, rsA: i32, csA: i32, i0: i32, h: i32, k0: i32, kc: i32, dst: usize): void {
  let out = dst;
  for (let k = 0; k < kc; k++) {
    const col = a + (<usize>(i0 * rsA + (k0 + k) * csA) << 2);
    for (let i = 0; i < 4; i++) {
      store<f32>(out + (<usize>i << 2), i < h ? load<f32>(col + (<usize>(i * rsA) << 2)) : 0);
    }
    out += 16;
  }
}

/**
 * The 4x8 micro-kernel: c[4 x 8] (+)= pa[kc x 4]^T pb[kc x 8], c with a row pitch of ldc
 * bytes. With accumulate the old values of c are added (later K blocks, or beta = 1).
 */
// @ts-expect-error: decorator
@inline
function kernel4x8(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, accumulate: bool): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    pa += 16;
    pb += 32;
  }
  if (accumulate) {
    c00 = f32x4.add(c00, v128.load(c));
    c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + ldc));
    c11 = f32x4.add(c11, v128.load(c + ldc, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * ldc));
    c21 = f32x4.add(c21, v128.load(c + 2 * ldc, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * ldc));
    c31 = f32x4.add(c31, v128.load(c + 3 * ldc, 16));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + ldc, c10);
  v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20);
  v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30);
  v128.store(c + 3 * ldc, c31, 16);
}

/**
 * Bytes of scratch `gemm` needs for an output n columns wide (and k deep): the packed B block,
 * one A panel and a 4x8 edge tile.
 */
export function gemmScratchBytes(n: i32, k: i32): i32 {
  const kc = min(k, KC);
  return (((n + 7) >> 3) << 5) * kc + 16 * kc + 128;
}

/**
 * C = A B (accumulate = 0) or C += A B (accumulate = 1) for rows [rowStart, rowEnd) of C, whose
 * rows are ldc elements apart; n columns, depth k. Strides are in elements, pointers in bytes;
 * `scratch` holds gemmScratchBytes(n, k) bytes. Example (row-major A [M, K], B [K, N]):
 * gemm(a, K, 1, b, N, 1, c, N, N, K, 0, M, 0, scratch).
 */
export function gemm(
  a: usize,
  rsA: i32,
  csA: i32,
  b: usize,
  rsB: i32,
  csB: i32,
  c: usize,
  ldc: i32,
  n: i32,
  k: i32,
  rowStart: i32,
  rowEnd: i32,
  accumulate: i32,
  scratch: usize,
): void {
  const packedB = scratch;
  const kcMax = min(k, KC);
  const packedA = packedB + (<usize>(((n + 7) >> 3) << 5) * kcMax);
  const edge = packedA + (<usize>kcMax << 4);
  const ldcBytes = <usize>ldc << 2;
  const fullCols = n & ~7;
  if (k <= 0) {
    // An empty sum: C = 0 (or unchanged when accumulating).
    if (!accumulate) for (let i = rowStart; i < rowEnd; i++) memory.fill(c + <usize>i * ldcBytes, 0, <usize>n << 2);
    return;
  }
  for (let k0 = 0; k0 < k; k0 += KC) {
    const kc = min(KC, k - k0);
    const acc = accumulate != 0 || k0 > 0;
    packB(b, rsB, csB, k0, kc, n, packedB);
    for (let i0 = rowStart; i0 < rowEnd; i0 += 4) {
      const h = min(4, rowEnd - i0);
      packA(a, rsA, csA, i0, h, k0, kc, packedA);
      const crow = c + <usize>i0 * ldcBytes;
      const panelBytes = <usize>kc << 5;
      if (h == 4) {
        for (let j0 = 0; j0 < fullCols; j0 += 8) {
          kernel4x8(packedA, packedB + <usize>(j0 >> 3) * panelBytes, kc, crow + (<usize>j0 << 2), ldcBytes, acc);
        }
      }
      // Edge tiles (the last rows or columns): run into the 4x8 tile, copy the valid part.
      const edgeFrom = h == 4 ? fullCols : 0;
      for (let j0 = edgeFrom; j0 < n; j0 += 8) {
        const w = min(8, n - j0);
        kernel4x8(packedA, packedB + <usize>(j0 >> 3) * panelBytes, kc, edge, 32, false);
        for (let i = 0; i < h; i++) {
          const dst = crow + <usize>i * ldcBytes + (<usize>j0 << 2);
          for (let j = 0; j < w; j++) {
            const v = load<f32>(edge + (<usize>(i * 8 + j) << 2));
            const at = dst + (<usize>j << 2);
            store<f32>(at, acc ? load<f32>(at) + v : v);
          }
        }
      }
    }
  }
}

/**
 * The epilogue of a product or convolution, on rows [rowStart, rowEnd) of C (n columns, rows
 * ldc elements apart): biasMode 1 adds bias[j] to column j, 2 adds bias[i] to row i, 0 none;
 * relu != 0 then applies WGSL's max(v, 0), which maps NaN to 0 (pmax(0, v) does the same).
 * Example: epilogue(c, N, N, 0, M, bias, 1, 1) for a Dense layer with ReLU.
 */
export function epilogue(c: usize, ldc: i32, n: i32, rowStart: i32, rowEnd: i32, bias: usize, biasMode: i32, relu: i32): void {
  if (biasMode == 0 && relu == 0) return;
  const zero = f32x4.splat(0);
  for (let i = rowStart; i < rowEnd; i++) {
    const row = c + (<usize>(i * ldc) << 2);
    const rowBias: f32 = biasMode == 2 ? load<f32>(bias + (<usize>i << 2)) : 0;
    const rowBiasV = f32x4.splat(rowBias);
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const at = row + (<usize>j << 2);
      let v = v128.load(at);
      if (biasMode == 1) v = f32x4.add(v, v128.load(bias + (<usize>j << 2)));
      else if (biasMode == 2) v = f32x4.add(v, rowBiasV);
      if (relu) v = f32x4.pmax(zero, v);
      v128.store(at, v);
    }
    for (; j < n; j++) {
      const at = row + (<usize>j << 2);
      let v = load<f32>(at);
      if (biasMode == 1) v += load<f32>(bias + (<usize>j << 2));
      else if (biasMode == 2) v += rowBias;
      if (relu) v = v > 0 ? v : 0;
      store<f32>(at, v);
    }
  }
}
