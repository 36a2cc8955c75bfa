// Gradients of softmax and log-softmax along one axis, from the forward output y, one thread per
// row (rows laid out as in softmax.wgsl):
//   softmax:     dx = y * (dy - sum(dy * y))
//   log-softmax: dx = dy - exp(y) * sum(dy)

#include "lib/softmax.wgsl"

// 0 softmax, 1 log-softmax.
override LOG: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> Y: array<f32>;
@group(0) @binding(2) var<storage, read> DY: array<f32>;
@group(0) @binding(3) var<storage, read_write> DX: array<f32>;

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * 64u;
  if (r >= P.rows) {
    return;
  }
  let base = row_base(r);
  let s = P.inner;
  var dot = 0.0;
  for (var k = 0u; k < P.D; k++) {
    let i = base + k * s;
    dot += select(DY[i] * Y[i], DY[i], LOG == 1u);
  }
  for (var k = 0u; k < P.D; k++) {
    let i = base + k * s;
    if (LOG == 1u) {
      DX[i] = DY[i] - exp(Y[i]) * dot;
    } else {
      DX[i] = Y[i] * (DY[i] - dot);
    }
  }
}
