// Fills a buffer with one 32-bit pattern (a float32 or int32 value, as raw bits).

struct Params {
  size: u32,
  bits: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> OUT: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i < P.size) {
    OUT[i] = P.bits;
  }
}
