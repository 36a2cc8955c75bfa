/**
 * In-place optimizer steps (sgd, momentum, nesterov, adam, adamw), a port of the reference's
 * referenceUpdate: hyper-parameters arrive as float32 values (widened to f64), arithmetic is
 * float64, the parameter and states are rounded to float32 when stored and used as stored.
 * So the results equal the reference's bit for bit (sqrt is correctly rounded in both).
 */

/** Rule codes (the wrapper's RULE_CODES). */
const SGD = 0;
const MOMENTUM = 1;
const NESTEROV = 2;
const ADAM = 3;
const ADAMW = 4;

/**
 * One step over n elements; s1/s2 are the rule's states (momentum buffer; Adam's m and v),
 * scale multiplies the gradient. Example (Adam):
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
