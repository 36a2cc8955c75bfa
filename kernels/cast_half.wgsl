// Casts between float16 storage and float32 / int32. Halves are packed two to a 32-bit word,
// element 2k in the low 16 bits: the memory layout of array<f16>, read and written here as
// array<u32> so that it needs no shader-f16 feature. One thread per word (two elements).

#include "lib/half.wgsl"

struct Params {
  size: u32,
}

// Whether the float32 side holds int32 values (int32 <-> float16 casts go through f32 math).
override X_INT: u32 = 0u;
override OUT_INT: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<u32>;

fn word_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * 64u;
}

// The float32 bits of input element i of the float32 / int32 side.
fn wide_bits(i: u32) -> u32 {
  if (X_INT == 1u) {
    return bitcast<u32>(f32(bitcast<i32>(X[i])));
  }
  return X[i];
}

@compute @workgroup_size(64)
fn to_half(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = word_index(gid, nwg);
  let i = 2u * k;
  if (i >= P.size) {
    return;
  }
  var word = half_bits(wide_bits(i));
  if (i + 1u < P.size) {
    word |= half_bits(wide_bits(i + 1u)) << 16u;
  }
  OUT[k] = word;
}

fn store_wide(i: u32, v: f32) {
  if (OUT_INT == 1u) {
    OUT[i] = bitcast<u32>(i32(v));
  } else {
    OUT[i] = bitcast<u32>(v);
  }
}

@compute @workgroup_size(64)
fn from_half(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = word_index(gid, nwg);
  let i = 2u * k;
  if (i >= P.size) {
    return;
  }
  let v = unpack2x16float(X[k]);
  store_wide(i, v.x);
  if (i + 1u < P.size) {
    store_wide(i + 1u, v.y);
  }
}
