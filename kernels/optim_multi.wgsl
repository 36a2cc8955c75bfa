// Three parameters' optimizer steps in one dispatch (a compiled step groups its updates, see
// packages/core/src/compile/updates.ts): thread i steps element i of the parameters laid end
// to end. Same rules and bits as kernels/optim.wgsl (both use kernels/lib/optim.wgsl); no
// gradient scale, so the twelve storage buffers are the parameters' own. A group of two binds
// placeholders, of size 0, in the third slot.

struct Params {
  size0: u32,
  size1: u32,
  size2: u32,
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
@group(0) @binding(1) var<storage, read_write> PARAM0: array<f32>;
@group(0) @binding(2) var<storage, read> GRAD0: array<f32>;
@group(0) @binding(3) var<storage, read_write> S10: array<f32>;
@group(0) @binding(4) var<storage, read_write> S20: array<f32>;
@group(0) @binding(5) var<storage, read_write> PARAM1: array<f32>;
@group(0) @binding(6) var<storage, read> GRAD1: array<f32>;
@group(0) @binding(7) var<storage, read_write> S11: array<f32>;
@group(0) @binding(8) var<storage, read_write> S21: array<f32>;
@group(0) @binding(9) var<storage, read_write> PARAM2: array<f32>;
@group(0) @binding(10) var<storage, read> GRAD2: array<f32>;
@group(0) @binding(11) var<storage, read_write> S12: array<f32>;
@group(0) @binding(12) var<storage, read_write> S22: array<f32>;

#include "lib/optim.wgsl"

// WGSL cannot pick a storage buffer by a runtime index, so each slot has its own function.
fn step0(i: u32, states: u32) {
  var e = OptimElement(PARAM0[i], 0.0, 0.0);
  if (states >= 1u) {
    e.s1 = S10[i];
  }
  if (states >= 2u) {
    e.s2 = S20[i];
  }
  e = optim_step(e, GRAD0[i]);
  if (states >= 1u) {
    S10[i] = e.s1;
  }
  if (states >= 2u) {
    S20[i] = e.s2;
  }
  PARAM0[i] = e.p;
}

fn step1(i: u32, states: u32) {
  var e = OptimElement(PARAM1[i], 0.0, 0.0);
  if (states >= 1u) {
    e.s1 = S11[i];
  }
  if (states >= 2u) {
    e.s2 = S21[i];
  }
  e = optim_step(e, GRAD1[i]);
  if (states >= 1u) {
    S11[i] = e.s1;
  }
  if (states >= 2u) {
    S21[i] = e.s2;
  }
  PARAM1[i] = e.p;
}

fn step2(i: u32, states: u32) {
  var e = OptimElement(PARAM2[i], 0.0, 0.0);
  if (states >= 1u) {
    e.s1 = S12[i];
  }
  if (states >= 2u) {
    e.s2 = S22[i];
  }
  e = optim_step(e, GRAD2[i]);
  if (states >= 1u) {
    S12[i] = e.s1;
  }
  if (states >= 2u) {
    S22[i] = e.s2;
  }
  PARAM2[i] = e.p;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  let states = optim_states();
  if (i < P.size0) {
    step0(i, states);
  } else if (i < P.size0 + P.size1) {
    step1(i - P.size0, states);
  } else if (i < P.size0 + P.size1 + P.size2) {
    step2(i - P.size0 - P.size1, states);
  }
}
