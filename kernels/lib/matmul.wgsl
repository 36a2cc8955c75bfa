// The uniform block of the matmul kernels (matmul.wgsl, matmul_tiled128.wgsl,
// matmul_splitk.wgsl, matmul_subgroup.wgsl; MATMUL in packages/webgpu/src/spec.ts), bound at 0,
// and where each batch item's A and B start. Element (m, k) of op(A) is A[m * a_rs + k * a_cs]
// and (k, n) of op(B) is B[k * b_rs + n * b_cs]: a transpose is a swap of strides, never a copy.

struct Params {
  M: u32,
  N: u32,
  K: u32,
  batch: u32,
  a_rs: u32,
  a_cs: u32,
  b_rs: u32,
  b_cs: u32,
  batch_rank: u32,
  batch_shape: array<vec4<u32>, 2>,
  a_bstrides: array<vec4<u32>, 2>,
  b_bstrides: array<vec4<u32>, 2>,
  // Bit 0: add BIAS[n]; bit 1: then ReLU. Uniforms, not override constants: one pipeline serves
  // a product with and without them (LeNet's dense layers and their gradients take three
  // forms, each pipeline ~0.1 s to create on SwiftShader), for a uniform test per store.
  flags: u32,
}

@group(0) @binding(0) var<uniform> P: Params;

fn has_bias() -> bool {
  return (P.flags & 1u) != 0u;
}

fn relu_on() -> bool {
  return (P.flags & 2u) != 0u;
}

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

fn at8(v: array<vec4<u32>, 2>, i: u32) -> u32 {
  return v[i >> 2u][i & 3u];
}

// Where batch item z's A and B start (broadcast batch dimensions have stride 0).
fn batch_offsets(z: u32) -> vec2<u32> {
  var rem = z;
  var off = vec2<u32>(0u);
  for (var d = i32(P.batch_rank) - 1; d >= 0; d--) {
    let n = at8(P.batch_shape, u32(d));
    let k = rem % n;
    rem = rem / n;
    off += k * vec2<u32>(at8(P.a_bstrides, u32(d)), at8(P.b_bstrides, u32(d)));
  }
  return off;
}
