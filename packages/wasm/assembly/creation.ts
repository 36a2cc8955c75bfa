/**
 * arange and random, as the reference's creation kernels (and kernels/random.wgsl) compute
 * them. The random numbers are the counter-based stream: element i of (seed, stream) is a pure
 * function of (seed, stream, i), PCG's output permutation used as an integer hash, so any part
 * of a tensor can be made on its own (a thread's part starts at element `first`).
 */
import { fdCos, fdLog } from './fdlibm';
import { cosLanes, logLanes } from './fdlibm-lanes';

/** The float32 value of the WGSL literal 6.283185307179586 (2 pi). */
const TWO_PI_F32: f64 = <f64>(<f32>6.283185307179586);

/** PCG's output permutation (O'Neill) as a hash of one u32. */
// @ts-expect-error: decorator
@inline
function pcg(v: u32): u32 {
  const state = v * 747796405 + 2891336453;
  const word = ((state >> ((state >> 28) + 4)) ^ state) * 277803737;
  return (word >> 22) ^ word;
}

/**
 * pcg in 4 lanes. The shift by (state >> 28) + 4, a different count per lane, is a shift by 4
 * and then by 1, 2, 4 and 8 in the lanes whose bit 28, 29, 30, 31 of state is set.
 */
// @ts-expect-error: decorator
@inline
function pcg4(v: v128): v128 {
  const state = i32x4.add(i32x4.mul(v, i32x4.splat(747796405)), i32x4.splat(<i32>2891336453));
  let s = i32x4.shr_u(state, 4);
  s = v128.bitselect(i32x4.shr_u(s, 1), s, i32x4.shr_s(i32x4.shl(state, 3), 31));
  s = v128.bitselect(i32x4.shr_u(s, 2), s, i32x4.shr_s(i32x4.shl(state, 2), 31));
  s = v128.bitselect(i32x4.shr_u(s, 4), s, i32x4.shr_s(i32x4.shl(state, 1), 31));
  s = v128.bitselect(i32x4.shr_u(s, 8), s, i32x4.shr_s(state, 31));
  const word = i32x4.mul(v128.xor(s, state), i32x4.splat(277803737));
  return v128.xor(i32x4.shr_u(word, 22), word);
}

/** The top 24 bits of 4 hashes scaled into [0, 1) (exact float32 values). */
// @ts-expect-error: decorator
@inline
function unit4(h: v128): v128 {
  return f32x4.mul(f32x4.convert_i32x4_u(i32x4.shr_u(h, 8)), f32x4.splat(1.0 / 16777216.0));
}

/** The top 24 bits of a hash scaled into [0, 1), as float64 (exact). */
// @ts-expect-error: decorator
@inline
function unit(h: u32): f64 {
  return <f64>(h >> 8) * (1.0 / 16777216.0);
}

/**
 * n random floats into out: elements first .. first + n - 1 of stream (seed, stream), uniform in
 * [a, b) (normal = 0) or normal with mean a and standard deviation b (normal = 1); a and b
 * arrive as float32 values.
 * Example (the first million uniform floats of seed 1, stream 0): random(out, 0, 1 << 20, 1, 0, 0, 0, 1).
 *
 * Uniform: a + (b - a) * unit(draw(i)) in float32 operations, 4 lanes at a time. Normal: the
 * reference's Box-Muller in float64, u1 = 1 - unit(draw(2i)), u2 = unit(draw(2i + 1)),
 * z = sqrt(-2 ln u1) cos(2 pi u2), a + b z rounded once: the hashes 4 lanes at a time, the
 * rest 2 (log and cos by logLanes and cosLanes, V8's bits).
 */
export function random(out: usize, first: i32, n: i32, seed: u32, stream: u32, normal: i32, a: f64, b: f64): void {
  const key = pcg(stream ^ pcg(seed));
  const keyV = i32x4.splat(key);
  let i = 0;
  if (!normal) {
    const lo = <f32>a;
    const width = <f32>b - lo;
    const loV = f32x4.splat(lo);
    const widthV = f32x4.splat(width);
    let counter = i32x4.add(i32x4.splat(first), i32x4(0, 1, 2, 3));
    const four = i32x4.splat(4);
    for (; i + 4 <= n; i += 4) {
      v128.store(out + ((<usize>i) << 2), f32x4.add(loV, f32x4.mul(widthV, unit4(pcg4(v128.xor(counter, keyV))))));
      counter = i32x4.add(counter, four);
    }
    for (; i < n; i++) {
      const u = <f32>unit(pcg(<u32>(first + i) ^ key));
      store<f32>(out + ((<usize>i) << 2), lo + width * u);
    }
    return;
  }
  // Counters 2i and 2i + 1 of 2 elements per vector: lanes (2i, 2i + 1, 2i + 2, 2i + 3).
  let counter = i32x4.add(i32x4.splat(2 * first), i32x4(0, 1, 2, 3));
  const four = i32x4.splat(4);
  const aV = f64x2.splat(a);
  const bV = f64x2.splat(b);
  const scale = f64x2.splat(1.0 / 16777216.0);
  for (; i + 2 <= n; i += 2) {
    const h = i32x4.shr_u(pcg4(v128.xor(counter, keyV)), 8);
    counter = i32x4.add(counter, four);
    // u1 of the two elements from lanes 0 and 2, u2 from 1 and 3 (24-bit integers: exact).
    const u1 = f64x2.sub(f64x2.splat(1), f64x2.mul(f64x2.convert_low_i32x4_u(v128.shuffle<i32>(h, h, 0, 2, 0, 2)), scale));
    const u2 = f64x2.mul(f64x2.convert_low_i32x4_u(v128.shuffle<i32>(h, h, 1, 3, 1, 3)), scale);
    const z = f64x2.mul(f64x2.sqrt(f64x2.mul(f64x2.splat(-2), logLanes(u1))), cosLanes(f64x2.mul(f64x2.splat(TWO_PI_F32), u2)));
    v128.store64_lane(out + ((<usize>i) << 2), f32x4.demote_f64x2_zero(f64x2.add(aV, f64x2.mul(bV, z))), 0);
  }
  if (i < n) {
    const c = <u32>(2 * (first + i));
    store<f32>(out + ((<usize>i) << 2), boxMuller(pcg(c ^ key), pcg((c + 1) ^ key), a, b));
  }
}

/** One normal float from hashes h1 (counter 2i) and h2 (2i + 1). */
// @ts-expect-error: decorator
@inline
function boxMuller(h1: u32, h2: u32, a: f64, b: f64): f32 {
  const u1 = 1 - unit(h1);
  const u2 = unit(h2);
  const z = Math.sqrt(-2 * fdLog(u1)) * fdCos(TWO_PI_F32 * u2);
  return <f32>(a + b * z);
}

/**
 * out[first + k] for k < n of arange: float32 start + f32(i) * step in float32 operations
 * (isInt = 0), or int32 start + i * step wrapping (isInt = 1; start, step already int32).
 * Example: arange(out, 0, 10, 0, 1, 0) is 0, 1, ..., 9.
 */
export function arange(out: usize, first: i32, n: i32, start: f64, step: f64, isInt: i32): void {
  let i = 0;
  if (isInt) {
    const s = <i32>start;
    const d = <i32>step;
    let v = i32x4.add(i32x4.splat(s + first * d), i32x4.mul(i32x4(0, 1, 2, 3), i32x4.splat(d)));
    const d4 = i32x4.splat(4 * d);
    for (; i + 4 <= n; i += 4) {
      v128.store(out + ((<usize>i) << 2), v);
      v = i32x4.add(v, d4);
    }
    for (; i < n; i++) store<i32>(out + ((<usize>i) << 2), s + (first + i) * d);
    return;
  }
  const s = <f32>start;
  const d = <f32>step;
  const sV = f32x4.splat(s);
  const dV = f32x4.splat(d);
  let idx = i32x4.add(i32x4.splat(first), i32x4(0, 1, 2, 3));
  const four = i32x4.splat(4);
  for (; i + 4 <= n; i += 4) {
    v128.store(out + ((<usize>i) << 2), f32x4.add(sV, f32x4.mul(f32x4.convert_i32x4_s(idx), dV)));
    idx = i32x4.add(idx, four);
  }
  for (; i < n; i++) store<f32>(out + ((<usize>i) << 2), s + <f32>(first + i) * d);
}
