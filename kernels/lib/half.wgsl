// float16 halves packed two to a 32-bit word (element 2k in the low 16 bits, the layout of
// array<f16>), read and written as u32 so that no shader-f16 feature is needed. Packing is
// written out (half_bits) rather than pack2x16float, whose result WGSL leaves indeterminate
// beyond f16's range and whose rounding it leaves to the implementation: PyTorch's half()
// rounds to nearest even and overflows to infinity.

// float32 bits -> float16 bits, rounded to nearest even; beyond the halves' range ±Infinity, NaN
// a quiet NaN. Branch-free (three candidates and a select): a CPU adapter runs lanes in
// lockstep, and per-lane branches cost it more than the arithmetic.
fn half_bits(b: u32) -> u32 {
  let sign = (b >> 16u) & 0x8000u;
  let a = b & 0x7fffffffu;
  // |x| >= 65536 (after rounding everything from 65520 up overflows in the normal path too).
  let special = select(0x7c00u, 0x7e00u, a > 0x7f800000u);
  // |x| < 2^-14, a subnormal half: adding 0.5 leaves x's value in units of 2^-24, rounded to
  // nearest even by the float32 addition itself, in the low mantissa bits.
  let subnormal = bitcast<u32>(bitcast<f32>(a) + 0.5) - 0x3f000000u;
  // Otherwise rebias the exponent (127 -> 15) and round the 13 dropped bits to nearest even; a
  // carry runs into the exponent, and from 65504 up to Infinity, as it should.
  let normal = (a + 0xc8000fffu + ((a >> 13u) & 1u)) >> 13u;
  return sign | select(select(normal, subnormal, a < 0x38800000u), special, a >= 0x47800000u);
}

// The float32 value of element i of a half array, given the word that holds it (X[i >> 1u]).
// unpack2x16float is exact (every half is a float32); only packing needs care.
fn half_value(word: u32, i: u32) -> f32 {
  return unpack2x16float(word)[i & 1u];
}

// Two float32 values as one word of halves (hi in the upper 16 bits).
fn half_pair(lo: f32, hi: f32) -> u32 {
  return half_bits(bitcast<u32>(lo)) | (half_bits(bitcast<u32>(hi)) << 16u);
}
