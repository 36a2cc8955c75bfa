// Average pooling over NCHW planes and its gradient. Padding counts as zeros inside every
// window's divisor, which is always kh*kw (PyTorch's count_include_pad=True; with floor-mode
// output sizes no window reaches past the padding).
// Forward: one thread per output element (a window is a few loads, so a register tile would not
// pay). Backward: a gather, one thread per input element summing the output gradients of the
// windows that cover it, so nothing is written twice and no atomics are needed; the covering
// windows cost 4 divisions per thread. SwiftShader pays a lot per loop iteration, so the common
// cases take loop-free paths: the 2x2 unpadded window (K2) forward, and non-overlapping windows
// (NONOVERLAP, stride >= kernel size), where an element has at most one window, backward.
// Params and the window helpers are shared with max_pool2d.wgsl through lib/pool.wgsl.

#include "lib/pool.wgsl"

// 1 for a 2x2 window without padding: every tap is in bounds, and the forward window is unrolled.
override K2: u32 = 0u;
// 1 when stride >= kernel size along both axes: the backward gather needs no loop.
override NONOVERLAP: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
// x in the forward pass, dy in the backward pass.
@group(0) @binding(1) var<storage, read> SRC: array<f32>;
// The pooled output forward, dx backward.
@group(0) @binding(2) var<storage, read_write> DST: array<f32>;

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= P.total) {
    return;
  }
  let win = window_of(i);
  if (K2 == 1u) {
    let b = win.plane + u32(win.h0) * P.W + u32(win.w0);
    DST[i] = (SRC[b] + SRC[b + 1u] + SRC[b + P.W] + SRC[b + P.W + 1u]) * 0.25;
    return;
  }
  let hs = max(win.h0, 0);
  let he = min(win.h0 + i32(P.kh), i32(P.H));
  let ws = max(win.w0, 0);
  let we = min(win.w0 + i32(P.kw), i32(P.W));
  var sum = 0.0;
  for (var ih = hs; ih < he; ih++) {
    let row = win.plane + u32(ih * i32(P.W));
    for (var iw = ws; iw < we; iw++) {
      sum += SRC[row + u32(iw)];
    }
  }
  DST[i] = sum / f32(P.kh * P.kw);
}

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= P.total) {
    return;
  }
  if (NONOVERLAP == 1u) {
    let o = only_window(i);
    DST[i] = select(0.0, SRC[u32(max(o, 0))], o >= 0) / f32(P.kh * P.kw);
    return;
  }
  let r = range_of(i);
  var sum = 0.0;
  for (var oh = r.oh0; oh < r.oh1; oh++) {
    let row = r.plane + oh * P.OW;
    for (var ow = r.ow0; ow < r.ow1; ow++) {
      sum += SRC[row + ow];
    }
  }
  DST[i] = sum / f32(P.kh * P.kw);
}
