// Counter-based random numbers: element i of stream (seed, stream) is a pure function of
// (seed, stream, i), so results do not depend on the device, the dispatch shape or the order.

struct Params {
  size: u32,
  seed: u32,
  stream: u32,
  a: f32,
  b: f32,
}

// 0: uniform in [a, b); 1: normal with mean a and standard deviation b (Box-Muller).
override NORMAL: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> OUT: array<f32>;

// PCG output permutation (O'Neill), used as an integer hash.
fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

fn draw(counter: u32) -> u32 {
  return pcg(counter ^ pcg(P.stream ^ pcg(P.seed)));
}

// 24 random bits scaled into [0, 1); every value is exactly representable in f32.
fn unit(h: u32) -> f32 {
  return f32(h >> 8u) * (1.0 / 16777216.0);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= P.size) {
    return;
  }
  if (NORMAL == 1u) {
    let u1 = 1.0 - unit(draw(2u * i));          // (0, 1], so log is finite
    let u2 = unit(draw(2u * i + 1u));
    let z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
    OUT[i] = P.a + P.b * z;
  } else {
    OUT[i] = P.a + (P.b - P.a) * unit(draw(i));
  }
}
