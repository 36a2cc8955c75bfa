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
// The window helpers are the same in max_pool2d.wgsl and avg_pool2d.wgsl; keep them in step.

struct Params {
  total: u32,
  H: u32,
  W: u32,
  OH: u32,
  OW: u32,
  kh: u32,
  kw: u32,
  sh: u32,
  sw: u32,
  ph: u32,
  pw: u32,
}

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

struct Window {
  plane: u32,
  h0: i32,
  w0: i32,
}

// -inf, made at run time (a constant -inf is rejected by WGSL).
fn neg_inf() -> f32 {
  var bits = 0xff800000u;
  return bitcast<f32>(bits);
}

fn window_of(i: u32) -> Window {
  let ow = i % P.OW;
  let r = i / P.OW;
  let oh = r % P.OH;
  let nc = r / P.OH;
  return Window(nc * P.H * P.W, i32(oh * P.sh) - i32(P.ph), i32(ow * P.sw) - i32(P.pw));
}

struct Range {
  // Output plane offset, this element's index in its input plane, and the covering windows
  // [oh0, oh1) x [ow0, ow1).
  plane: u32,
  at: i32,
  oh0: u32,
  oh1: u32,
  ow0: u32,
  ow1: u32,
}

// Windows o with o*s - p <= i < o*s - p + k, i.e. (i + p - k + 1) / s <= o <= (i + p) / s.
fn first_window(i: u32, p: u32, k: u32, s: u32) -> u32 {
  let lo = i + p + 1u;
  return select(0u, (lo - k + s - 1u) / s, lo > k);
}

// The one window covering input element i when windows do not overlap: its flat output index,
// or -1 when i is in a gap between windows or past the last one.
fn only_window(i: u32) -> i32 {
  let iw = i % P.W;
  let r = i / P.W;
  let ih = r % P.H;
  let nc = r / P.H;
  let oh = (ih + P.ph) / P.sh;
  let ow = (iw + P.pw) / P.sw;
  let inside = oh < P.OH && ow < P.OW && ih + P.ph - oh * P.sh < P.kh && iw + P.pw - ow * P.sw < P.kw;
  return select(-1, i32((nc * P.OH + oh) * P.OW + ow), inside);
}

fn range_of(i: u32) -> Range {
  let iw = i % P.W;
  let r = i / P.W;
  let ih = r % P.H;
  let nc = r / P.H;
  let oh1 = min((ih + P.ph) / P.sh + 1u, P.OH);
  let ow1 = min((iw + P.pw) / P.sw + 1u, P.OW);
  return Range(nc * P.OH * P.OW, i32(ih * P.W + iw), first_window(ih, P.ph, P.kh, P.sh), oh1, first_window(iw, P.pw, P.kw, P.sw), ow1);
}

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
    DST[b] = select(0.0, g, a == at0);
    DST[b + 1u] = select(0.0, g, a == at0 + 1);
    DST[b + P.W] = select(0.0, g, a == at0 + i32(P.W));
    DST[b + P.W + 1u] = select(0.0, g, a == at0 + i32(P.W) + 1);
    return;
  }
  if (NONOVERLAP == 1u) {
    let o = only_window(i);
    let oc = u32(max(o, 0));
    let r = i / P.W;
    let at = i32((r % P.H) * P.W + i % P.W);
    DST[i] = select(0.0, SRC[oc], o >= 0 && ARG[oc] == at);
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
  DST[i] = sum;
}
