// The 64x64 output tile of the implicit-GEMM convolutions (conv2d_gemm.wgsl,
// conv2d_gemm_input.wgsl): a 16x16 workgroup, each thread 4x4 outputs 16 apart, over K in
// slices of 16. Each kernel loads its own A slice (im2col of its input) into AS and hands its
// thread's four B values to gemm_step.

// The K slice of A [k][m] and of B [k][n]: 2 x 16 x 64 floats, 8 KiB.
var<workgroup> AS: array<array<f32, 64>, 16>;
var<workgroup> BS: array<array<f32, 64>, 16>;

// Which tile a workgroup computes: rows m0 .. m0+63 (output positions), columns n0 .. n0+63 of
// group g. Blocks run positions fastest, then column blocks (nblocks of them), then groups, so
// that neighbouring blocks share their weights.
struct GemmBlock {
  m0: u32,
  n0: u32,
  g: u32,
}

fn gemm_block(block: u32, M: u32, nblocks: u32) -> GemmBlock {
  let mblocks = (M + 63u) / 64u;
  let r = block / mblocks;
  return GemmBlock((block % mblocks) * 64u, (r % nblocks) * 64u, r / nblocks);
}

// One K slice: stores this thread's B values (taps 4*bq .. 4*bq + 3 of column bn), waits for the
// whole slice, adds the thread's products to acc (acc[i][j]: row tx + 16i, column ty + 16j), and
// waits again so that the next slice may be loaded.
fn gemm_step(bq: u32, bn: u32, wv: vec4<f32>, tx: u32, ty: u32, acc: ptr<function, array<vec4<f32>, 4>>) {
  BS[4u * bq][bn] = wv.x;
  BS[4u * bq + 1u][bn] = wv.y;
  BS[4u * bq + 2u][bn] = wv.z;
  BS[4u * bq + 3u][bn] = wv.w;
  workgroupBarrier();
  for (var kk = 0u; kk < 16u; kk++) {
    let a = vec4<f32>(AS[kk][tx], AS[kk][tx + 16u], AS[kk][tx + 32u], AS[kk][tx + 48u]);
    let b = vec4<f32>(BS[kk][ty], BS[kk][ty + 16u], BS[kk][ty + 32u], BS[kk][ty + 48u]);
    (*acc)[0] += a.x * b;
    (*acc)[1] += a.y * b;
    (*acc)[2] += a.z * b;
    (*acc)[3] += a.w * b;
  }
  workgroupBarrier();
}
