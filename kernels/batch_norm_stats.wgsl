// Per-channel reductions of batch normalization, in two dispatches: `partial` reduces each
// thread's column chunk (a thread per (block, row position), see lib/batch_norm.wgsl) into two
// numbers in PART, and `combine` (a thread per channel) or `combine_rows` (a 64-thread
// workgroup per channel) merges a channel's chunks.
//   GRAD = 0 (batchNormStats): OUT [2, C] = mean, biased variance. Stable for large means: a
//     chunk is shifted by its channel's first value k and summed twice (its mean d, then the
//     squared deviations m2 from it), and the merge is Chan's: mean = k + sum(n d) / count,
//     m2 = sum(m2_chunk) + sum(n (d - d_all)^2). E[x^2] - E[x]^2 would lose every digit at 1e4.
//   GRAD = 1 (batchNormGradSums): OUT [2, C] = sum(dy), sum(dy * (x - mean)) / sqrt(var + eps).
// The row walks are unrolled by 4 (SwiftShader pays per loop iteration).

#include "lib/batch_norm.wgsl"

override GRAD: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> MEAN: array<f32>;
@group(0) @binding(3) var<storage, read> VAR: array<f32>;
@group(0) @binding(4) var<storage, read> DY: array<f32>;
@group(0) @binding(5) var<storage, read_write> PART: array<f32>;
@group(0) @binding(6) var<storage, read_write> OUT: array<f32>;

@compute @workgroup_size(64)
fn partial(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * 64u;
  let s = slot(t);
  if (!s.ok) {
    return;
  }
  let R = P.R;
  let end = s.n1 * R;
  let start = s.n0 * R + s.r;
  if (GRAD == 0u) {
    let k = X[s.c * P.inner];
    var sum = 0.0;
    var i = start;
    for (; i + 3u * R < end; i += 4u * R) {
      sum += ((X[i] - k) + (X[i + R] - k)) + ((X[i + 2u * R] - k) + (X[i + 3u * R] - k));
    }
    for (; i < end; i += R) {
      sum += X[i] - k;
    }
    let d = sum / f32(s.n1 - s.n0);
    var m2 = 0.0;
    i = start;
    for (; i + 3u * R < end; i += 4u * R) {
      let e0 = (X[i] - k) - d;
      let e1 = (X[i + R] - k) - d;
      let e2 = (X[i + 2u * R] - k) - d;
      let e3 = (X[i + 3u * R] - k) - d;
      m2 += (e0 * e0 + e1 * e1) + (e2 * e2 + e3 * e3);
    }
    for (; i < end; i += R) {
      let e = (X[i] - k) - d;
      m2 += e * e;
    }
    PART[2u * t] = d;
    PART[2u * t + 1u] = m2;
  } else {
    let mean = MEAN[s.c];
    var sum = 0.0;
    var dot = 0.0;
    var i = start;
    for (; i + 3u * R < end; i += 4u * R) {
      let g0 = DY[i];
      let g1 = DY[i + R];
      let g2 = DY[i + 2u * R];
      let g3 = DY[i + 3u * R];
      sum += (g0 + g1) + (g2 + g3);
      dot += (g0 * (X[i] - mean) + g1 * (X[i + R] - mean)) + (g2 * (X[i + 2u * R] - mean) + g3 * (X[i + 3u * R] - mean));
    }
    for (; i < end; i += R) {
      let g = DY[i];
      sum += g;
      dot += g * (X[i] - mean);
    }
    PART[2u * t] = sum;
    PART[2u * t + 1u] = dot / sqrt(VAR[P.var_off + s.c] + P.eps);
  }
}

// Thread t of `partial` for channel c's chunk q = b * inner + j, and that chunk's row count.
fn chunk_thread(c: u32, q: u32) -> u32 {
  let b = q / P.inner;
  return b * P.R + c * P.inner + (q - b * P.inner);
}

fn chunk_rows(q: u32) -> f32 {
  let b = q / P.inner;
  return f32(min(P.rows, (b + 1u) * P.block) - b * P.block);
}

// Over chunks first, first + step, ...: GRAD 0, (sum of rows * d, 0); GRAD 1, the two sums.
fn chunk_sums(c: u32, first: u32, step: u32) -> vec2<f32> {
  var acc = vec2<f32>(0.0, 0.0);
  for (var q = first; q < P.inner * P.blocks; q += step) {
    let t = chunk_thread(c, q);
    if (GRAD == 0u) {
      acc.x += chunk_rows(q) * PART[2u * t];
    } else {
      acc += vec2<f32>(PART[2u * t], PART[2u * t + 1u]);
    }
  }
  return acc;
}

// GRAD 0: the chunks' m2 plus rows * (d_chunk - d)^2, d the channel's mean offset.
fn chunk_m2(c: u32, d: f32, first: u32, step: u32) -> f32 {
  var m2 = 0.0;
  for (var q = first; q < P.inner * P.blocks; q += step) {
    let t = chunk_thread(c, q);
    let e = PART[2u * t] - d;
    m2 += PART[2u * t + 1u] + chunk_rows(q) * e * e;
  }
  return m2;
}

// GRAD 0: a = sum of rows * d, b = m2; GRAD 1: a, b = the sums.
fn store(c: u32, a: f32, b: f32) {
  if (GRAD == 0u) {
    let count = f32(P.rows * P.inner);
    OUT[c] = X[c * P.inner] + a / count;
    OUT[P.C + c] = b / count;
  } else {
    OUT[c] = a;
    OUT[P.C + c] = b;
  }
}

// A thread per channel, barrier-free: a CPU adapter's choice unless a channel has very many chunks.
@compute @workgroup_size(64)
fn combine(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c = gid.x + gid.y * nwg.x * 64u;
  if (c >= P.C) {
    return;
  }
  let s = chunk_sums(c, 0u, 1u);
  if (GRAD == 1u) {
    store(c, s.x, s.y);
  } else {
    store(c, s.x, chunk_m2(c, s.x / f32(P.rows * P.inner), 0u, 1u));
  }
}

var<workgroup> red: array<f32, 64>;

// The sum of v over the workgroup's 64 threads (called from uniform control flow).
fn wg_sum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var w = 32u; w > 0u; w >>= 1u) {
    if (lid < w) {
      red[lid] += red[lid + w];
    }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

// A 64-thread workgroup per channel, for a GPU (or a CPU with very many chunks per channel).
@compute @workgroup_size(64)
fn combine_rows(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let c = wid.x + wid.y * nwg.x;
  if (c >= P.C) {
    return;
  }
  let l = lid.x;
  let s = chunk_sums(c, l, 64u);
  let a = wg_sum(s.x, l);
  if (GRAD == 1u) {
    let b = wg_sum(s.y, l);
    if (l == 0u) {
      store(c, a, b);
    }
    return;
  }
  let m2 = wg_sum(chunk_m2(c, a / f32(P.rows * P.inner), l, 64u), l);
  if (l == 0u) {
    store(c, a, m2);
  }
}
