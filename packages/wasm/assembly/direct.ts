/**
 * Direct (register-blocked) convolution for stride 1 and dilation 1, the LeNet-5 case, which
 * beats im2col + GEMM because it never writes the KH*KW times larger col matrix: each step of
 * the micro-kernel loads 8 adjacent input values of one row once and multiplies them by one
 * filter tap of 4 output channels, so 8 f32x4 accumulators (4 channels x 8 columns) stay in
 * registers like the GEMM's 4x8 tile.
 *
 * The input is first copied into zero-padded planes (padPlanes), so the kernel needs no
 * bounds checks, and the filters are repacked so the 4 channels' values of one tap are
 * adjacent (packFilters). (The input gradient, as this kernel over dy padded by KH-1-pt with
 * flipped filters, measured slower than GEMM + col2im for LeNet: it multiplies the padding's
 * zeros, twice the useful work for conv2; so it stays on the GEMM.)
 */

/** Zero floats kept after the padded planes: the last 8-column block reads up to 7 past a row. */
const SLACK: i32 = 8;

/** Floats padPlanes writes for C planes of Hp x Wp. Example: paddedFloats(1, 32, 32). */
export function paddedFloats(C: i32, Hp: i32, Wp: i32): i32 {
  return C * Hp * Wp + SLACK;
}

/**
 * dst[c, h + pt, w + pl] = x[c, h, w] for C planes of H x W, in planes of Hp x Wp that are zero
 * elsewhere (and SLACK zeros after). Example (LeNet conv1): padPlanes(x, 1, 28, 28, 2, 2, 32, 32, dst).
 */
export function padPlanes(x: usize, C: i32, H: i32, W: i32, pt: i32, pl: i32, Hp: i32, Wp: i32, dst: usize): void {
  memory.fill(dst, 0, (<usize>paddedFloats(C, Hp, Wp)) << 2);
  const rowBytes = (<usize>W) << 2;
  for (let c = 0; c < C; c++) {
    for (let h = 0; h < H; h++) {
      const to = dst + ((<usize>((c * Hp + h + pt) * Wp + pl)) << 2);
      memory.copy(to, x + ((<usize>((c * H + h) * W)) << 2), rowBytes);
    }
  }
}

/**
 * Packs filters w [O, I, KH, KW] for convDirect in blocks of 4 output channels:
 * dst[ob, i, kh, kw, j] = w[4*ob + j, i, kh, kw] (zero past O), so the block's values of one tap
 * are one vector. (An 8-channel x 4-column tile, with 8 weight splats per tap, measured half
 * as fast on LeNet conv2 as this 4 x 8 one, though it wastes fewer columns.)
 * Example: packFilters(w, 16, 6, 5, 5, dst).
 */
export function packFilters(w: usize, O: i32, I: i32, KH: i32, KW: i32, dst: usize): void {
  const block = 4;
  const taps = I * KH * KW;
  let out = dst;
  for (let o0 = 0; o0 < O; o0 += block) {
    for (let t = 0; t < taps; t++) {
      for (let j = 0; j < block; j++) {
        const o = o0 + j;
        store<f32>(out, o < O ? load<f32>(w + ((<usize>(o * taps + t)) << 2)) : 0);
        out += 4;
      }
    }
  }
}

/** Bytes packFilters writes. Example: packedFilterBytes(6, 1, 5, 5) = 2 * 25 * 16. */
export function packedFilterBytes(O: i32, I: i32, KH: i32, KW: i32): i32 {
  return ((O + 3) >> 2) * I * KH * KW * 16;
}

/** offs[t] = the byte offset of tap t = (i, kh, kw) in padded planes of Hp x Wp. */
function tapOffsets(I: i32, KH: i32, KW: i32, Hp: i32, Wp: i32, offs: usize): void {
  let tap = 0;
  for (let i = 0; i < I; i++) {
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        store<i32>(offs + ((<usize>tap) << 2), ((i * Hp + kh) * Wp + kw) << 2);
        tap++;
      }
    }
  }
}

/** Stores the first `count` (1..8) of the 8 values lo, hi at p (an output row's last block). */
// @ts-expect-error: decorator
@inline
function storeCols(p: usize, lo: v128, hi: v128, count: i32): void {
  if (count >= 8) {
    v128.store(p, lo);
    v128.store(p, hi, 16);
    return;
  }
  let v = lo;
  let at = p;
  if (count >= 4) {
    v128.store(p, lo);
    v = hi;
    at = p + 16;
    count -= 4;
  }
  if (count > 0) v128.store32_lane(at, v, 0);
  if (count > 1) v128.store32_lane(at, v, 1, 4);
  if (count > 2) v128.store32_lane(at, v, 2, 8);
}

/** The epilogue of one output channel's 8 columns: + bias, then relu (WGSL max(v, 0): pmax). */
// @ts-expect-error: decorator
@inline
function finish(v: v128, b: v128, relu: i32): v128 {
  const r = f32x4.add(v, b);
  return relu ? f32x4.pmax(f32x4.splat(0), r) : r;
}

/**
 * y[o, oh, ow] = act(sum_{i, kh, kw} xp[i, oh + kh, ow + kw] * w(o, i, kh, kw) + bias[o]) for
 * the O output planes of OH x OW of one sample, from the padded planes xp (I planes of Hp x Wp
 * with Hp = OH + KH - 1, Wp = OW + KW - 1, as padPlanes writes) and the packed filters wp.
 * bias = 0 for none; offs is scratch for I*KH*KW int32 tap offsets.
 * Example (conv2, one sample): convDirect(xp, 6, 14, 14, wp, 16, 5, 5, y, 10, 10, b, 1, offs).
 */
export function convDirect(
  xp: usize,
  I: i32,
  Hp: i32,
  Wp: i32,
  wp: usize,
  O: i32,
  KH: i32,
  KW: i32,
  y: usize,
  OH: i32,
  OW: i32,
  bias: usize,
  relu: i32,
  offs: usize,
): void {
  const taps = I * KH * KW;
  tapOffsets(I, KH, KW, Hp, Wp, offs);
  const outPlane = (<usize>(OH * OW)) << 2;
  for (let o0 = 0; o0 < O; o0 += 4) {
    // Block o0 / 4 of the packed filters: taps * 4 floats.
    const wBlock = wp + ((<usize>(o0 * taps)) << 2);
    const oc = min(4, O - o0);
    const b0 = f32x4.splat(bias ? load<f32>(bias + ((<usize>o0) << 2)) : 0);
    const b1 = f32x4.splat(bias && oc > 1 ? load<f32>(bias + ((<usize>(o0 + 1)) << 2)) : 0);
    const b2 = f32x4.splat(bias && oc > 2 ? load<f32>(bias + ((<usize>(o0 + 2)) << 2)) : 0);
    const b3 = f32x4.splat(bias && oc > 3 ? load<f32>(bias + ((<usize>(o0 + 3)) << 2)) : 0);
    const yBlock = y + (<usize>o0) * outPlane;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow0 = 0; ow0 < OW; ow0 += 8) {
        let c00 = f32x4.splat(0);
        let c01 = f32x4.splat(0);
        let c10 = f32x4.splat(0);
        let c11 = f32x4.splat(0);
        let c20 = f32x4.splat(0);
        let c21 = f32x4.splat(0);
        let c30 = f32x4.splat(0);
        let c31 = f32x4.splat(0);
        let pw = wBlock;
        const corner = xp + ((<usize>(oh * Wp + ow0)) << 2);
        // One loop over all taps (not i, kh, kw nested): KW = 5 iterations were too short to
        // hide the loop overhead; the tap's input offset comes from the table instead.
        for (let t: usize = 0; t < (<usize>taps) << 2; t += 4) {
          const px = corner + <usize>load<i32>(offs + t);
          const x0 = v128.load(px);
          const x1 = v128.load(px, 16);
          let a = v128.load32_splat(pw);
          c00 = f32x4.add(c00, f32x4.mul(a, x0));
          c01 = f32x4.add(c01, f32x4.mul(a, x1));
          a = v128.load32_splat(pw, 4);
          c10 = f32x4.add(c10, f32x4.mul(a, x0));
          c11 = f32x4.add(c11, f32x4.mul(a, x1));
          a = v128.load32_splat(pw, 8);
          c20 = f32x4.add(c20, f32x4.mul(a, x0));
          c21 = f32x4.add(c21, f32x4.mul(a, x1));
          a = v128.load32_splat(pw, 12);
          c30 = f32x4.add(c30, f32x4.mul(a, x0));
          c31 = f32x4.add(c31, f32x4.mul(a, x1));
          pw += 16;
        }
        const count = min(8, OW - ow0);
        const at = yBlock + ((<usize>(oh * OW + ow0)) << 2);
        storeCols(at, finish(c00, b0, relu), finish(c01, b0, relu), count);
        if (oc > 1) storeCols(at + outPlane, finish(c10, b1, relu), finish(c11, b1, relu), count);
        if (oc > 2) storeCols(at + 2 * outPlane, finish(c20, b2, relu), finish(c21, b2, relu), count);
        if (oc > 3) storeCols(at + 3 * outPlane, finish(c30, b3, relu), finish(c31, b3, relu), count);
      }
    }
  }
}

