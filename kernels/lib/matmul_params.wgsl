// The uniform block of the matmul kernels (matmul.wgsl, matmul_tiled128.wgsl,
// matmul_splitk.wgsl, matmul_subgroup.wgsl, matmul_half.wgsl; MATMUL in
// packages/webgpu/src/spec.ts), bound at 0, and where each batch item's A and B start. Element (m, k) of op(A) is A[m * a_rs + k * a_cs]
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

// Where a register-tile thread (rows row0 .. row0+7, columns col0 .. col0+3 of batch item z's C;
// matmul.wgsl, matmul_half.wgsl; splitK and subgroup use the first 4 rows) reads: the start of each of its rows of op(A) and of each of its
// columns of op(B). Rows and columns past C's edge read a clamped (valid) address and are never
// stored.
struct RegisterTile {
  arow: vec4<u32>,
  arow2: vec4<u32>,
  bcol: vec4<u32>,
}

fn register_tile(z: u32, row0: u32, col0: u32) -> RegisterTile {
  let offs = batch_offsets(z);
  let last = vec4<u32>(P.M - 1u);
  var t: RegisterTile;
  t.arow = vec4<u32>(offs.x) + min(vec4<u32>(row0) + vec4<u32>(0u, 1u, 2u, 3u), last) * P.a_rs;
  t.arow2 = vec4<u32>(offs.x) + min(vec4<u32>(row0) + vec4<u32>(4u, 5u, 6u, 7u), last) * P.a_rs;
  t.bcol = vec4<u32>(offs.y) + min(vec4<u32>(col0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(P.N - 1u)) * P.b_cs;
  return t;
}
