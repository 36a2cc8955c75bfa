// 2-D convolution, NCHW, direct (no im2col buffer): out[n,f,oh,ow] = sum over c, kh, kw of
// x[n, g*cpg + c, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw] * w[f, c, kh, kw] (+ bias[f], then ReLU).
//
// Each thread keeps a register tile of 4 filters (one vec4) x 2 output rows x 4 adjacent output
// columns, so every loaded input value feeds 4 FMAs and every loaded weight feeds 8. There is no
// workgroup memory and no barrier: CPU adapters (SwiftShader) run such kernels far faster, and on
// a GPU neighbouring threads read neighbouring columns. Padding is read as 0 through a clamped
// load. With stride 1 and dilation 1 along w (SLIDE), the 4 input columns a thread needs for tap
// kw+1 are those of tap kw shifted by one, so each tap loads one new input value per row.

struct Params {
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
  cpg: u32,
  fpg: u32,
  fblocks: u32,
  owblocks: u32,
}

override HAS_BIAS: u32 = 0u;
// 0 none, 1 relu.
override ACT: u32 = 0u;
override SLIDE: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> WT: array<f32>;
@group(0) @binding(3) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<storage, read_write> OUT: array<f32>;

// x[row + iw], or 0 where iw falls in the padding.
fn ld(row: u32, iw: i32) -> f32 {
  let v = X[row + u32(clamp(iw, 0, i32(P.W) - 1))];
  return select(0.0, v, iw >= 0 && iw < i32(P.W));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= P.total) {
    return;
  }
  // Thread order (fastest first): column block, row pair, filter block, group, image; so a
  // workgroup mostly shares its filters and reads neighbouring columns.
  let owb = i % P.owblocks;
  var r = i / P.owblocks;
  let ohb = (P.OH + 1u) / 2u;
  let oh = (r % ohb) * 2u;
  r = r / ohb;
  let gfb = r % (P.groups * P.fblocks);
  let n = r / (P.groups * P.fblocks);
  let g = gfb / P.fblocks;
  let fb = gfb - g * P.fblocks;
  let ow0 = owb * 4u;

  // Filters past the group's last one (F not a multiple of 4) re-read a valid filter and are
  // never stored.
  let ksize = P.KH * P.KW;
  let fstride = P.cpg * ksize;
  let f0 = g * P.fpg;
  let fi = vec4<u32>(f0) + min(vec4<u32>(fb * 4u) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(P.fpg - 1u));
  let w0 = fi.x * fstride;
  let w1 = fi.y * fstride;
  let w2 = fi.z * fstride;
  let w3 = fi.w * fstride;

  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  var acc4 = vec4<f32>(0.0);
  var acc5 = vec4<f32>(0.0);
  var acc6 = vec4<f32>(0.0);
  var acc7 = vec4<f32>(0.0);
  let plane = P.H * P.W;
  let col0 = i32(ow0 * P.sw) - i32(P.pl);
  // The second row of the tile; past the last output row it re-reads the first.
  let oh1 = min(oh + 1u, P.OH - 1u);
  for (var c = 0u; c < P.cpg; c++) {
    let xc = (n * P.C + g * P.cpg + c) * plane;
    for (var kh = 0u; kh < P.KH; kh++) {
      let iha = i32(oh * P.sh + kh * P.dh) - i32(P.pt);
      let ihb = i32(oh1 * P.sh + kh * P.dh) - i32(P.pt);
      let oka = iha >= 0 && iha < i32(P.H);
      let okb = ihb >= 0 && ihb < i32(P.H);
      if (!oka && !okb) {
        continue;
      }
      let rowa = xc + u32(clamp(iha, 0, i32(P.H) - 1)) * P.W;
      let rowb = xc + u32(clamp(ihb, 0, i32(P.H) - 1)) * P.W;
      let ma = select(0.0, 1.0, oka);
      let mb = select(0.0, 1.0, okb);
      let wk = c * ksize + kh * P.KW;
      if (SLIDE == 1u) {
        var a0 = ld(rowa, col0) * ma;
        var a1 = ld(rowa, col0 + 1) * ma;
        var a2 = ld(rowa, col0 + 2) * ma;
        var b0 = ld(rowb, col0) * mb;
        var b1 = ld(rowb, col0 + 1) * mb;
        var b2 = ld(rowb, col0 + 2) * mb;
        for (var kw = 0u; kw < P.KW; kw++) {
          let a3 = ld(rowa, col0 + i32(kw) + 3) * ma;
          let b3 = ld(rowb, col0 + i32(kw) + 3) * mb;
          let k = wk + kw;
          let wv = vec4<f32>(WT[w0 + k], WT[w1 + k], WT[w2 + k], WT[w3 + k]);
          acc0 += a0 * wv;
          acc1 += a1 * wv;
          acc2 += a2 * wv;
          acc3 += a3 * wv;
          acc4 += b0 * wv;
          acc5 += b1 * wv;
          acc6 += b2 * wv;
          acc7 += b3 * wv;
          a0 = a1;
          a1 = a2;
          a2 = a3;
          b0 = b1;
          b1 = b2;
          b2 = b3;
        }
      } else {
        let s = i32(P.sw);
        for (var kw = 0u; kw < P.KW; kw++) {
          let c0 = col0 + i32(kw * P.dw);
          let k = wk + kw;
          let wv = vec4<f32>(WT[w0 + k], WT[w1 + k], WT[w2 + k], WT[w3 + k]);
          acc0 += ld(rowa, c0) * ma * wv;
          acc1 += ld(rowa, c0 + s) * ma * wv;
          acc2 += ld(rowa, c0 + 2 * s) * ma * wv;
          acc3 += ld(rowa, c0 + 3 * s) * ma * wv;
          acc4 += ld(rowb, c0) * mb * wv;
          acc5 += ld(rowb, c0 + s) * mb * wv;
          acc6 += ld(rowb, c0 + 2 * s) * mb * wv;
          acc7 += ld(rowb, c0 + 3 * s) * mb * wv;
        }
      }
    }
  }

  var bias = vec4<f32>(0.0);
  if (HAS_BIAS == 1u) {
    bias = vec4<f32>(BIAS[fi.x], BIAS[fi.y], BIAS[fi.z], BIAS[fi.w]);
  }
  let cols = array<vec4<f32>, 8>(acc0 + bias, acc1 + bias, acc2 + bias, acc3 + bias, acc4 + bias, acc5 + bias, acc6 + bias, acc7 + bias);
  let out_plane = P.OH * P.OW;
  let base = (n * P.F + f0 + fb * 4u) * out_plane + oh * P.OW;
  let nf = min(4u, P.fpg - fb * 4u);
  let nr = min(2u, P.OH - oh);
  for (var q = 0u; q < 8u; q++) {
    let ow = ow0 + (q & 3u);
    let row = q >> 2u;
    if (ow < P.OW && row < nr) {
      var v = cols[q];
      if (ACT == 1u) {
        v = max(v, vec4<f32>(0.0));
      }
      for (var j = 0u; j < nf; j++) {
        OUT[base + j * out_plane + row * P.OW + ow] = v[j];
      }
    }
  }
}
