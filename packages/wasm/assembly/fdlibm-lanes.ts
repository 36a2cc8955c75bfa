/**
 * fdlibm.ts's exp, log and cos in two float64 lanes (the same operations, so the same bits), and
 * `mathF64`, which exposes every function of fdlibm.ts and fdlibm-pow.ts to the tests.
 */
import { hi, lo, LN2_HI, LN2_LO, LG1, LG2, LG3, LG4, LG5, LG6, LG7, fdExp, fdLog, fdLog1p, fdCos } from './fdlibm';
import { fdPow } from './fdlibm-pow';

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
