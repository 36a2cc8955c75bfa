// Max pooling over NCHW planes and its gradient. Padding counts as -infinity, as in PyTorch.
// The forward pass writes, per output, the flat index ih*W + iw of its winner within the plane
// (PyTorch's return_indices); the backward pass passes each window's gradient to that element
// only, instead of searching the window again.
// Forward: one thread per output element (a window is a few loads, so a register tile would not
// pay). Backward: a gather, one thread per input element summing the output gradients of the
// windows that cover it, so nothing is written twice and no atomics are needed; the covering
// windows cost 4 divisions per thread. SwiftShader pays a lot per loop iteration, so the common
// cases take loop-free paths: the 2x2 unpadded window (K2) forward, and non-overlapping windows
// (NONOVERLAP, stride >= kernel size), where an element has at most one window, backward; when
// 2x2 windows tile the plane exactly (TILE2), the backward pass runs per window instead.
// Params and the window helpers are shared with avg_pool2d.wgsl through lib/pool.wgsl.

#include "lib/pool.wgsl"
#include "lib/epilogue.wgsl"

// 1 for a 2x2 window without padding: every tap is in bounds, and the forward window is unrolled.
override K2: u32 = 0u;
// 1 when stride >= kernel size along both axes: the backward gather needs no loop.
override NONOVERLAP: u32 = 0u;
// 1 when unpadded 2x2 windows at stride 2 tile the planes exactly (even H and W): the backward
// pass then runs one thread per window, writing its 4 input gradients (the winner's dy, 3 zeros)
// from one dy and one argmax load, instead of a thread per input element that finds its window.
override TILE2: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
// x in the forward pass, dy in the backward pass.
@group(0) @binding(1) var<storage, read> SRC: array<f32>;
// The pooled output forward, dx backward.
@group(0) @binding(2) var<storage, read_write> DST: array<f32>;
// Argmax indices: written forward, read backward.
@group(0) @binding(3) var<storage, read_write> ARG: array<i32>;

#include "lib/float.wgsl"

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= P.total) {
    return;
  }
  let win = window_of(i);
  if (K2 == 1u) {
    let at0 = win.h0 * i32(P.W) + win.w0;
    let b = win.plane + u32(at0);
    var best = SRC[b];
    var at = at0;
    let v1 = SRC[b + 1u];
    if (v1 > best || v1 != v1) {
      best = v1;
      at = at0 + 1;
    }
    let v2 = SRC[b + P.W];
    if (v2 > best || v2 != v2) {
      best = v2;
      at = at0 + i32(P.W);
    }
    let v3 = SRC[b + P.W + 1u];
    if (v3 > best || v3 != v3) {
      best = v3;
      at = at0 + i32(P.W) + 1;
    }
    DST[i] = best;
    ARG[i] = at;
    return;
  }
  let hs = max(win.h0, 0);
  let he = min(win.h0 + i32(P.kh), i32(P.H));
  let ws = max(win.w0, 0);
  let we = min(win.w0 + i32(P.kw), i32(P.W));
  // As PyTorch: the first strict maximum wins ties, and a NaN wins over everything.
  var best = neg_inf();
  var at = hs * i32(P.W) + ws;
  for (var ih = hs; ih < he; ih++) {
    let row = ih * i32(P.W);
    for (var iw = ws; iw < we; iw++) {
      let v = SRC[win.plane + u32(row + iw)];
      if (v > best || v != v) {
        best = v;
        at = row + iw;
      }
    }
  }
  DST[i] = best;
  ARG[i] = at;
}

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= P.total) {
    return;
  }
  if (TILE2 == 1u) {
    let win = window_of(i);
    let at0 = win.h0 * i32(P.W) + win.w0;
    let b = win.plane + u32(at0);
    let a = ARG[i];
    let g = SRC[i];
    DST[b] = epilogue(select(0.0, g, a == at0), b);
    DST[b + 1u] = epilogue(select(0.0, g, a == at0 + 1), b + 1u);
    DST[b + P.W] = epilogue(select(0.0, g, a == at0 + i32(P.W)), b + P.W);
    DST[b + P.W + 1u] = epilogue(select(0.0, g, a == at0 + i32(P.W) + 1), b + P.W + 1u);
    return;
  }
  if (NONOVERLAP == 1u) {
    let o = only_window(i);
    let oc = u32(max(o, 0));
    let r = i / P.W;
    let at = i32((r % P.H) * P.W + i % P.W);
    DST[i] = epilogue(select(0.0, SRC[oc], o >= 0 && ARG[oc] == at), i);
    return;
  }
  let r = range_of(i);
  var sum = 0.0;
  for (var oh = r.oh0; oh < r.oh1; oh++) {
    let row = r.plane + oh * P.OW;
    for (var ow = r.ow0; ow < r.ow1; ow++) {
      if (ARG[row + ow] == r.at) {
        sum += SRC[row + ow];
      }
    }
  }
  DST[i] = epilogue(sum, i);
}
