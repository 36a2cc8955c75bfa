// Copies a box of 32-bit elements between two strided views: transpose, slice, pad, concat and
// broadcast are all this one kernel with different strides and offsets.

struct Params {
  size: u32,
  rank: u32,
  x_offset: u32,
  out_offset: u32,
  shape: array<vec4<u32>, 2>,
  x_strides: array<vec4<u32>, 2>,
  out_strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= P.size) {
    return;
  }
  var rem = i;
  var xo = P.x_offset;
  var oo = P.out_offset;
  for (var d = i32(P.rank) - 1; d >= 0; d--) {
    let n = P.shape[u32(d) >> 2u][u32(d) & 3u];
    let k = rem % n;
    rem = rem / n;
    xo += k * P.x_strides[u32(d) >> 2u][u32(d) & 3u];
    oo += k * P.out_strides[u32(d) >> 2u][u32(d) & 3u];
  }
  OUT[oo] = X[xo];
}
