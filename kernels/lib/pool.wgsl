// The uniform block and window helpers shared by max_pool2d.wgsl and avg_pool2d.wgsl (POOL in
// packages/webgpu/src/spec.ts). The helpers read the including kernel's uniform `P: Params`.
// window_of maps an output element to its window; range_of (overlapping windows) and only_window
// (non-overlapping ones) map an input element to the windows covering it, for the backward gather.

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

struct Window {
  plane: u32,
  h0: i32,
  w0: i32,
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
