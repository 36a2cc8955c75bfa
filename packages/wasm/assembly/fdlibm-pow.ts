/**
 * pow in float64 as V8's Math.pow computes it (fdlibm's e_pow.c, with V8's one change), for the
 * reference backend's bits; the word helpers and the licence are in fdlibm.ts.
 */
import { clearLow, hi, lo, withHigh, words } from './fdlibm';

/**
 * x^y with JavaScript's ** semantics, as V8's fdlibm-based pow computes it (a NaN exponent gives
 * NaN, also for x = 1; (+-1)^(+-Infinity) is NaN; V8's one change to e_pow.c's arithmetic is
 * kept, see r below). Example: fdPow(2, 10) == 1024.
 */
export function fdPow(x: f64, y: f64): f64 {
  const DP_H1: f64 = 5.84962487220764160156e-1; // 0x3FE2B803 40000000
  const DP_L1: f64 = 1.35003920212974897128e-8; // 0x3E4CFDEB 43CFD006
  const TWO53: f64 = 9007199254740992.0;
  const HUGE: f64 = 1.0e300;
  const TINY: f64 = 1.0e-300;
  const L1: f64 = 5.99999999999994648725e-1;
  const L2: f64 = 4.28571428578550184252e-1;
  const L3: f64 = 3.33333329818377432918e-1;
  const L4: f64 = 2.72728123808534006489e-1;
  const L5: f64 = 2.30660745775561754067e-1;
  const L6: f64 = 2.06975017800338417784e-1;
  const P1: f64 = 1.66666666666666019037e-1;
  const P2: f64 = -2.77777777770155933842e-3;
  const P3: f64 = 6.61375632143793436117e-5;
  const P4: f64 = -1.65339022054652515390e-6;
  const P5: f64 = 4.13813679705723846039e-8;
  const LG2: f64 = 6.93147180559945286227e-1;
  const LG2_H: f64 = 6.93147182464599609375e-1;
  const LG2_L: f64 = -1.90465429995776804525e-9;
  const OVT: f64 = 8.0085662595372944372e-17; // -(1024 - log2(ovfl + .5ulp))
  const CP: f64 = 9.61796693925975554329e-1; // 2/(3 ln2)
  const CP_H: f64 = 9.61796700954437255859e-1; // (float)CP
  const CP_L: f64 = -7.02846165095275826516e-9; // tail of CP_H
  const IVLN2: f64 = 1.44269504088896338700; // 1/ln2
  const IVLN2_H: f64 = 1.44269502162933349609; // 24 bits of 1/ln2
  const IVLN2_L: f64 = 1.92596299112661746887e-8; // 1/ln2 tail

  const hx = hi(x);
  const lx = lo(x);
  const hy = hi(y);
  const ly = lo(y);
  let ix = hx & 0x7fffffff;
  const iy = hy & 0x7fffffff;

  if ((iy | ly) == 0) return 1.0; // x^0 = 1
  // NaN operands: NaN (JavaScript's 1 ** NaN is NaN too)
  if (ix > 0x7ff00000 || (ix == 0x7ff00000 && lx != 0) || iy > 0x7ff00000 || (iy == 0x7ff00000 && ly != 0)) return x + y;

  // yisint: 0 when y is not an integer, 1 for an odd integer, 2 for an even one (only for x < 0).
  let yisint: i32 = 0;
  if (hx < 0) {
    if (iy >= 0x43400000) {
      yisint = 2;
    } else if (iy >= 0x3ff00000) {
      const k = (iy >> 20) - 0x3ff;
      if (k > 20) {
        const j = ly >> <u32>(52 - k);
        if (j << <u32>(52 - k) == ly) yisint = 2 - <i32>(j & 1);
      } else if (ly == 0) {
        const j = iy >> (20 - k);
        if (j << (20 - k) == iy) yisint = 2 - (j & 1);
      }
    }
  }

  if (ly == 0) {
    if (iy == 0x7ff00000) {
      // y is +-inf
      if (((ix - 0x3ff00000) | lx) == 0) return y - y; // (+-1)^+-inf is NaN
      if (ix >= 0x3ff00000) return hy >= 0 ? y : 0.0; // (|x| > 1)^+-inf = inf, 0
      return hy < 0 ? -y : 0.0; // (|x| < 1)^-,+inf = inf, 0
    }
    if (iy == 0x3ff00000) return hy < 0 ? 1.0 / x : x; // y is +-1
    if (hy == 0x40000000) return x * x; // y is 2
    if (hy == 0x3fe00000 && hx >= 0) return Math.sqrt(x); // y is 0.5, x >= +0
  }

  let ax = Math.abs(x);
  if (lx == 0 && (ix == 0x7ff00000 || ix == 0 || ix == 0x3ff00000)) {
    // x is +-0, +-inf, +-1
    let z = ax;
    if (hy < 0) z = 1.0 / z;
    if (hx < 0) {
      if (((ix - 0x3ff00000) | yisint) == 0) z = (z - z) / (z - z); // (-1)^non-int is NaN
      else if (yisint == 1) z = -z; // (x < 0)^odd = -(|x|^odd)
    }
    return z;
  }

  let n = <i32>(<u32>hx >> 31) - 1;
  if ((n | yisint) == 0) return NaN; // (x < 0)^(non-int)
  const s: f64 = (n | (yisint - 1)) == 0 ? -1.0 : 1.0; // the sign of (-x)^odd

  let t1: f64;
  let t2: f64;
  if (iy > 0x41e00000) {
    // |y| > 2^31
    if (iy > 0x43f00000) {
      // |y| > 2^64: over- or underflows
      if (ix <= 0x3fefffff) return hy < 0 ? HUGE * HUGE : TINY * TINY;
      if (ix >= 0x3ff00000) return hy > 0 ? HUGE * HUGE : TINY * TINY;
    }
    // over- or underflow when x is not close to one
    if (ix < 0x3fefffff) return hy < 0 ? s * HUGE * HUGE : s * TINY * TINY;
    if (ix > 0x3ff00000) return hy > 0 ? s * HUGE * HUGE : s * TINY * TINY;
    // |1 - x| <= 2^-20: log(x) by x - x^2/2 + x^3/3 - x^4/4
    const t = ax - 1.0;
    const w = t * t * (0.5 - t * (0.3333333333333333333333 - t * 0.25));
    const u = IVLN2_H * t;
    const v = t * IVLN2_L - w * IVLN2;
    t1 = clearLow(u + v);
    t2 = v - (t1 - u);
  } else {
    n = 0;
    if (ix < 0x00100000) {
      // subnormal x
      ax *= TWO53;
      n -= 53;
      ix = hi(ax);
    }
    n += (ix >> 20) - 0x3ff;
    const j = ix & 0x000fffff;
    ix = j | 0x3ff00000; // normalize ix
    let k: i32;
    if (j <= 0x3988e) {
      k = 0; // |x| < sqrt(3/2)
    } else if (j < 0xbb67a) {
      k = 1; // |x| < sqrt(3)
    } else {
      k = 0;
      n += 1;
      ix -= 0x00100000;
    }
    ax = withHigh(ax, ix);
    const bp: f64 = k ? 1.5 : 1.0;
    const dpH: f64 = k ? DP_H1 : 0.0;
    const dpL: f64 = k ? DP_L1 : 0.0;
    // ss = s_h + s_l = (x - 1)/(x + 1) or (x - 1.5)/(x + 1.5)
    let u = ax - bp;
    let v = 1.0 / (ax + bp);
    const ss = u * v;
    const sH = clearLow(ss);
    // t_h = ax + bp, high part
    let tH = words(((ix >> 1) | 0x20000000) + 0x00080000 + (k << 18), 0);
    let tL = ax - (tH - bp);
    const sL = v * ((u - sH * tH) - sH * tL);
    // log(ax)
    let s2 = ss * ss;
    let r = s2 * s2 * (L1 + s2 * (L2 + s2 * (L3 + s2 * (L4 + s2 * (L5 + s2 * L6)))));
    r += sL * (sH + ss);
    s2 = sH * sH;
    tH = clearLow(3.0 + s2 + r);
    tL = r - ((tH - 3.0) - s2);
    // u + v = ss * (1 + ...)
    u = sH * tH;
    v = sL * tH + tL * ss;
    // 2/(3 log2) * (ss + ...)
    const pH = clearLow(u + v);
    const pL = v - (pH - u);
    const zH = CP_H * pH;
    const zL = CP_L * pH + pL * CP + dpL;
    // log2(ax) = (ss + ...) * 2/(3 log2) = n + dp_h + z_h + z_l
    const t = <f64>n;
    t1 = clearLow(((zH + zL) + dpH) + t);
    t2 = zL - (((t1 - t) - dpH) - zH);
  }

  // (y1 + y2) * (t1 + t2), y split into y1 + y2
  const y1 = clearLow(y);
  const pL = (y - y1) * t1 + y * t2;
  let pH = y1 * t1;
  let z = pL + pH;
  let j = hi(z);
  let i = <i32>lo(z);
  if (j >= 0x40900000) {
    // z >= 1024
    if (((j - 0x40900000) | i) != 0) return s * HUGE * HUGE; // overflow
    if (pL + OVT > z - pH) return s * HUGE * HUGE; // overflow
  } else if ((j & 0x7fffffff) >= 0x4090cc00) {
    // z <= -1075
    if (((j - <i32>0xc090cc00) | i) != 0) return s * TINY * TINY; // underflow
    if (pL <= z - pH) return s * TINY * TINY; // underflow
  }
  // 2^(p_h + p_l)
  i = j & 0x7fffffff;
  let k = (i >> 20) - 0x3ff;
  n = 0;
  if (i > 0x3fe00000) {
    // |z| > 0.5: n = [z + 0.5]
    n = j + (0x00100000 >> (k + 1));
    k = ((n & 0x7fffffff) >> 20) - 0x3ff; // the new k for n
    const t = words(n & ~(0x000fffff >> k), 0);
    n = ((n & 0x000fffff) | 0x00100000) >> (20 - k);
    if (j < 0) n = -n;
    pH -= t;
  }
  const t = clearLow(pL + pH);
  const u = t * LG2_H;
  const v = (pL - (t - pH)) * LG2 + t * LG2_L;
  z = u + v;
  const w = v - (z - u);
  const tt = z * z;
  t1 = z - tt * (P1 + tt * (P2 + tt * (P3 + tt * (P4 + tt * P5))));
  // V8 divides by the whole difference here (fdlibm: (z * t1) / (t1 - 2) - (w + z * w)).
  const r = (z * t1) / ((t1 - 2.0) - (w + z * w));
  z = 1.0 - (r - z);
  j = hi(z);
  j += n << 20;
  if (j >> 20 <= 0) z = NativeMath.scalbn(z, n); // subnormal result
  else z = withHigh(z, j);
  return s * z;
}
