// Batch normalization's per-element passes, a thread per (block, row position) (see
// lib/batch_norm.wgsl), and the running-statistics update. The statistics come from MEAN[c] and
// VAR[var_off + c]: both bound to one [2, C] tensor (var_off = C) for the batch statistics, or
// to two [C] tensors (var_off = 0). With a = gamma / sqrt(var + eps):
//   forward:  y = (x - mean) * a + beta
//   backward: dx = a * dy in evaluation; in training, with SUMS = [sum(dy), sum(dy * xhat)] over
//             the channel's `count` values (batch_norm_stats.wgsl, GRAD = 1),
//             dx = a * (dy - sum(dy) / count - xhat * sum(dy * xhat) / count)
//   running:  OUT[c] = (1 - momentum) * X[c] + momentum * scale * VAR[var_off + c], one thread per
//             channel (X the running statistic, VAR the [2, C] batch statistics).
// The row walks are unrolled by 4: SwiftShader pays per loop iteration, and this halves a pass.

#include "lib/batch_norm.wgsl"

override HAS_GAMMA: u32 = 0u;
override HAS_BETA: u32 = 0u;
override TRAINING: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> MEAN: array<f32>;
@group(0) @binding(3) var<storage, read> VAR: array<f32>;
@group(0) @binding(4) var<storage, read> GAMMA: array<f32>;
@group(0) @binding(5) var<storage, read> BETA: array<f32>;
@group(0) @binding(6) var<storage, read> DY: array<f32>;
@group(0) @binding(7) var<storage, read> SUMS: array<f32>;
@group(0) @binding(8) var<storage, read_write> OUT: array<f32>;

fn inv_std(c: u32) -> f32 {
  return 1.0 / sqrt(VAR[P.var_off + c] + P.eps);
}

fn gamma_of(c: u32) -> f32 {
  if (HAS_GAMMA == 1u) {
    return GAMMA[c];
  }
  return 1.0;
}

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let s = slot(gid.x + gid.y * nwg.x * 64u);
  if (!s.ok) {
    return;
  }
  let mean = MEAN[s.c];
  let a = gamma_of(s.c) * inv_std(s.c);
  var shift = 0.0;
  if (HAS_BETA == 1u) {
    shift = BETA[s.c];
  }
  let R = P.R;
  let end = s.n1 * R;
  var i = s.n0 * R + s.r;
  for (; i + 3u * R < end; i += 4u * R) {
    let x0 = X[i];
    let x1 = X[i + R];
    let x2 = X[i + 2u * R];
    let x3 = X[i + 3u * R];
    OUT[i] = (x0 - mean) * a + shift;
    OUT[i + R] = (x1 - mean) * a + shift;
    OUT[i + 2u * R] = (x2 - mean) * a + shift;
    OUT[i + 3u * R] = (x3 - mean) * a + shift;
  }
  for (; i < end; i += R) {
    OUT[i] = (X[i] - mean) * a + shift;
  }
}

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let s = slot(gid.x + gid.y * nwg.x * 64u);
  if (!s.ok) {
    return;
  }
  let inv = inv_std(s.c);
  let a = gamma_of(s.c) * inv;
  let R = P.R;
  let end = s.n1 * R;
  var i = s.n0 * R + s.r;
  if (TRAINING == 0u) {
    for (; i + 3u * R < end; i += 4u * R) {
      let g0 = DY[i];
      let g1 = DY[i + R];
      let g2 = DY[i + 2u * R];
      let g3 = DY[i + 3u * R];
      OUT[i] = a * g0;
      OUT[i + R] = a * g1;
      OUT[i + 2u * R] = a * g2;
      OUT[i + 3u * R] = a * g3;
    }
    for (; i < end; i += R) {
      OUT[i] = a * DY[i];
    }
    return;
  }
  let mean = MEAN[s.c];
  let count = f32(P.rows * P.inner);
  // dx = a * (dy - k1 - (x - mean) * k2)
  let k1 = SUMS[s.c] / count;
  let k2 = SUMS[P.C + s.c] / count * inv;
  for (; i + 3u * R < end; i += 4u * R) {
    let x0 = X[i];
    let x1 = X[i + R];
    let x2 = X[i + 2u * R];
    let x3 = X[i + 3u * R];
    let g0 = DY[i];
    let g1 = DY[i + R];
    let g2 = DY[i + 2u * R];
    let g3 = DY[i + 3u * R];
    OUT[i] = a * (g0 - k1 - (x0 - mean) * k2);
    OUT[i + R] = a * (g1 - k1 - (x1 - mean) * k2);
    OUT[i + 2u * R] = a * (g2 - k1 - (x2 - mean) * k2);
    OUT[i + 3u * R] = a * (g3 - k1 - (x3 - mean) * k2);
  }
  for (; i < end; i += R) {
    OUT[i] = a * (DY[i] - k1 - (X[i] - mean) * k2);
  }
}

@compute @workgroup_size(64)
fn running(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= P.C) {
    return;
  }
  OUT[c] = (1.0 - P.momentum) * X[c] + P.momentum * (P.scale * VAR[P.var_off + c]);
}
