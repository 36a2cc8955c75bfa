// Softmax and log-softmax along one axis (their gradients are in softmax_backward.wgsl). One
// thread per row: the row's elements sit `inner` apart (inner = 1 for the last axis), so any
// axis works without a transpose, and on a GPU neighbouring threads read neighbouring addresses.
// Stable: the row maximum m is subtracted before exp, so logits of any finite size give finite
// results (a fully -inf row gives NaN, as in PyTorch). Log-softmax is (x - m) - log1p(rest), where
// rest sums exp(x - m) over all but the (first) maximum: x - m is exact, and log1p keeps full
// relative precision when the other logits are far below the maximum, where log(sum) would
// round away the small result (e.g. -1.1e-4 at logits of magnitude 100).

#include "lib/softmax.wgsl"

// 0 softmax, 1 log-softmax.
override LOG: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<f32>;

#include "lib/float.wgsl"

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * 64u;
  if (r >= P.rows) {
    return;
  }
  let base = row_base(r);
  let s = P.inner;
  var m = neg_inf();
  var top = 0u;
  for (var k = 0u; k < P.D; k++) {
    let v = X[base + k * s];
    if (v > m) {
      m = v;
      top = k;
    }
  }
  var rest = 0.0;
  for (var k = 0u; k < P.D; k++) {
    rest += select(exp(X[base + k * s] - m), 0.0, k == top);
  }
  if (LOG == 1u) {
    let l = log1p_pos(rest);
    for (var k = 0u; k < P.D; k++) {
      OUT[base + k * s] = (X[base + k * s] - m) - l;
    }
  } else {
    let inv = 1.0 / (1.0 + rest);
    for (var k = 0u; k < P.D; k++) {
      OUT[base + k * s] = exp(X[base + k * s] - m) * inv;
    }
  }
}

// The same, one 64-thread workgroup per row, for a GPU and rows of at least 64 elements (one
// thread per row leaves a GPU mostly idle on a few hundred wide rows). The threads stride over
// the row and combine their maximum (first index on ties, as above) and sum in workgroup memory.
var<workgroup> red_v: array<f32, 64>;
var<workgroup> red_i: array<u32, 64>;

@compute @workgroup_size(64)
fn forward_rows(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= P.rows) {
    return;
  }
  let t = lid.x;
  let base = row_base(r);
  let s = P.inner;
  var m = neg_inf();
  var top = 0xffffffffu;
  for (var k = t; k < P.D; k += 64u) {
    let v = X[base + k * s];
    if (v > m) {
      m = v;
      top = k;
    }
  }
  red_v[t] = m;
  red_i[t] = top;
  workgroupBarrier();
  for (var w = 32u; w > 0u; w >>= 1u) {
    if (t < w) {
      let v = red_v[t + w];
      let i = red_i[t + w];
      if (v > red_v[t] || (v == red_v[t] && i < red_i[t])) {
        red_v[t] = v;
        red_i[t] = i;
      }
    }
    workgroupBarrier();
  }
  m = red_v[0];
  top = red_i[0];
  workgroupBarrier();
  var part = 0.0;
  for (var k = t; k < P.D; k += 64u) {
    part += select(exp(X[base + k * s] - m), 0.0, k == top);
  }
  red_v[t] = part;
  workgroupBarrier();
  for (var w = 32u; w > 0u; w >>= 1u) {
    if (t < w) {
      red_v[t] += red_v[t + w];
    }
    workgroupBarrier();
  }
  let rest = red_v[0];
  if (LOG == 1u) {
    let l = log1p_pos(rest);
    for (var k = t; k < P.D; k += 64u) {
      OUT[base + k * s] = (X[base + k * s] - m) - l;
    }
  } else {
    let inv = 1.0 / (1.0 + rest);
    for (var k = t; k < P.D; k += 64u) {
      OUT[base + k * s] = exp(X[base + k * s] - m) * inv;
    }
  }
}
