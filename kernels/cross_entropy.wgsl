// Softmax cross-entropy, fused: per row n of logits x [N, C], with m_n the row maximum and
// l_n = log(sum_c exp(x[n,c] - m_n)) (taken as log1p of the sum without the maximum's own 1, so it
// keeps full precision when one logit dominates),
//   loss_n = (m_n - x[n, label_n]) + l_n                      (int32 class ids)
//   loss_n = sum_c t[n,c] * ((m_n - x[n,c]) + l_n)            (probability / one-hot rows)
// The row statistics (m_n, l_n, sum_c t[n,c]) go to STATS [N, 3] for the gradient kernel
// (cross_entropy_backward.wgsl). Class ids outside [0, C) make that row's loss NaN: the ids live
// on the GPU, so the kernel is where they can be checked without a readback (see ts.checkLabels).

struct Params {
  N: u32,
  C: u32,
}

// 1 when labels are int32 ids [N], 0 when they are float32 rows [N, C].
override LABEL_INT: u32 = 1u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> LABELS: array<u32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(4) var<storage, read_write> STATS: array<f32>;

#include "lib/float.wgsl"

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = gid.x + gid.y * nwg.x * 64u;
  if (n >= P.N) {
    return;
  }
  let base = n * P.C;
  var m = neg_inf();
  var top = 0u;
  for (var c = 0u; c < P.C; c++) {
    let v = X[base + c];
    if (v > m) {
      m = v;
      top = c;
    }
  }
  var rest = 0.0;
  for (var c = 0u; c < P.C; c++) {
    rest += select(exp(X[base + c] - m), 0.0, c == top);
  }
  let l = log1p_pos(rest);
  STATS[3u * n] = m;
  STATS[3u * n + 1u] = l;
  if (LABEL_INT == 1u) {
    let label = bitcast<i32>(LABELS[n]);
    let ok = label >= 0 && label < i32(P.C);
    OUT[n] = select(nan(), (m - X[base + u32(clamp(label, 0, i32(P.C) - 1))]) + l, ok);
    STATS[3u * n + 2u] = 1.0;
  } else {
    var loss = 0.0;
    var tsum = 0.0;
    for (var c = 0u; c < P.C; c++) {
      let t = bitcast<f32>(LABELS[base + c]);
      // A zero target contributes nothing, even where the logit is -inf (0 * inf would be NaN).
      loss += select(t * ((m - X[base + c]) + l), 0.0, t == 0.0);
      tsum += t;
    }
    OUT[n] = loss;
    STATS[3u * n + 2u] = tsum;
  }
}
