// One optimizer step for one parameter, in place: reads the gradient once, updates the state
// buffers and the parameter in the same thread, so a training step costs one dispatch per
// parameter and no readback (kernels/optim_multi.wgsl takes three at once). The rules are in
// kernels/lib/optim.wgsl; see OptimRule in packages/core/src/backend.ts.
//
// SCALE[0] multiplies every gradient element before use. It lives on the GPU so that gradient
// clipping by global norm (computed by tensor ops) needs no readback; it is 1 otherwise.

struct Params {
  size: u32,
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  weight_decay: f32,
  momentum: f32,
  bias_correction1: f32,
  bias_correction2_sqrt: f32,
}

override RULE: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> PARAM: array<f32>;
@group(0) @binding(2) var<storage, read> GRAD: array<f32>;
@group(0) @binding(3) var<storage, read_write> S1: array<f32>;
@group(0) @binding(4) var<storage, read_write> S2: array<f32>;
@group(0) @binding(5) var<storage, read> SCALE: array<f32>;

#include "lib/optim.wgsl"

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= P.size) {
    return;
  }
  let states = optim_states();
  var e = OptimElement(PARAM[i], 0.0, 0.0);
  if (states >= 1u) {
    e.s1 = S1[i];
  }
  if (states >= 2u) {
    e.s2 = S2[i];
  }
  e = optim_step(e, GRAD[i] * SCALE[0]);
  if (states >= 1u) {
    S1[i] = e.s1;
  }
  if (states >= 2u) {
    S2[i] = e.s2;
  }
  PARAM[i] = e.p;
}
