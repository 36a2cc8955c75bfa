// How the float32 matmul kernels store C: bias, ReLU and the epilogue (kernels that include this
// file declare BIAS and OUT as array<f32>).

#include "lib/matmul_params.wgsl"

// The bias of columns col .. col+3 (clamped to the last column), or 0 without a bias.
fn bias4(col: u32) -> vec4<f32> {
  var bias = vec4<f32>(0.0);
  if (has_bias()) {
    let c = min(vec4<u32>(col) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(P.N - 1u));
    bias = vec4<f32>(BIAS[c.x], BIAS[c.y], BIAS[c.z], BIAS[c.w]);
  }
  return bias;
}

// Stores columns col .. col+3 of one output row of C (from out_base), after the ReLU the flags
// ask for, through the epilogue: those that exist.
fn put4(out_base: u32, row: u32, col: u32, acc: vec4<f32>) {
  if (row >= P.M) {
    return;
  }
  var v = acc;
  if (relu_on()) {
    v = max(v, vec4<f32>(0.0));
  }
  for (var j = 0u; j < 4u; j++) {
    if (col + j < P.N) {
      let o = out_base + row * P.N + col + j;
      OUT[o] = epilogue(v[j], o);
    }
  }
}

// Stores element (r, c) of batch item z's C, if it is in C: v, plus BIAS[c] and then ReLU as the
// flags say, through the epilogue (kernels/lib/epilogue.wgsl). The kernels that include this
// file declare BIAS and OUT.
fn store_c(z: u32, r: u32, c: u32, acc: f32) {
  if (r >= P.M || c >= P.N) {
    return;
  }
  var v = acc;
  if (has_bias()) {
    v += BIAS[c];
  }
  if (relu_on()) {
    v = max(v, 0.0);
  }
  let o = z * P.M * P.N + r * P.N + c;
  OUT[o] = epilogue(v, o);
}
