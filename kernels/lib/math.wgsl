// Elementwise functions whose textbook form overflows or differs from PyTorch, shared by the
// unary and elementwise kernels and by the fused kernels that the code generator writes
// (packages/webgpu/src/fusion/codegen.ts), so fused and unfused steps compute alike.

// 1 / (1 + e^-x), with branches that keep exp's argument non-positive so neither side overflows.
fn sigmoid_stable(x: f32) -> f32 {
  if (x >= 0.0) {
    return 1.0 / (1.0 + exp(-x));
  }
  let e = exp(x);
  return e / (1.0 + e);
}

// tanh as (1 - e^-2|x|) / (1 + e^-2|x|), which cannot overflow, unlike the textbook form.
fn tanh_stable(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}

// PyTorch's pow: negative bases work with integral exponents, and x^0 is 1 even for x = 0.
fn pow_signed(x: f32, y: f32) -> f32 {
  if (y == 0.0) {
    return 1.0;
  }
  let r = pow(abs(x), y);
  if (x >= 0.0) {
    return r;
  }
  if (fract(y) != 0.0) {
    var nan_bits = 0x7fc00000u; // a var, so the NaN is made at run time, not constant-folded
    return bitcast<f32>(nan_bits);
  }
  return select(r, -r, fract(y * 0.5) != 0.0);
}
