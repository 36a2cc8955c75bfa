// Float helpers shared by the kernels that need special values or a precise log1p
// (softmax.wgsl, cross_entropy.wgsl, cross_entropy_backward.wgsl, max_pool2d.wgsl); a kernel
// simply leaves uncalled the ones it does not need.

// -inf, made at run time (a constant -inf is rejected by WGSL).
fn neg_inf() -> f32 {
  var bits = 0xff800000u;
  return bitcast<f32>(bits);
}

fn nan() -> f32 {
  var bits = 0x7fc00000u; // a var, so the NaN is made at run time, not constant-folded
  return bitcast<f32>(bits);
}

// log(1 + r) for r >= 0, accurate where 1 + r rounds: below 0.1 by its series (8 terms, error
// < 1e-8 relative), since a GPU's log only promises an absolute error near 1.
fn log1p_pos(r: f32) -> f32 {
  if (r < 0.1) {
    return r * (1.0 - r * (0.5 - r * (0.33333334 - r * (0.25 - r * (0.2 - r * (0.16666667 - r * (0.14285715 - r * 0.125)))))));
  }
  return log(1.0 + r);
}
