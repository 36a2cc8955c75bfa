/**
 * The float64 lane helpers of the batch-norm kernels (batchnorm.ts, batchnorm-columns.ts): two
 * float32 loaded as float64 lanes and packed back, horizontal sums, and the per-element forward
 * and backward expressions in the reference's order.
 */

/** The `inner` at and above which a channel's runs are walked one by one. */
export const WIDE = 16;

/** Two float32 at p as float64 lanes. */
// @ts-expect-error: decorator
@inline
export function ld2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

/** Four float32 rounded from two f64x2 (lanes lo0, lo1, hi0, hi1). */
// @ts-expect-error: decorator
@inline
export function pack(lo: v128, hi: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

// @ts-expect-error: decorator
@inline
export function hsum(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

// @ts-expect-error: decorator
@inline
export function f32At(p: usize, i: i32): f64 {
  return <f64>load<f32>(p + ((<usize>i) << 2));
}

// @ts-expect-error: decorator
@inline
export function f64At(p: usize, i: i32): f64 {
  return load<f64>(p + ((<usize>i) << 3));
}

/** y = (x - m) * a + b: batchNorm's expression. */
// @ts-expect-error: decorator
@inline
export function fwd2(x: v128, m: v128, a: v128, b: v128): v128 {
  return f64x2.add(f64x2.mul(f64x2.sub(x, m), a), b);
}

/** dx = a * (dy - k1 - (x - m) * k2): batchNormBackward's expression in training. */
// @ts-expect-error: decorator
@inline
export function bwd2(x: v128, dy: v128, m: v128, a: v128, k1: v128, k2: v128): v128 {
  return f64x2.mul(a, f64x2.sub(f64x2.sub(dy, k1), f64x2.mul(f64x2.sub(x, m), k2)));
}

/** Bytes of a float64 array of n values, rounded up to 16. */
// @ts-expect-error: decorator
@inline
export function f64Bytes(n: i32): usize {
  return (<usize>((n + 1) & ~1)) << 3;
}
