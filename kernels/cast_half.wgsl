// Casts between float16 storage and float32 / int32. Halves are packed two to a 32-bit word,
// element 2k in the low 16 bits: the memory layout of array<f16>, read and written here as
// array<u32> so that it needs no shader-f16 feature. One thread per word (two elements).
//
// The conversions are integer bit operations rather than pack2x16float / unpack2x16float: WGSL
// leaves pack2x16float's result indeterminate beyond f16's range and its rounding direction to
// the implementation, and PyTorch's half() rounds to nearest even and overflows to infinity.

struct Params {
  size: u32,
}

// Whether the float32 side holds int32 values (int32 <-> float16 casts go through f32 math).
override X_INT: u32 = 0u;
override OUT_INT: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<u32>;

// float32 bits -> float16 bits, rounded to nearest, ties to even; NaN stays a (quiet) NaN.
fn half_bits(b: u32) -> u32 {
  let sign = (b >> 16u) & 0x8000u;
  let exp = (b >> 23u) & 0xffu;
  let man = b & 0x7fffffu;
  if (exp == 0xffu) {
    return sign | 0x7c00u | select(0u, 0x200u | (man >> 13u), man != 0u);
  }
  let e = i32(exp) - 112;
  if (e >= 31) {
    return sign | 0x7c00u;
  }
  if (e <= 0) {
    // A subnormal half (or zero): the 24-bit significand shifted right by 14 - e.
    if (e < -10) {
      return sign;
    }
    let m = man | 0x800000u;
    let shift = u32(14 - e);
    let h = m >> shift;
    let rest = m & ((1u << shift) - 1u);
    let mid = 1u << (shift - 1u);
    return sign | (h + select(0u, 1u, rest > mid || (rest == mid && (h & 1u) == 1u)));
  }
  // Rounding up may carry into the exponent (and from 65504 to infinity), as it should.
  let h = (u32(e) << 10u) | (man >> 13u);
  let rest = man & 0x1fffu;
  return sign | (h + select(0u, 1u, rest > 0x1000u || (rest == 0x1000u && (h & 1u) == 1u)));
}

// float16 bits -> float32 bits, exactly.
fn float_bits(h: u32) -> u32 {
  let sign = (h & 0x8000u) << 16u;
  let exp = (h >> 10u) & 0x1fu;
  let man = h & 0x3ffu;
  if (exp == 0x1fu) {
    return sign | 0x7f800000u | (man << 13u);
  }
  if (exp == 0u) {
    // man * 2^-24: both factors and the product are exact float32 values (and normal ones).
    return sign | select(0u, bitcast<u32>(f32(man) * 5.9604644775390625e-8), man != 0u);
  }
  return sign | ((exp + 112u) << 23u) | (man << 13u);
}

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

fn store_wide(i: u32, h: u32) {
  let bits = float_bits(h);
  if (OUT_INT == 1u) {
    OUT[i] = bitcast<u32>(i32(bitcast<f32>(bits)));
  } else {
    OUT[i] = bits;
  }
}

@compute @workgroup_size(64)
fn from_half(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = word_index(gid, nwg);
  let i = 2u * k;
  if (i >= P.size) {
    return;
  }
  let word = X[k];
  store_wide(i, word & 0xffffu);
  if (i + 1u < P.size) {
    store_wide(i + 1u, word >> 16u);
  }
}
