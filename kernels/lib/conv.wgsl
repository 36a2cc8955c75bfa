// The uniform block shared by the conv2d kernels (conv2d.wgsl, conv2d_input.wgsl,
// conv2d_filter.wgsl, conv2d_filter_rows.wgsl; CONV in packages/webgpu/src/spec.ts): the
// geometry first, then the thread-blocking and row-chunking fields of the separate kernels, each
// read only by the kernels named beside it (the others get 0).

struct Params {
  // Threads launched.
  total: u32,
  C: u32,
  H: u32,
  W: u32,
  F: u32,
  OH: u32,
  OW: u32,
  KH: u32,
  KW: u32,
  sh: u32,
  sw: u32,
  dh: u32,
  dw: u32,
  pt: u32,
  pl: u32,
  groups: u32,
  // Channels and filters per group.
  cpg: u32,
  fpg: u32,
  // Filter blocks per group: conv2d, conv2d_filter, conv2d_filter_rows.
  fblocks: u32,
  // Blocks of 4 output columns: conv2d.
  owblocks: u32,
  // Channel blocks per group and blocks of 4 input columns: conv2d_input.
  cblocks: u32,
  iwblocks: u32,
  // Tap blocks: conv2d_filter.
  tblocks: u32,
  // The (n, oh) rows and how many each chunk takes: conv2d_filter, conv2d_filter_rows.
  rows: u32,
  rows_per_chunk: u32,
}
