// Gradient of the fused softmax cross-entropy (cross_entropy.wgsl), one thread per logit:
//   dx[n,c] = (exp((x[n,c] - m_n) - l_n) * sum_c t[n,c] - t[n,c]) * dloss_n
// from the row statistics (m_n, l_n, sum_c t[n,c]) the forward pass saved; the target sum is 1
// for class ids and one-hot rows, but not for arbitrary (e.g. unnormalised) targets. Rows whose
// class id is outside [0, C) get NaN, like their loss.

struct Params {
  N: u32,
  C: u32,
}

// 1 when labels are int32 ids [N], 0 when they are float32 rows [N, C].
override LABEL_INT: u32 = 1u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> LABELS: array<u32>;
@group(0) @binding(3) var<storage, read> STATS: array<f32>;
@group(0) @binding(4) var<storage, read> DY: array<f32>;
@group(0) @binding(5) var<storage, read_write> DX: array<f32>;

#include "lib/float.wgsl"

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= P.N * P.C) {
    return;
  }
  let n = i / P.C;
  let c = i - n * P.C;
  let p = exp((X[i] - STATS[3u * n]) - STATS[3u * n + 1u]) * STATS[3u * n + 2u];
  var t = 0.0;
  var ok = true;
  if (LABEL_INT == 1u) {
    let label = bitcast<i32>(LABELS[n]);
    ok = label >= 0 && label < i32(P.C);
    t = select(0.0, 1.0, u32(label) == c);
  } else {
    t = bitcast<f32>(LABELS[i]);
  }
  DX[i] = select(nan(), (p - t) * DY[n], ok);
}
