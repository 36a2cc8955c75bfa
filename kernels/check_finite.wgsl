// ts.debug.checkNumerics: flags an op whose float output holds a NaN or an infinity. FLAG[0]
// keeps the smallest tag (the op's sequence number) seen, so the first bad op wins however the
// dispatches interleave. The values are read as raw bits: an all-ones exponent is NaN or Inf,
// a test no compiler may assume away. With HALF the buffer holds float16 halves, two to a word.

struct Params {
  size: u32,
  tag: u32,
}

override HALF: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> FLAG: array<atomic<u32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= P.size) {
    return;
  }
  if (HALF == 1u) {
    if (((X[i >> 1u] >> (16u * (i & 1u))) & 0x7c00u) == 0x7c00u) {
      atomicMin(&FLAG[0], P.tag);
    }
    return;
  }
  if ((X[i] & 0x7f800000u) == 0x7f800000u) {
    atomicMin(&FLAG[0], P.tag);
  }
}
