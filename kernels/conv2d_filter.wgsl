// Gradient of conv2d with respect to its filters, for the shapes conv2d_filter_rows.wgsl does not
// take (stride or dilation along w, kernels wider than 8):
//   dw[f, c, kh, kw] = sum over n, oh, ow of dy[n, f, oh, ow] * x[n, g*cpg + c, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw]
//
// The reduction over n*OH*OW is long and the number of weights is small, so one thread per
// weight looping over the whole batch would leave most of the device idle (TensorFlow.js's
// slowest kernel). Instead the (n, oh) rows are split into `chunks` contiguous ranges that run in
// parallel, each writing a partial filter gradient; a reduce over the chunks follows (the op
// queues it; with one chunk this kernel writes the result directly).
//
// Each thread keeps a register tile of 8 filters (two vec4) x 4 taps, taps being (c, kh, kw)
// flattened so odd kernel sizes waste little: per output position it loads 8 dy values and 4
// (bounds-checked) input values and does 32 FMAs, with no workgroup memory and no barrier.
// With BIAS, one more tap whose input is always 1 yields the bias gradient sum(dy) in the same
// pass (it usually fills a tile slot that would otherwise be wasted); OUT rows are then
// cpg*KH*KW + 1 long.
//
// Params is shared by the conv2d kernels (lib/conv.wgsl); of its per-kernel fields this one
// reads fblocks, tblocks, rows and rows_per_chunk.

#include "lib/conv.wgsl"

override BIAS: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> DY: array<f32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= P.total) {
    return;
  }
  // Thread order (fastest first): tap block, filter block, group, chunk.
  let tb = i % P.tblocks;
  var r = i / P.tblocks;
  let gfb = r % (P.groups * P.fblocks);
  let chunk = r / (P.groups * P.fblocks);
  let g = gfb / P.fblocks;
  let fb = gfb - g * P.fblocks;

  // Taps past the last one (and filters past the group's last) recompute a valid one and are
  // never stored.
  let ksize = P.KH * P.KW;
  let taps = P.cpg * ksize;
  let ntaps = taps + BIAS;
  let tt = min(vec4<u32>(tb * 4u) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(ntaps - 1u));
  let bias_tap = tt == vec4<u32>(taps);
  let t = min(tt, vec4<u32>(taps - 1u));
  let tc = t / ksize;
  let tk = t - tc * ksize;
  let tkh = tk / P.KW;
  let tkw = tk - tkh * P.KW;
  let plane = P.H * P.W;
  // Offsets of each tap's input element relative to (oh*sh, ow*sw) of its image.
  let xch = (vec4<u32>(g * P.cpg) + tc) * plane;
  let hoff = vec4<i32>(tkh * P.dh) - vec4<i32>(i32(P.pt));
  let woff = vec4<i32>(tkw * P.dw) - vec4<i32>(i32(P.pl));
  let flast = vec4<u32>(P.fpg - 1u);
  let fia = vec4<u32>(g * P.fpg) + min(vec4<u32>(fb * 8u) + vec4<u32>(0u, 1u, 2u, 3u), flast);
  let fib = vec4<u32>(g * P.fpg) + min(vec4<u32>(fb * 8u) + vec4<u32>(4u, 5u, 6u, 7u), flast);
  let oplane = P.OH * P.OW;
  let H = i32(P.H);
  let W = i32(P.W);
  let wmax = vec4<i32>(W - 1);

  // acc<j><a|b>: tap j, filters 0-3 | 4-7 of the block.
  var acc0a = vec4<f32>(0.0);
  var acc1a = vec4<f32>(0.0);
  var acc2a = vec4<f32>(0.0);
  var acc3a = vec4<f32>(0.0);
  var acc0b = vec4<f32>(0.0);
  var acc1b = vec4<f32>(0.0);
  var acc2b = vec4<f32>(0.0);
  var acc3b = vec4<f32>(0.0);
  let row0 = chunk * P.rows_per_chunk;
  let row1 = min(row0 + P.rows_per_chunk, P.rows);
  var n = row0 / P.OH;
  var oh = row0 - n * P.OH;
  for (var row = row0; row < row1; row++) {
    let dyra = (vec4<u32>(n * P.F) + fia) * oplane + vec4<u32>(oh * P.OW);
    let dyrb = (vec4<u32>(n * P.F) + fib) * oplane + vec4<u32>(oh * P.OW);
    let ih = vec4<i32>(i32(oh * P.sh)) + hoff;
    let hok = (ih >= vec4<i32>(0)) & (ih < vec4<i32>(H));
    let xr = vec4<u32>(n * P.C * plane) + xch + vec4<u32>(clamp(ih, vec4<i32>(0), vec4<i32>(H - 1))) * P.W;
    for (var ow = 0u; ow < P.OW; ow++) {
      let da = vec4<f32>(DY[dyra.x + ow], DY[dyra.y + ow], DY[dyra.z + ow], DY[dyra.w + ow]);
      let db = vec4<f32>(DY[dyrb.x + ow], DY[dyrb.y + ow], DY[dyrb.z + ow], DY[dyrb.w + ow]);
      let iw = vec4<i32>(i32(ow * P.sw)) + woff;
      let ok = hok & (iw >= vec4<i32>(0)) & (iw <= wmax);
      let xi = xr + vec4<u32>(clamp(iw, vec4<i32>(0), wmax));
      let xv = select(select(vec4<f32>(0.0), vec4<f32>(X[xi.x], X[xi.y], X[xi.z], X[xi.w]), ok), vec4<f32>(1.0), bias_tap);
      acc0a += xv.x * da;
      acc1a += xv.y * da;
      acc2a += xv.z * da;
      acc3a += xv.w * da;
      acc0b += xv.x * db;
      acc1b += xv.y * db;
      acc2b += xv.z * db;
      acc3b += xv.w * db;
    }
    oh++;
    if (oh == P.OH) {
      oh = 0u;
      n++;
    }
  }

  // OUT is [chunks, F, ntaps].
  let accs = array<vec4<f32>, 8>(acc0a, acc1a, acc2a, acc3a, acc0b, acc1b, acc2b, acc3b);
  let base = chunk * P.F * ntaps + (g * P.fpg + fb * 8u) * ntaps + tb * 4u;
  let nf = min(8u, P.fpg - fb * 8u);
  let nt = min(4u, ntaps - tb * 4u);
  for (var j = 0u; j < nt; j++) {
    for (var q = 0u; q < nf; q++) {
      OUT[base + q * ntaps + j] = accs[j + (q >> 2u) * 4u][q & 3u];
    }
  }
}
