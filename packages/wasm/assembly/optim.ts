/**
 * In-place optimizer steps (sgd, momentum, nesterov, adam, adamw; rmsprop, adagrad, adadelta,
 * adamax), a port of the reference's referenceUpdate: hyper-parameters arrive as float32 values
 * (widened to f64), arithmetic is float64, the parameter and states are rounded to float32 when
 * stored and used as stored. So the results equal the reference's bit for bit (sqrt is
 * correctly rounded in both). The last four run in f64x2 lanes, 2 elements per step (each lane
 * does the scalar operations in the scalar order, so the bits are the same).
 */

/** Rule codes (the wrapper's RULE_CODES). */
const SGD = 0;
const MOMENTUM = 1;
const NESTEROV = 2;
const ADAM = 3;
const ADAMW = 4;
const RMSPROP = 5;
const ADAGRAD = 6;
const ADADELTA = 7;
const ADAMAX = 8;

/**
 * One step over n elements; s1/s2 are the rule's states (momentum buffer; Adam's m and v;
 * rmsprop's square average and momentum buffer, adagrad's sum, adadelta's square and delta
 * averages, adamax's m and u), scale multiplies the gradient. Example (Adam):
 * update(3, p, g, m, v, n, 1, lr, b1, b2, eps, wd, 0, 1 - b1 ** t, Math.sqrt(1 - b2 ** t)).
 */
export function update(
  rule: i32,
  param: usize,
  grad: usize,
  s1: usize,
  s2: usize,
  n: i32,
  scale: f64,
  lr: f64,
  beta1: f64,
  beta2: f64,
  eps: f64,
  weightDecay: f64,
  momentum: f64,
  bc1: f64,
  bc2Sqrt: f64,
): void {
  if (rule >= RMSPROP) {
    updateLanes(rule, param, grad, s1, s2, n, scale, lr, beta1, beta2, eps, weightDecay, momentum, bc1);
    return;
  }
  for (let i = 0; i < n; i++) {
    const off = (<usize>i) << 2;
    let p = <f64>load<f32>(param + off);
    let g = <f64>load<f32>(grad + off) * scale;
    if (rule == ADAMW) p = p * (1 - lr * weightDecay);
    else g = g + weightDecay * p;
    if (rule == SGD) {
      p = p - lr * g;
    } else if (rule == MOMENTUM || rule == NESTEROV) {
      const buf = <f32>(momentum * <f64>load<f32>(s1 + off) + g);
      store<f32>(s1 + off, buf);
      p = rule == MOMENTUM ? p - lr * <f64>buf : p - lr * (g + momentum * <f64>buf);
    } else if (rule == ADAM || rule == ADAMW) {
      const m = <f32>(beta1 * <f64>load<f32>(s1 + off) + (1 - beta1) * g);
      const v = <f32>(beta2 * <f64>load<f32>(s2 + off) + (1 - beta2) * g * g);
      store<f32>(s1 + off, m);
      store<f32>(s2 + off, v);
      const denom = Math.sqrt(<f64>v) / bc2Sqrt + eps;
      p = p - (lr / bc1) * (<f64>m / denom);
    }
    store<f32>(param + off, <f32>p);
  }
}

/** 2 floats at p (1 when tail: lane 1 is 0) widened to float64 lanes. */
// @ts-expect-error: decorator
@inline
function load2(p: usize, tail: bool): v128 {
  return f64x2.promote_low_f32x4(tail ? v128.load32_zero(p) : v128.load64_zero(p));
}

/** Rounds 2 float64 lanes to float32 and stores them at p (lane 0 only when tail). */
// @ts-expect-error: decorator
@inline
function store2(p: usize, v: v128, tail: bool): void {
  if (tail) v128.store32_lane(p, v, 0);
  else v128.store64_lane(p, v, 0);
}

/** The float32 rounding of 2 float64 lanes, in float32 lanes 0 and 1. */
// @ts-expect-error: decorator
@inline
function round(v: v128): v128 {
  return f32x4.demote_f64x2_zero(v);
}

/**
 * rmsprop, adagrad, adadelta or adamax on the 2 elements at byte offset `off` (1 when tail).
 * Per lane, with g = grad * scale + wd * p:
 *   rmsprop:  sq = b1 sq + (1 - b1) g g; step = g / (sqrt(sq) + eps);
 *             momentum > 0: buf = momentum buf + step, p -= lr buf; else p -= lr step
 *   adagrad:  sum = sum + g g; p -= lr (g / (sqrt(sum) + eps))
 *   adadelta: sq = b1 sq + (1 - b1) g g; delta = sqrt(acc + eps) / sqrt(sq + eps) g;
 *             acc = b1 acc + (1 - b1) delta delta; p -= lr delta
 *   adamax:   m = b1 m + (1 - b1) g; u = max(b2 u, |g| + eps); p -= (lr / bc1) (m / u)
 * every state rounded to float32 when stored and used as stored.
 */
// @ts-expect-error: decorator
@inline
function step2(
  rule: i32,
  tail: bool,
  off: usize,
  param: usize,
  grad: usize,
  s1: usize,
  s2: usize,
  scale: f64,
  lr: f64,
  beta1: f64,
  beta2: f64,
  eps: f64,
  weightDecay: f64,
  momentum: f64,
  bc1: f64,
): void {
  const B1 = f64x2.splat(beta1);
  const C1 = f64x2.splat(1 - beta1);
  const EPS = f64x2.splat(eps);
  let p = load2(param + off, tail);
  const g = f64x2.add(f64x2.mul(load2(grad + off, tail), f64x2.splat(scale)), f64x2.mul(f64x2.splat(weightDecay), p));
  if (rule == RMSPROP) {
    const sq = round(f64x2.add(f64x2.mul(B1, load2(s1 + off, tail)), f64x2.mul(f64x2.mul(C1, g), g)));
    store2(s1 + off, sq, tail);
    const step = f64x2.div(g, f64x2.add(f64x2.sqrt(f64x2.promote_low_f32x4(sq)), EPS));
    if (momentum > 0) {
      const buf = round(f64x2.add(f64x2.mul(f64x2.splat(momentum), load2(s2 + off, tail)), step));
      store2(s2 + off, buf, tail);
      p = f64x2.sub(p, f64x2.mul(f64x2.splat(lr), f64x2.promote_low_f32x4(buf)));
    } else {
      p = f64x2.sub(p, f64x2.mul(f64x2.splat(lr), step));
    }
  } else if (rule == ADAGRAD) {
    const sum = round(f64x2.add(load2(s1 + off, tail), f64x2.mul(g, g)));
    store2(s1 + off, sum, tail);
    p = f64x2.sub(p, f64x2.mul(f64x2.splat(lr), f64x2.div(g, f64x2.add(f64x2.sqrt(f64x2.promote_low_f32x4(sum)), EPS))));
  } else if (rule == ADADELTA) {
    const sq = round(f64x2.add(f64x2.mul(B1, load2(s1 + off, tail)), f64x2.mul(f64x2.mul(C1, g), g)));
    store2(s1 + off, sq, tail);
    const acc = load2(s2 + off, tail);
    const delta = f64x2.mul(f64x2.div(f64x2.sqrt(f64x2.add(acc, EPS)), f64x2.sqrt(f64x2.add(f64x2.promote_low_f32x4(sq), EPS))), g);
    store2(s2 + off, round(f64x2.add(f64x2.mul(B1, acc), f64x2.mul(f64x2.mul(C1, delta), delta))), tail);
    p = f64x2.sub(p, f64x2.mul(f64x2.splat(lr), delta));
  } else {
    const m = round(f64x2.add(f64x2.mul(B1, load2(s1 + off, tail)), f64x2.mul(C1, g)));
    store2(s1 + off, m, tail);
    // f64x2.max is JavaScript's Math.max: NaN if either is NaN, +0 above -0.
    const u = round(f64x2.max(f64x2.mul(f64x2.splat(beta2), load2(s2 + off, tail)), f64x2.add(f64x2.abs(g), EPS)));
    store2(s2 + off, u, tail);
    p = f64x2.sub(p, f64x2.mul(f64x2.splat(lr / bc1), f64x2.div(f64x2.promote_low_f32x4(m), f64x2.promote_low_f32x4(u))));
  }
  store2(param + off, round(p), tail);
}

/** One rule's loop: 2 elements per step, then the odd one. */
// @ts-expect-error: decorator
@inline
function lanesRun(
  rule: i32,
  param: usize,
  grad: usize,
  s1: usize,
  s2: usize,
  n: i32,
  scale: f64,
  lr: f64,
  beta1: f64,
  beta2: f64,
  eps: f64,
  weightDecay: f64,
  momentum: f64,
  bc1: f64,
): void {
  let i = 0;
  for (; i + 2 <= n; i += 2) step2(rule, false, (<usize>i) << 2, param, grad, s1, s2, scale, lr, beta1, beta2, eps, weightDecay, momentum, bc1);
  if (i < n) step2(rule, true, (<usize>i) << 2, param, grad, s1, s2, scale, lr, beta1, beta2, eps, weightDecay, momentum, bc1);
}

/** rmsprop, adagrad, adadelta, adamax: one specialised loop per rule. */
function updateLanes(
  rule: i32,
  param: usize,
  grad: usize,
  s1: usize,
  s2: usize,
  n: i32,
  scale: f64,
  lr: f64,
  beta1: f64,
  beta2: f64,
  eps: f64,
  weightDecay: f64,
  momentum: f64,
  bc1: f64,
): void {
  if (rule == RMSPROP) lanesRun(RMSPROP, param, grad, s1, s2, n, scale, lr, beta1, beta2, eps, weightDecay, momentum, bc1);
  else if (rule == ADAGRAD) lanesRun(ADAGRAD, param, grad, s1, s2, n, scale, lr, beta1, beta2, eps, weightDecay, momentum, bc1);
  else if (rule == ADADELTA) lanesRun(ADADELTA, param, grad, s1, s2, n, scale, lr, beta1, beta2, eps, weightDecay, momentum, bc1);
  else lanesRun(ADAMAX, param, grad, s1, s2, n, scale, lr, beta1, beta2, eps, weightDecay, momentum, bc1);
}
