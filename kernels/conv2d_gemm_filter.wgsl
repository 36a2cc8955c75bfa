// Gradient of conv2d with respect to its filters, as an implicit GEMM for GPUs (the 'gemm'
// variant of conv2dBackpropFilter; conv2d_filter*.wgsl are the direct kernels for CPU adapters):
//   dw[g*fpg + f, t] = sum over k = (n, oh, ow) of A[f, k] * B[k, t]        (t = (c, kh, kw))
//   A[f, k] = dy[n, g*fpg + f, oh, ow]
//   B[k, t] = x[n, g*cpg + c, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw]    (0 in the padding)
// With BIAS, one more column t = cpg*KH*KW whose B is 1 yields the bias gradient sum(dy) in the
// same pass; output rows are then cpg*KH*KW + 1 long, as the direct kernels lay them out.
//
// M (filters) and N (taps) are small and K (every output position of the batch) is long, so one
// block per output tile would leave a GPU idle: the (n, oh) rows are split into `chunks` ranges
// (the slowest index of the block order), each block writing a partial dw to OUT [chunks, F,
// ntaps], which a reduce sums (with one chunk this kernel writes dw itself), as the direct
// kernels do.
//
// The blocking is conv2d_gemm.wgsl's: a 16x16 workgroup computes a 64 x 64 block (64 filters x
// 64 taps of one group), each thread 4x4 with filters and taps 16 apart, staging 16-deep K
// slices of A and B in workgroup memory (2 x 16 x 65 floats, 8.1 KiB; rows padded by one word so
// that loaders writing down a column hit distinct banks). A thread's taps are fixed for the
// whole K loop, so it decodes their (c, kh, kw) offsets once; per step it decodes one position
// k. Neighbouring threads take neighbouring positions, so with stride 1 they read neighbouring x
// and dy columns. x loads are scalar (a gather: x is NCHW, a position's taps are scattered).
// dy rows are contiguous along k, so with VEC (OH*OW and the chunk length multiples of 4, so
// that 4 aligned positions never straddle an image) a thread loads 4 positions of one filter as
// one vec4; otherwise as scalars.
//
// Params is shared by the conv2d kernels (lib/conv.wgsl); of its per-kernel fields this one
// reads fblocks (blocks of 64 filters per group), tblocks (blocks of 64 taps, the bias column
// included), rows (n*OH) and rows_per_chunk; total is the number of threads in whole blocks
// (256 per block).

#include "lib/conv.wgsl"

override BIAS: u32 = 0u;
// 1 when 4 aligned positions of a chunk always lie in one image: dy loads as vec4.
override VEC: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
// Declared as vec4 so that VEC loads are single 16-byte loads; scalar loads pick a lane.
@group(0) @binding(2) var<storage, read> DY: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;

// The K slice of A [k][f] and of B [k][t].
var<workgroup> AS: array<array<f32, 65>, 16>;
var<workgroup> BS: array<array<f32, 65>, 16>;

fn dy_at(e: u32) -> f32 {
  return DY[e / 4u][e % 4u];
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  // Blocks past the last (the grid folds into y above 65535 blocks) leave as a whole, before
  // any barrier.
  let block = wid.x + wid.y * nwg.x;
  if (block * 256u >= P.total) {
    return;
  }
  let ksize = P.KH * P.KW;
  let taps = P.cpg * ksize;
  let ntaps = taps + BIAS;
  // Block order (fastest first): tap block, filter block, group, chunk.
  let tb = block % P.tblocks;
  var r = block / P.tblocks;
  let fb = r % P.fblocks;
  r = r / P.fblocks;
  let g = r % P.groups;
  let chunk = r / P.groups;
  let t0 = tb * 64u;
  let f0 = fb * 64u;
  let kbeg = chunk * P.rows_per_chunk * P.OW;
  let kend = min((chunk + 1u) * P.rows_per_chunk, P.rows) * P.OW;
  let tx = lid.x;
  let ty = lid.y;
  let tid = ty * 16u + tx;
  let plane = P.H * P.W;
  let oplane = P.OH * P.OW;
  let H = i32(P.H);
  let W = i32(P.W);

  // B loader: position k0 + bk of each step, taps t0 + bt + 16q (offsets decoded once).
  let bk = tid % 16u;
  let bt = tid / 16u;
  var xoff = vec4<u32>(0u);
  var hoff = vec4<i32>(0);
  var woff = vec4<i32>(0);
  // Per tap: 0 outside the block's taps, 1 for an x tap, 2 for the bias column.
  var kind = vec4<u32>(0u);
  for (var q = 0u; q < 4u; q++) {
    let t = t0 + bt + 16u * q;
    let tc = min(t, taps - 1u);
    let c = tc / ksize;
    let kk = tc - c * ksize;
    let kh = kk / P.KW;
    let kw = kk - kh * P.KW;
    xoff[q] = (g * P.cpg + c) * plane;
    hoff[q] = i32(kh * P.dh) - i32(P.pt);
    woff[q] = i32(kw * P.dw) - i32(P.pl);
    kind[q] = select(select(0u, 2u, t < ntaps), 1u, t < taps);
  }

  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k0 = kbeg; k0 < kend; k0 += 16u) {
    // A: dy of filters f0 .. f0 + 63 at positions k0 .. k0 + 15.
    if (VEC == 1u) {
      // Thread: positions 4*aq .. 4*aq + 3 of filter af, one vec4.
      let aq = tid % 4u;
      let af = tid / 4u;
      let k = k0 + 4u * aq;
      let kc = min(k, kend - 4u);
      let n = kc / oplane;
      let p = kc - n * oplane;
      let f = min(f0 + af, P.fpg - 1u);
      let v = select(vec4<f32>(0.0), DY[((n * P.F + g * P.fpg + f) * oplane + p) / 4u], k < kend && f0 + af < P.fpg);
      AS[4u * aq][af] = v.x;
      AS[4u * aq + 1u][af] = v.y;
      AS[4u * aq + 2u][af] = v.z;
      AS[4u * aq + 3u][af] = v.w;
    } else {
      // Thread: position ak of filters af + 16q.
      let ak = tid % 16u;
      let af = tid / 16u;
      let k = k0 + ak;
      let kc = min(k, kend - 1u);
      let n = kc / oplane;
      let p = kc - n * oplane;
      let yrow = (n * P.F + g * P.fpg) * oplane + p;
      for (var q = 0u; q < 4u; q++) {
        let fl = f0 + af + 16u * q;
        let v = dy_at(yrow + min(fl, P.fpg - 1u) * oplane);
        AS[ak][af + 16u * q] = select(0.0, v, k < kend && fl < P.fpg);
      }
    }
    // B: x at position k0 + bk for the thread's 4 taps.
    let k = k0 + bk;
    let kc = min(k, kend - 1u);
    let n = kc / oplane;
    let p = kc - n * oplane;
    let oh = p / P.OW;
    let ow = p - oh * P.OW;
    let ih = vec4<i32>(i32(oh * P.sh)) + hoff;
    let iw = vec4<i32>(i32(ow * P.sw)) + woff;
    let xi = vec4<u32>(n * P.C * plane) + xoff + vec4<u32>(clamp(ih, vec4<i32>(0), vec4<i32>(H - 1))) * P.W + vec4<u32>(clamp(iw, vec4<i32>(0), vec4<i32>(W - 1)));
    let inside = (ih >= vec4<i32>(0)) & (ih < vec4<i32>(H)) & (iw >= vec4<i32>(0)) & (iw < vec4<i32>(W));
    for (var q = 0u; q < 4u; q++) {
      let xv = select(0.0, X[xi[q]], inside[q] && kind[q] == 1u);
      BS[bk][bt + 16u * q] = select(select(xv, 1.0, kind[q] == 2u), 0.0, k >= kend);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) {
      let a = vec4<f32>(AS[kk][ty], AS[kk][ty + 16u], AS[kk][ty + 32u], AS[kk][ty + 48u]);
      let b = vec4<f32>(BS[kk][tx], BS[kk][tx + 16u], BS[kk][tx + 32u], BS[kk][tx + 48u]);
      acc0 += a.x * b;
      acc1 += a.y * b;
      acc2 += a.z * b;
      acc3 += a.w * b;
    }
    workgroupBarrier();
  }

  // acc<i>[j]: filter f0 + ty + 16i, tap t0 + tx + 16j; OUT is [chunks, F, ntaps].
  let base = chunk * P.F * ntaps + g * P.fpg * ntaps;
  put(base, f0 + ty, t0 + tx, ntaps, acc0);
  put(base, f0 + ty + 16u, t0 + tx, ntaps, acc1);
  put(base, f0 + ty + 32u, t0 + tx, ntaps, acc2);
  put(base, f0 + ty + 48u, t0 + tx, ntaps, acc3);
}

// Stores taps t, t + 16, t + 32, t + 48 of in-group filter f, those that exist.
fn put(base: u32, f: u32, t: u32, ntaps: u32, acc: vec4<f32>) {
  if (f >= P.fpg) {
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    if (t + 16u * j < ntaps) {
      OUT[base + f * ntaps + t + 16u * j] = acc[j];
    }
  }
}
