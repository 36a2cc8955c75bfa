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
  let row0 = gid.y * 4u;
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
  var arow: vec4<u32>;
  var bcol: vec4<u32>;
  for (var j = 0u; j < 4u; j++) {
    arow[j] = a_off + min(row0 + j, P.M - 1u) * P.a_rs;
    bcol[j] = b_off + min(col0 + j, P.N - 1u) * P.b_cs;
  }
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k = 0u; k < P.K; k++) {
    let ak = k * P.a_cs;
    let bk = k * P.b_rs;
    let b = vec4<f32>(B[bcol.x + bk], B[bcol.y + bk], B[bcol.z + bk], B[bcol.w + bk]);
    acc0 += A[arow.x + ak] * b;
    acc1 += A[arow.y + ak] * b;
    acc2 += A[arow.z + ak] * b;
    acc3 += A[arow.w + ak] * b;
  }
  var bias = vec4<f32>(0.0);
  if (HAS_BIAS == 1u) {
    for (var j = 0u; j < 4u; j++) {
      bias[j] = BIAS[min(col0 + j, P.N - 1u)];
    }
  }
  let out_base = gid.z * P.M * P.N;
  let rows = array<vec4<f32>, 4>(acc0 + bias, acc1 + bias, acc2 + bias, acc3 + bias);
  for (var r = 0u; r < 4u; r++) {
    let row = row0 + r;
    if (row < P.M) {
      var v = rows[r];
      if (ACT == 1u) {
        v = max(v, vec4<f32>(0.0));
      }
      for (var j = 0u; j < 4u; j++) {
        if (col0 + j < P.N) {
          OUT[out_base + row * P.N + col0 + j] = v[j];
        }
      }
    }
  }
}
