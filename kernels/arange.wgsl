// start + i * step; the int32 variant stays in integers so large ranges are exact.

struct Params {
  size: u32,
  start: f32,
  step: f32,
}

override OUT_INT: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> OUT: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= P.size) {
    return;
  }
  if (OUT_INT == 1u) {
    OUT[i] = bitcast<u32>(i32(P.start) + i32(i) * i32(P.step));
  } else {
    OUT[i] = bitcast<u32>(P.start + f32(i) * P.step);
  }
}
