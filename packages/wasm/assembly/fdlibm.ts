/**
 * exp, log, log1p, cos and pow in float64 as the reference backend gets them from JavaScript's
 * Math: V8 computes these with its port of fdlibm (src/base/ieee754.cc; pow is fdlibm's
 * e_pow.c), so this file follows the same algorithms operation for operation, and every
 * result equals V8's bit for bit (WebAssembly has no fused multiply-add and no extended
 * precision, so each float64 operation rounds as in the C code). AssemblyScript's own
 * Math.exp/log/pow use other (table-driven) algorithms, which differ in the last bit now and
 * then.
 *
 * The algorithms and constants are fdlibm's:
 *
 * ====================================================
 * Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
 *
 * Developed at SunSoft, a Sun Microsystems, Inc. business.
 * Permission to use, copy, modify, and distribute this
 * software is freely granted, provided that this notice
 * is preserved.
 * ====================================================
 */

/** The high 32 bits of x, signed. */
// @ts-expect-error: decorator
@inline
function hi(x: f64): i32 {
  return <i32>(reinterpret<u64>(x) >> 32);
}

/** The low 32 bits of x. */
// @ts-expect-error: decorator
@inline
function lo(x: f64): u32 {
  return <u32>reinterpret<u64>(x);
}

/** The float64 with high word h and low word l. */
// @ts-expect-error: decorator
@inline
function words(h: i32, l: u32): f64 {
  return reinterpret<f64>(((<u64>(<u32>h)) << 32) | <u64>l);
}

/** x with its low word cleared. */
// @ts-expect-error: decorator
@inline
function clearLow(x: f64): f64 {
  return reinterpret<f64>(reinterpret<u64>(x) & 0xffffffff00000000);
}

/** x with its high word replaced by h. */
// @ts-expect-error: decorator
@inline
function withHigh(x: f64, h: i32): f64 {
  return reinterpret<f64>(((<u64>(<u32>h)) << 32) | (reinterpret<u64>(x) & 0xffffffff));
}

const LN2_HI: f64 = 6.93147180369123816490e-1; // 0x3FE62E42 FEE00000
const LN2_LO: f64 = 1.90821492927058770002e-10; // 0x3DEA39EF 35793C76

/**
 * e^x (fdlibm e_exp.c as V8 has it, with its exact answer for x = 1).
 * Example: fdExp(1) == 2.718281828459045.
 */
export function fdExp(x: f64): f64 {
  const P1: f64 = 1.66666666666666019037e-1;
  const P2: f64 = -2.77777777770155933842e-3;
  const P3: f64 = 6.61375632143793436117e-5;
  const P4: f64 = -1.65339022054652515390e-6;
  const P5: f64 = 4.13813679705723846039e-8;
  let hx = <u32>hi(x);
  const xsb = <i32>(hx >> 31);
  hx &= 0x7fffffff;
  let hiPart: f64 = 0;
  let loPart: f64 = 0;
  let k: i32 = 0;
  if (hx >= 0x40862e42) {
    // |x| >= 709.78...
    if (hx >= 0x7ff00000) {
      if (((hx & 0xfffff) | lo(x)) != 0) return x + x; // NaN
      return xsb == 0 ? x : 0.0;
    }
    if (x > 7.09782712893383973096e2) return Infinity;
    if (x < -7.45133219101941108420e2) return 0.0;
  }
  if (hx > 0x3fd62e42) {
    // |x| > 0.5 ln2
    if (hx < 0x3ff0a2b2) {
      // and |x| < 1.5 ln2
      if (x == 1.0) return 2.718281828459045;
      hiPart = xsb ? x + LN2_HI : x - LN2_HI;
      loPart = xsb ? -LN2_LO : LN2_LO;
      k = 1 - xsb - xsb;
    } else {
      k = <i32>(1.44269504088896338700 * x + (xsb ? -0.5 : 0.5));
      const t = <f64>k;
      hiPart = x - t * LN2_HI;
      loPart = t * LN2_LO;
    }
    x = hiPart - loPart;
  } else if (hx < 0x3e300000) {
    // |x| < 2^-28
    return 1.0 + x;
  } else {
    k = 0;
  }
  const t = x * x;
  const twopk = k >= -1021 ? words(0x3ff00000 + (k << 20), 0) : words(0x3ff00000 + ((k + 1000) << 20), 0);
  const c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k == 0) return 1.0 - ((x * c) / (c - 2.0) - x);
  const y = 1.0 - ((loPart - (x * c) / (2.0 - c)) - hiPart);
  if (k >= -1021) {
    if (k == 1024) return y * 2.0 * reinterpret<f64>(0x7fe0000000000000);
    return y * twopk;
  }
  return y * twopk * reinterpret<f64>(0x0170000000000000); // 2^-1000
}

const LG1: f64 = 6.666666666666735130e-1;
const LG2: f64 = 3.999999999940941908e-1;
const LG3: f64 = 2.857142874366239149e-1;
const LG4: f64 = 2.222219843214978396e-1;
const LG5: f64 = 1.818357216161805012e-1;
const LG6: f64 = 1.531383769920937332e-1;
const LG7: f64 = 1.479819860511658591e-1;

/** The natural logarithm (fdlibm e_log.c as V8 has it). Example: fdLog(1) == 0. */
export function fdLog(x: f64): f64 {
  let hx = hi(x);
  const lx = lo(x);
  let k: i32 = 0;
  if (hx < 0x00100000) {
    // x < 2^-1022
    if (((hx & 0x7fffffff) | lx) == 0) return -Infinity;
    if (hx < 0) return NaN;
    k -= 54;
    x *= 1.80143985094819840000e16; // 2^54: scale a subnormal up
    hx = hi(x);
  }
  if (hx >= 0x7ff00000) return x + x;
  k += (hx >> 20) - 1023;
  hx &= 0x000fffff;
  let i = (hx + 0x95f64) & 0x100000;
  x = withHigh(x, hx | (i ^ 0x3ff00000)); // normalize x or x/2
  k += i >> 20;
  const f = x - 1.0;
  if ((0x000fffff & (2 + hx)) < 3) {
    // -2^-20 <= f < 2^-20
    if (f == 0) {
      if (k == 0) return 0;
      const dk = <f64>k;
      return dk * LN2_HI + dk * LN2_LO;
    }
    const R = f * f * (0.5 - 0.33333333333333333 * f);
    if (k == 0) return f - R;
    const dk = <f64>k;
    return dk * LN2_HI - ((R - dk * LN2_LO) - f);
  }
  const s = f / (2.0 + f);
  const dk = <f64>k;
  const z = s * s;
  i = hx - 0x6147a;
  const w = z * z;
  const j = 0x6b851 - hx;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  i |= j;
  const R = t2 + t1;
  if (i > 0) {
    const hfsq = 0.5 * f * f;
    if (k == 0) return f - (hfsq - s * (hfsq + R));
    return dk * LN2_HI - ((hfsq - (s * (hfsq + R) + dk * LN2_LO)) - f);
  }
  if (k == 0) return f - s * (f - R);
  return dk * LN2_HI - ((s * (f - R) - dk * LN2_LO) - f);
}

/** log(1 + x) (fdlibm s_log1p.c as V8 has it). Example: fdLog1p(0) == 0. */
export function fdLog1p(x: f64): f64 {
  const hx = hi(x);
  const ax = hx & 0x7fffffff;
  let k: i32 = 1;
  let f: f64 = 0;
  let c: f64 = 0;
  let hu: i32 = 0;
  if (hx < 0x3fda827a) {
    // 1 + x < sqrt(2)+
    if (ax >= 0x3ff00000) {
      // x <= -1.0
      if (x == -1.0) return -Infinity;
      return NaN;
    }
    if (ax < 0x3e200000) {
      // |x| < 2^-29
      if (ax < 0x3c900000) return x; // |x| < 2^-54
      return x - x * x * 0.5;
    }
    if (hx > 0 || hx <= <i32>0xbfd2bec4) {
      // sqrt(2)/2- <= 1 + x < sqrt(2)+
      k = 0;
      f = x;
      hu = 1;
    }
  }
  if (hx >= 0x7ff00000) return x + x;
  if (k != 0) {
    let u: f64;
    if (hx < 0x43400000) {
      u = 1.0 + x;
      hu = hi(u);
      k = (hu >> 20) - 1023;
      c = k > 0 ? 1.0 - (u - x) : x - (u - 1.0); // correction term
      c /= u;
    } else {
      u = x;
      hu = hi(u);
      k = (hu >> 20) - 1023;
      c = 0;
    }
    hu &= 0x000fffff;
    if (hu < 0x6a09e) {
      u = withHigh(u, hu | 0x3ff00000); // normalize u
    } else {
      k += 1;
      u = withHigh(u, hu | 0x3fe00000); // normalize u/2
      hu = (0x00100000 - hu) >> 2;
    }
    f = u - 1.0;
  }
  const hfsq = 0.5 * f * f;
  const dk = <f64>k;
  if (hu == 0) {
    // |f| < 2^-20
    if (f == 0) {
      if (k == 0) return 0;
      c += dk * LN2_LO;
      return dk * LN2_HI + c;
    }
    const R = hfsq * (1.0 - 0.66666666666666666 * f);
    if (k == 0) return f - R;
    return dk * LN2_HI - ((R - (dk * LN2_LO + c)) - f);
  }
  const s = f / (2.0 + f);
  const z = s * s;
  const R = z * (LG1 + z * (LG2 + z * (LG3 + z * (LG4 + z * (LG5 + z * (LG6 + z * LG7))))));
  if (k == 0) return f - (hfsq - s * (hfsq + R));
  return dk * LN2_HI - ((hfsq - (s * (hfsq + R) + (dk * LN2_LO + c))) - f);
}

/** fdlibm's __kernel_cos on [-pi/4, pi/4], y the tail of x. */
function kernelCos(x: f64, y: f64): f64 {
  const C1: f64 = 4.16666666666666019037e-2;
  const C2: f64 = -1.38888888888741095749e-3;
  const C3: f64 = 2.48015872894767294178e-5;
  const C4: f64 = -2.75573143513906633035e-7;
  const C5: f64 = 2.08757232129817482790e-9;
  const C6: f64 = -1.13596475577881948265e-11;
  const ix = hi(x) & 0x7fffffff;
  if (ix < 0x3e400000) return 1.0; // |x| < 2^-27
  const z = x * x;
  const r = z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
  if (ix < 0x3fd33333) return 1.0 - (0.5 * z - (z * r - x * y)); // |x| < 0.3
  const qx = ix > 0x3fe90000 ? 0.28125 : words(ix - 0x00200000, 0); // x/4
  const hz = 0.5 * z - qx;
  const a = 1.0 - qx;
  return a - (hz - (z * r - x * y));
}

/** fdlibm's __kernel_sin on [-pi/4, pi/4] with a tail y (iy = 1). */
function kernelSin(x: f64, y: f64): f64 {
  const S1: f64 = -1.66666666666666324348e-1;
  const S2: f64 = 8.33333333332248946124e-3;
  const S3: f64 = -1.98412698298579493134e-4;
  const S4: f64 = 2.75573137070700676789e-6;
  const S5: f64 = -2.50507602534068634195e-8;
  const S6: f64 = 1.58969099521155010221e-10;
  const ix = hi(x) & 0x7fffffff;
  if (ix < 0x3e400000) return x; // |x| < 2^-27
  const z = x * x;
  const v = z * x;
  const r = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
  return x - ((z * (0.5 * y - v * r) - y) - v * S1);
}

/** High words of n * pi/2 for n = 1..32 (fdlibm's npio2_hw). */
const NPIO2_HW: StaticArray<i32> = [
  0x3ff921fb, 0x400921fb, 0x4012d97c, 0x401921fb, 0x401f6a7a, 0x4022d97c, 0x4025fdbb, 0x402921fb, 0x402c463a, 0x402f6a7a, 0x4031475c,
  0x4032d97c, 0x40346b9c, 0x4035fdbb, 0x40378fdb, 0x403921fb, 0x403ab41b, 0x403c463a, 0x403dd85a, 0x403f6a7a, 0x40407e4c, 0x4041475c,
  0x4042106c, 0x4042d97c, 0x4043a28c, 0x40446b9c, 0x404534ac, 0x4045fdbb, 0x4046c6cb, 0x40478fdb, 0x404858eb, 0x404921fb,
];

/**
 * cos(x) (fdlibm s_cos.c with __ieee754_rem_pio2's reductions for |x| <= 2^19 * pi/2, as V8
 * has them; beyond, where the reduction needs the 2/pi table, AssemblyScript's Math.cos).
 * Example: fdCos(0) == 1.
 */
export function fdCos(x: f64): f64 {
  const PIO2_1: f64 = 1.57079632673412561417; // first 33 bits of pi/2
  const PIO2_1T: f64 = 6.07710050650619224932e-11; // pi/2 - PIO2_1
  const PIO2_2: f64 = 6.07710050630396597660e-11; // second 33 bits of pi/2
  const PIO2_2T: f64 = 2.02226624879595063154e-21; // pi/2 - (PIO2_1 + PIO2_2)
  const PIO2_3: f64 = 2.02226624871116645580e-21; // third 33 bits of pi/2
  const PIO2_3T: f64 = 8.47842766036889956997e-32; // pi/2 - (PIO2_1 + PIO2_2 + PIO2_3)
  const hx = hi(x);
  const ix = hx & 0x7fffffff;
  if (ix <= 0x3fe921fb) return kernelCos(x, 0); // |x| ~<= pi/4
  if (ix >= 0x7ff00000) return x - x; // cos(Inf or NaN) is NaN
  let y0: f64;
  let y1: f64;
  let n: i32;
  if (ix < 0x4002d97c) {
    // |x| < 3pi/4: n = +-1
    if (hx > 0) {
      let z = x - PIO2_1;
      if (ix != 0x3ff921fb) {
        y0 = z - PIO2_1T;
        y1 = (z - y0) - PIO2_1T;
      } else {
        z -= PIO2_2;
        y0 = z - PIO2_2T;
        y1 = (z - y0) - PIO2_2T;
      }
      n = 1;
    } else {
      let z = x + PIO2_1;
      if (ix != 0x3ff921fb) {
        y0 = z + PIO2_1T;
        y1 = (z - y0) + PIO2_1T;
      } else {
        z += PIO2_2;
        y0 = z + PIO2_2T;
        y1 = (z - y0) + PIO2_2T;
      }
      n = -1;
    }
  } else if (ix <= 0x413921fb) {
    // |x| ~<= 2^19 (pi/2), medium size
    let t = Math.abs(x);
    n = <i32>(t * 6.36619772367581382433e-1 + 0.5);
    const fn = <f64>n;
    let r = t - fn * PIO2_1;
    let w = fn * PIO2_1T; // 1st round good to 85 bits
    if (n < 32 && ix != unchecked(NPIO2_HW[n - 1])) {
      y0 = r - w; // quick check: no cancellation
    } else {
      const j = ix >> 20;
      y0 = r - w;
      let i = j - ((hi(y0) >> 20) & 0x7ff);
      if (i > 16) {
        // 2nd iteration needed, good to 118 bits
        t = r;
        w = fn * PIO2_2;
        r = t - w;
        w = fn * PIO2_2T - ((t - r) - w);
        y0 = r - w;
        i = j - ((hi(y0) >> 20) & 0x7ff);
        if (i > 49) {
          // 3rd iteration, 151 bits: covers all possible cases
          t = r;
          w = fn * PIO2_3;
          r = t - w;
          w = fn * PIO2_3T - ((t - r) - w);
          y0 = r - w;
        }
      }
    }
    y1 = (r - y0) - w;
    if (hx < 0) {
      y0 = -y0;
      y1 = -y1;
      n = -n;
    }
  } else {
    return Math.cos(x);
  }
  const q = n & 3;
  if (q == 0) return kernelCos(y0, y1);
  if (q == 1) return -kernelSin(y0, y1);
  if (q == 2) return -kernelCos(y0, y1);
  return kernelSin(y0, y1);
}

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

/**
 * One of this file's functions by code, for the tests that compare them with JavaScript's Math:
 * 0 exp, 1 log, 2 log1p, 3 cos, 4 pow(x, y); 5, 6, 7 exp, log, cos by expLanes, logLanes,
 * cosLanes (of x, with y in the other lane). Example: mathF64(4, 2, 0.5) == Math.SQRT2.
 */
export function mathF64(op: i32, x: f64, y: f64): f64 {
  if (op == 0) return fdExp(x);
  if (op == 1) return fdLog(x);
  if (op == 2) return fdLog1p(x);
  if (op == 3) return fdCos(x);
  if (op == 5) return f64x2.extract_lane(expLanes(f64x2(x, y)), 0);
  if (op == 6) return f64x2.extract_lane(logLanes(f64x2(x, y)), 0);
  if (op == 7) return f64x2.extract_lane(cosLanes(f64x2(x, y)), 0);
  return fdPow(x, y);
}

/**
 * fdExp of 2 float64 lanes, the same operations in f64x2 lanes: |x| <= 0.5 ln2 (k = 0) and the
 * reduced arguments (k = trunc(x / ln2 +- 0.5), which is fdExp's k = +-1 for |x| < 1.5 ln2
 * too) are both evaluated and selected, |x| < 2^-28 is 1 + x. A pair with a lane fdExp treats
 * apart (|x| >= 700, where k may pass -1021, or NaN, infinite, or exactly 1) runs fdExp per lane.
 * Example: expLanes(f64x2(0, -1)) is (1, 0.36787944117144233).
 */
export function expLanes(x: v128): v128 {
  const P1: f64 = 1.66666666666666019037e-1;
  const P2: f64 = -2.77777777770155933842e-3;
  const P3: f64 = 6.61375632143793436117e-5;
  const P4: f64 = -1.65339022054652515390e-6;
  const P5: f64 = 4.13813679705723846039e-8;
  const hx = v128.and(i64x2.shr_u(x, 32), i64x2.splat(0x7fffffff));
  if (v128.any_true(v128.or(i64x2.ge_s(hx, i64x2.splat(0x4085e000)), f64x2.eq(x, f64x2.splat(1.0))))) {
    return f64x2.replace_lane(f64x2.splat(fdExp(f64x2.extract_lane(x, 0))), 1, fdExp(f64x2.extract_lane(x, 1)));
  }
  const reduce = i64x2.gt_s(hx, i64x2.splat(0x3fd62e42));
  const half = v128.bitselect(f64x2.splat(-0.5), f64x2.splat(0.5), f64x2.lt(x, f64x2.splat(0)));
  const t = v128.and(f64x2.trunc(f64x2.add(f64x2.mul(f64x2.splat(1.44269504088896338700), x), half)), reduce);
  const hiPart = f64x2.sub(x, f64x2.mul(t, f64x2.splat(LN2_HI)));
  const loPart = f64x2.mul(t, f64x2.splat(LN2_LO));
  const r = f64x2.sub(hiPart, loPart);
  const tt = f64x2.mul(r, r);
  const poly = f64x2.add(f64x2.splat(P4), f64x2.mul(tt, f64x2.splat(P5)));
  const c = f64x2.sub(
    r,
    f64x2.mul(tt, f64x2.add(f64x2.splat(P1), f64x2.mul(tt, f64x2.add(f64x2.splat(P2), f64x2.mul(tt, f64x2.add(f64x2.splat(P3), f64x2.mul(tt, poly))))))),
  );
  const one = f64x2.splat(1.0);
  const two = f64x2.splat(2.0);
  const rc = f64x2.mul(r, c);
  // k = 0: 1 - ((x c) / (c - 2) - x); else (1 - ((lo - (x c) / (2 - c)) - hi)) 2^k.
  const y0 = f64x2.sub(one, f64x2.sub(f64x2.div(rc, f64x2.sub(c, two)), r));
  const y = f64x2.sub(one, f64x2.sub(f64x2.sub(loPart, f64x2.div(rc, f64x2.sub(two, c))), hiPart));
  const k = i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(t));
  const twopk = i64x2.shl(i64x2.add(k, i64x2.splat(1023)), 52);
  const scaled = f64x2.mul(y, twopk);
  const main = v128.bitselect(scaled, y0, reduce);
  return v128.bitselect(f64x2.add(one, x), main, i64x2.lt_s(hx, i64x2.splat(0x3e300000)));
}

/** Float64 lanes from the low 32 bits of 2 i64 lanes, as signed integers. */
// @ts-expect-error: decorator
@inline
function lanesToF64(v: v128): v128 {
  return f64x2.convert_low_i32x4_s(v128.shuffle<i32>(v, v, 0, 2, 0, 2));
}

/**
 * fdLog of 2 float64 lanes, the same operations in f64x2 lanes, its four final formulas all
 * evaluated and selected. A pair with a lane fdLog treats apart (x <= 0, subnormal, infinite,
 * NaN, or within 2^-20 of a power of 2) runs fdLog per lane. Example: logLanes(f64x2(1, 0.5)).
 */
export function logLanes(x: v128): v128 {
  const hx = i64x2.shr_s(x, 32);
  const hm = v128.and(hx, i64x2.splat(0x000fffff));
  const apart = v128.or(
    v128.or(i64x2.lt_s(hx, i64x2.splat(0x00100000)), i64x2.ge_s(hx, i64x2.splat(0x7ff00000))),
    i64x2.lt_s(v128.and(i64x2.add(hm, i64x2.splat(2)), i64x2.splat(0x000fffff)), i64x2.splat(3)),
  );
  if (v128.any_true(apart)) return f64x2.replace_lane(f64x2.splat(fdLog(f64x2.extract_lane(x, 0))), 1, fdLog(f64x2.extract_lane(x, 1)));
  const i = v128.and(i64x2.add(hm, i64x2.splat(0x95f64)), i64x2.splat(0x100000));
  // x or x/2 normalized into [sqrt(2)/2, sqrt(2)): its high word hm | (i ^ 0x3ff00000)
  const xn = v128.or(i64x2.shl(v128.or(hm, v128.xor(i, i64x2.splat(0x3ff00000))), 32), v128.and(x, i64x2.splat(0xffffffff)));
  const k = i64x2.add(i64x2.sub(i64x2.shr_s(hx, 20), i64x2.splat(1023)), i64x2.shr_s(i, 20));
  const one = f64x2.splat(1.0);
  const f = f64x2.sub(xn, one);
  const s = f64x2.div(f, f64x2.add(f64x2.splat(2.0), f));
  const dk = lanesToF64(k);
  const z = f64x2.mul(s, s);
  const w = f64x2.mul(z, z);
  const t1 = f64x2.mul(w, f64x2.add(f64x2.splat(LG2), f64x2.mul(w, f64x2.add(f64x2.splat(LG4), f64x2.mul(w, f64x2.splat(LG6))))));
  const t2 = f64x2.mul(
    z,
    f64x2.add(f64x2.splat(LG1), f64x2.mul(w, f64x2.add(f64x2.splat(LG3), f64x2.mul(w, f64x2.add(f64x2.splat(LG5), f64x2.mul(w, f64x2.splat(LG7))))))),
  );
  const R = f64x2.add(t2, t1);
  const hfsq = f64x2.mul(f64x2.mul(f64x2.splat(0.5), f), f);
  const dkHi = f64x2.mul(dk, f64x2.splat(LN2_HI));
  const dkLo = f64x2.mul(dk, f64x2.splat(LN2_LO));
  const sHR = f64x2.mul(s, f64x2.add(hfsq, R));
  const sFR = f64x2.mul(s, f64x2.sub(f, R));
  const a0 = f64x2.sub(f, f64x2.sub(hfsq, sHR));
  const a1 = f64x2.sub(dkHi, f64x2.sub(f64x2.sub(hfsq, f64x2.add(sHR, dkLo)), f));
  const b0 = f64x2.sub(f, sFR);
  const b1 = f64x2.sub(dkHi, f64x2.sub(f64x2.sub(sFR, dkLo), f));
  const k0 = i64x2.eq(k, i64x2.splat(0));
  const big = i64x2.gt_s(v128.or(i64x2.sub(hm, i64x2.splat(0x6147a)), i64x2.sub(i64x2.splat(0x6b851), hm)), i64x2.splat(0));
  return v128.bitselect(v128.bitselect(a0, a1, k0), v128.bitselect(b0, b1, k0), big);
}

/**
 * fdCos of 2 float64 lanes in [0, 6.5) (random's 2 pi u), the same operations in f64x2 lanes:
 * n = 0 and n = 1 are the medium reduction with those n, and both kernels are evaluated, their
 * formulas selected. A pair with a lane fdCos treats apart (outside [0, 6.5), near pi/2, or
 * where the reduction's quick check fails) runs fdCos per lane. Example: cosLanes(f64x2(0, 1)).
 */
export function cosLanes(x: v128): v128 {
  const PIO2_1: f64 = 1.57079632673412561417;
  const PIO2_1T: f64 = 6.07710050650619224932e-11;
  const ix = i64x2.shr_s(x, 32);
  const apart = v128.or(
    v128.or(v128.not(f64x2.ge(x, f64x2.splat(0))), f64x2.ge(x, f64x2.splat(6.5))),
    v128.or(
      v128.or(i64x2.eq(ix, i64x2.splat(0x3ff921fb)), i64x2.eq(ix, i64x2.splat(0x400921fb))),
      v128.or(i64x2.eq(ix, i64x2.splat(0x4012d97c)), i64x2.eq(ix, i64x2.splat(0x401921fb))),
    ),
  );
  if (v128.any_true(apart)) return f64x2.replace_lane(f64x2.splat(fdCos(f64x2.extract_lane(x, 0))), 1, fdCos(f64x2.extract_lane(x, 1)));
  const medium = f64x2.trunc(f64x2.add(f64x2.mul(x, f64x2.splat(6.36619772367581382433e-1)), f64x2.splat(0.5)));
  const small = i64x2.le_s(ix, i64x2.splat(0x3fe921fb));
  const first = i64x2.lt_s(ix, i64x2.splat(0x4002d97c));
  const fn = v128.bitselect(f64x2.splat(0), v128.bitselect(f64x2.splat(1), medium, first), small);
  const r = f64x2.sub(x, f64x2.mul(fn, f64x2.splat(PIO2_1)));
  const w = f64x2.mul(fn, f64x2.splat(PIO2_1T));
  const y0 = f64x2.sub(r, w);
  const y1 = f64x2.sub(f64x2.sub(r, y0), w);
  // The kernels on (y0, y1).
  const iy = v128.and(i64x2.shr_s(y0, 32), i64x2.splat(0x7fffffff));
  const tiny = i64x2.lt_s(iy, i64x2.splat(0x3e400000));
  const z = f64x2.mul(y0, y0);
  const one = f64x2.splat(1.0);
  const half = f64x2.splat(0.5);
  const C6 = f64x2.mul(z, f64x2.splat(-1.13596475577881948265e-11));
  const C5 = f64x2.mul(z, f64x2.add(f64x2.splat(2.08757232129817482790e-9), C6));
  const C4 = f64x2.mul(z, f64x2.add(f64x2.splat(-2.75573143513906633035e-7), C5));
  const C3 = f64x2.mul(z, f64x2.add(f64x2.splat(2.48015872894767294178e-5), C4));
  const C2 = f64x2.mul(z, f64x2.add(f64x2.splat(-1.38888888888741095749e-3), C3));
  const rc = f64x2.mul(z, f64x2.add(f64x2.splat(4.16666666666666019037e-2), C2));
  const zrxy = f64x2.sub(f64x2.mul(z, rc), f64x2.mul(y0, y1));
  const hz = f64x2.mul(half, z);
  const near = f64x2.sub(one, f64x2.sub(hz, zrxy));
  const qx = v128.bitselect(f64x2.splat(0.28125), i64x2.shl(i64x2.sub(iy, i64x2.splat(0x00200000)), 32), i64x2.gt_s(iy, i64x2.splat(0x3fe90000)));
  const far = f64x2.sub(f64x2.sub(one, qx), f64x2.sub(f64x2.sub(hz, qx), zrxy));
  const cosv = v128.bitselect(one, v128.bitselect(near, far, i64x2.lt_s(iy, i64x2.splat(0x3fd33333))), tiny);
  const v = f64x2.mul(z, y0);
  const S5 = f64x2.mul(z, f64x2.add(f64x2.splat(-2.50507602534068634195e-8), f64x2.mul(z, f64x2.splat(1.58969099521155010221e-10))));
  const S4 = f64x2.mul(z, f64x2.add(f64x2.splat(2.75573137070700676789e-6), S5));
  const S3 = f64x2.mul(z, f64x2.add(f64x2.splat(-1.98412698298579493134e-4), S4));
  const rs = f64x2.add(f64x2.splat(8.33333333332248946124e-3), S3);
  const full = f64x2.sub(
    y0,
    f64x2.sub(f64x2.sub(f64x2.mul(z, f64x2.sub(f64x2.mul(half, y1), f64x2.mul(v, rs))), y1), f64x2.mul(v, f64x2.splat(-1.66666666666666324348e-1))),
  );
  const sinv = v128.bitselect(y0, full, tiny);
  // n & 3: 0 cos, 1 -sin, 2 -cos, 3 sin.
  const n = i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(fn));
  const odd = i64x2.ne(v128.and(n, i64x2.splat(1)), i64x2.splat(0));
  const q = v128.and(n, i64x2.splat(3));
  const negate = v128.or(i64x2.eq(q, i64x2.splat(1)), i64x2.eq(q, i64x2.splat(2)));
  const val = v128.bitselect(sinv, cosv, odd);
  return v128.bitselect(f64x2.neg(val), val, negate);
}
