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
export function hi(x: f64): i32 {
  return <i32>(reinterpret<u64>(x) >> 32);
}

/** The low 32 bits of x. */
// @ts-expect-error: decorator
@inline
export function lo(x: f64): u32 {
  return <u32>reinterpret<u64>(x);
}

/** The float64 with high word h and low word l. */
// @ts-expect-error: decorator
@inline
export function words(h: i32, l: u32): f64 {
  return reinterpret<f64>(((<u64>(<u32>h)) << 32) | <u64>l);
}

/** x with its low word cleared. */
// @ts-expect-error: decorator
@inline
export function clearLow(x: f64): f64 {
  return reinterpret<f64>(reinterpret<u64>(x) & 0xffffffff00000000);
}

/** x with its high word replaced by h. */
// @ts-expect-error: decorator
@inline
export function withHigh(x: f64, h: i32): f64 {
  return reinterpret<f64>(((<u64>(<u32>h)) << 32) | (reinterpret<u64>(x) & 0xffffffff));
}

export const LN2_HI: f64 = 6.93147180369123816490e-1; // 0x3FE62E42 FEE00000
export const LN2_LO: f64 = 1.90821492927058770002e-10; // 0x3DEA39EF 35793C76

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

export const LG1: f64 = 6.666666666666735130e-1;
export const LG2: f64 = 3.999999999940941908e-1;
export const LG3: f64 = 2.857142874366239149e-1;
export const LG4: f64 = 2.222219843214978396e-1;
export const LG5: f64 = 1.818357216161805012e-1;
export const LG6: f64 = 1.531383769920937332e-1;
export const LG7: f64 = 1.479819860511658591e-1;

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
