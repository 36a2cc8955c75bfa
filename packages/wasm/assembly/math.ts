/**
 * The transcendental and piecewise unary ops, and cast, as the reference computes them: the
 * float32 input widened to float64, the reference's formula in float64 (its overflow-free
 * sigmoid and tanh forms, Math.exp/Math.log), rounded once to float32 when stored. These are
 * scalar: there is no SIMD exp, and float64 keeps the results equal to the reference's (the
 * only possible difference is a float64 exp/log result on the other side of a float32
 * rounding boundary, which the tests bound by one float32 ulp).
 */

/** Op codes (the wrapper's MATH_CODES). */
const EXP = 0;
const LOG = 1;
const SIGMOID = 2;
const TANH = 3;
const SIGN = 4;
const LEAKY_RELU = 5;
const ELU = 6;

/** WGSL sign: 1, -1 or 0 (NaN gives 0). */
// @ts-expect-error: decorator
@inline
function sign(x: f64): f64 {
  return x > 0 ? 1 : x < 0 ? -1 : 0;
}

// @ts-expect-error: decorator
@inline
function apply(op: i32, x: f64, alpha: f64): f64 {
  if (op == EXP) return Math.exp(x);
  if (op == LOG) return Math.log(x);
  // 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) below, so exp never overflows.
  if (op == SIGMOID) {
    if (x >= 0) return 1 / (1 + Math.exp(-x));
    const e = Math.exp(x);
    return e / (1 + e);
  }
  // sign(x) (1 - e^-2|x|) / (1 + e^-2|x|).
  if (op == TANH) {
    const e = Math.exp(-2 * Math.abs(x));
    return (sign(x) * (1 - e)) / (1 + e);
  }
  if (op == SIGN) return sign(x);
  if (op == LEAKY_RELU) return x > 0 ? x : alpha * x;
  // select(alpha (exp(min(x, 0)) - 1), x, x > 0), with WGSL's min(NaN, 0) = 0.
  return x > 0 ? x : alpha * (Math.exp(x < 0 ? x : 0) - 1);
}

// @ts-expect-error: decorator
@inline
function mathRun(op: i32, x: usize, out: usize, n: i32, alpha: f64): void {
  for (let i = 0; i < n; i++) {
    const off = (<usize>i) << 2;
    store<f32>(out + off, <f32>apply(op, <f64>load<f32>(x + off), alpha));
  }
}

/**
 * out[i] = f(x[i]) for n floats; alpha is leakyRelu's / elu's (already a float32 value).
 * Example: unaryMath(2, x, out, n, 0) is sigmoid.
 */
export function unaryMath(op: i32, x: usize, out: usize, n: i32, alpha: f64): void {
  if (op == EXP) mathRun(EXP, x, out, n, alpha);
  else if (op == LOG) mathRun(LOG, x, out, n, alpha);
  else if (op == SIGMOID) mathRun(SIGMOID, x, out, n, alpha);
  else if (op == TANH) mathRun(TANH, x, out, n, alpha);
  else if (op == SIGN) mathRun(SIGN, x, out, n, alpha);
  else if (op == LEAKY_RELU) mathRun(LEAKY_RELU, x, out, n, alpha);
  else mathRun(ELU, x, out, n, alpha);
}

/**
 * cast of n elements: the input loaded as float32 (int32 through f32(i32)), stored as float32
 * or as int32 by truncation, clamped to [-2^31, 2147483520], NaN to -2^31 (the reference's
 * f32ToI32). Example (float32 -> int32): cast(x, 0, out, 1, n).
 */
export function cast(x: usize, xInt: i32, out: usize, outInt: i32, n: i32): void {
  for (let i = 0; i < n; i++) {
    const off = (<usize>i) << 2;
    const v: f32 = xInt ? <f32>load<i32>(x + off) : load<f32>(x + off);
    if (!outInt) {
      store<f32>(out + off, v);
      continue;
    }
    let r: i32;
    if (v != v || v <= -2147483648) r = -2147483648;
    else if (v >= 2147483520) r = 2147483520;
    else r = <i32>v;
    store<i32>(out + off, r);
  }
}
