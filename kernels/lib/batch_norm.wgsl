// The uniform block and thread layout shared by batch_norm_stats.wgsl and batch_norm.wgsl (BN in
// packages/webgpu/src/spec.ts). x is seen as [rows, C, inner] around the channel axis: a row of
// R = C * inner values, channel c at [c * inner, (c + 1) * inner). The per-element kernels run a
// thread per (block b, position r in the row): it walks rows [b * block, (b + 1) * block) at
// stride R, so it needs no division per element and keeps one channel's constants in registers,
// and neighbouring threads read neighbouring addresses (coalesced on a GPU, one cache line per
// SIMD group on a CPU).

struct Params {
  rows: u32,
  C: u32,
  inner: u32,
  R: u32,
  block: u32,
  blocks: u32,
  var_off: u32,
  eps: f32,
  momentum: f32,
  scale: f32,
}

// Thread t's block and row position, or false past the last thread.
struct Slot {
  ok: bool,
  r: u32,
  c: u32,
  n0: u32,
  n1: u32,
}

fn slot(t: u32) -> Slot {
  var s: Slot;
  s.ok = t < P.R * P.blocks;
  let b = t / max(P.R, 1u);
  s.r = t - b * P.R;
  s.c = s.r / P.inner;
  s.n0 = b * P.block;
  s.n1 = min(P.rows, s.n0 + P.block);
  return s;
}
