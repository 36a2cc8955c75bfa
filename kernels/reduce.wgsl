// Reduces over a set of axes: one thread per output element walks the reduced sub-box.
// The caller merges adjacent axes first, so the walk is usually a single strided loop.

#include "lib/epilogue.wgsl"

struct Params {
  out_size: u32,
  red_size: u32,
  out_rank: u32,
  red_rank: u32,
  out_shape: array<vec4<u32>, 2>,
  out_strides: array<vec4<u32>, 2>,
  red_shape: array<vec4<u32>, 2>,
  red_strides: array<vec4<u32>, 2>,
}

// 0 sum, 1 max, 2 min, 3 argmax, 4 argmin.
override OP: u32 = 0u;
override X_INT: u32 = 0u;
override OUT_INT: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<u32>;

// Offsets are read straight from the uniform block: passing its arrays to a function by value
// made SwiftShader copy them for every element.
fn out_offset(index: u32) -> u32 {
  var rem = index;
  var off = 0u;
  for (var d = i32(P.out_rank) - 1; d >= 0; d--) {
    let n = P.out_shape[u32(d) >> 2u][u32(d) & 3u];
    off += (rem % n) * P.out_strides[u32(d) >> 2u][u32(d) & 3u];
    rem = rem / n;
  }
  return off;
}

// The offset of the r-th reduced element; the common single-axis case skips the divisions.
fn red_offset(r: u32) -> u32 {
  if (P.red_rank == 1u) {
    return r * P.red_strides[0][0];
  }
  var rem = r;
  var off = 0u;
  for (var d = i32(P.red_rank) - 1; d >= 0; d--) {
    let n = P.red_shape[u32(d) >> 2u][u32(d) & 3u];
    off += (rem % n) * P.red_strides[u32(d) >> 2u][u32(d) & 3u];
    rem = rem / n;
  }
  return off;
}

fn load(i: u32) -> f32 {
  if (X_INT == 1u) {
    return f32(bitcast<i32>(X[i]));
  }
  return bitcast<f32>(X[i]);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = gid.x + gid.y * nwg.x * 64u;
  if (o >= P.out_size) {
    return;
  }
  let base = out_offset(o);
  if (OP == 0u && X_INT == 1u) {
    var isum = 0;
    for (var r = 0u; r < P.red_size; r++) {
      isum += bitcast<i32>(X[base + red_offset(r)]);
    }
    OUT[o] = bitcast<u32>(isum);
    return;
  }
  var acc = 0.0;
  var best = 0u;
  for (var r = 0u; r < P.red_size; r++) {
    let v = load(base + red_offset(r));
    if (OP == 0u) {
      acc += v;
    } else if (r == 0u || ((OP == 1u || OP == 3u) && v > acc) || ((OP == 2u || OP == 4u) && v < acc) || (v != v && acc == acc)) {
      // NaN wins, as in PyTorch's max/min/argmax.
      acc = v;
      best = r;
    }
  }
  if (OP >= 3u) {
    OUT[o] = bitcast<u32>(i32(best));
  } else if (OUT_INT == 1u) {
    OUT[o] = bitcast<u32>(i32(acc));
  } else {
    OUT[o] = bitcast<u32>(epilogue(acc, o));
  }
}
