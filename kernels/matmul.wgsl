// Batched C = op(A) @ op(B) (+ bias, then activation). Each thread keeps a 4x4 tile of C in
// registers and needs no workgroup memory or barriers, which is what CPU-emulated adapters run
// fastest; transposes are read through the row/column strides instead of being copied.

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
}

override HAS_BIAS: u32 = 0u;
// Rows per thread, 4 or 8: 8 gives each loaded B vector 8 FMAs, which a CPU adapter needs.
override TM: u32 = 4u;
// 0 none, 1 relu.
override ACT: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<storage, read_write> OUT: array<f32>;

fn at8(v: array<vec4<u32>, 2>, i: u32) -> u32 {
  return v[i >> 2u][i & 3u];
}

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col0 = gid.x * 4u;
  let row0 = gid.y * TM;
  if (row0 >= P.M || col0 >= P.N) {
    return;
  }
  var rem = gid.z;
  var a_off = 0u;
  var b_off = 0u;
  for (var d = i32(P.batch_rank) - 1; d >= 0; d--) {
    let n = at8(P.batch_shape, u32(d));
    let k = rem % n;
    rem = rem / n;
    a_off += k * at8(P.a_bstrides, u32(d));
    b_off += k * at8(P.b_bstrides, u32(d));
  }
  // Out-of-range rows and columns read a clamped (valid) address and are never stored.
  let last = vec4<u32>(P.M - 1u);
  let arow = vec4<u32>(a_off) + min(vec4<u32>(row0) + vec4<u32>(0u, 1u, 2u, 3u), last) * P.a_rs;
  let arow2 = vec4<u32>(a_off) + min(vec4<u32>(row0) + vec4<u32>(4u, 5u, 6u, 7u), last) * P.a_rs;
  let bcol = vec4<u32>(b_off) + min(vec4<u32>(col0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(P.N - 1u)) * P.b_cs;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  var acc4 = vec4<f32>(0.0);
  var acc5 = vec4<f32>(0.0);
  var acc6 = vec4<f32>(0.0);
  var acc7 = vec4<f32>(0.0);
  for (var k = 0u; k < P.K; k++) {
    let ak = k * P.a_cs;
    let bk = k * P.b_rs;
    let b = vec4<f32>(B[bcol.x + bk], B[bcol.y + bk], B[bcol.z + bk], B[bcol.w + bk]);
    acc0 += A[arow.x + ak] * b;
    acc1 += A[arow.y + ak] * b;
    acc2 += A[arow.z + ak] * b;
    acc3 += A[arow.w + ak] * b;
    if (TM == 8u) {
      acc4 += A[arow2.x + ak] * b;
      acc5 += A[arow2.y + ak] * b;
      acc6 += A[arow2.z + ak] * b;
      acc7 += A[arow2.w + ak] * b;
    }
  }
  var bias = vec4<f32>(0.0);
  if (HAS_BIAS == 1u) {
    for (var j = 0u; j < 4u; j++) {
      bias[j] = BIAS[min(col0 + j, P.N - 1u)];
    }
  }
  let out_base = gid.z * P.M * P.N;
  put(out_base, row0, col0, acc0 + bias);
  put(out_base, row0 + 1u, col0, acc1 + bias);
  put(out_base, row0 + 2u, col0, acc2 + bias);
  put(out_base, row0 + 3u, col0, acc3 + bias);
  if (TM == 8u) {
    put(out_base, row0 + 4u, col0, acc4 + bias);
    put(out_base, row0 + 5u, col0, acc5 + bias);
    put(out_base, row0 + 6u, col0, acc6 + bias);
    put(out_base, row0 + 7u, col0, acc7 + bias);
  }
}

// Stores 4 columns of one output row (with the activation), those that exist.
fn put(out_base: u32, row: u32, col0: u32, acc: vec4<f32>) {
  if (row >= P.M) {
    return;
  }
  var v = acc;
  if (ACT == 1u) {
    v = max(v, vec4<f32>(0.0));
  }
  for (var j = 0u; j < 4u; j++) {
    if (col0 + j < P.N) {
      OUT[out_base + row * P.N + col0 + j] = v[j];
    }
  }
}
