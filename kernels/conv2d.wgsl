// 2-D convolution, NCHW, direct (no im2col buffer): out[n,f,oh,ow] = sum over c, kh, kw of
// x[n, g*cpg + c, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw] * w[f, c, kh, kw] (+ bias[f], then ReLU).
//
// Each thread keeps a register tile of 4 filters (one vec4) x 2 output rows x 4 adjacent output
// columns, so every loaded input value feeds 4 FMAs and every loaded weight feeds 8. There is no
// workgroup memory and no barrier: CPU adapters (SwiftShader) run such kernels far faster, and on
// a GPU neighbouring threads read neighbouring columns. Padding is read as 0 through a clamped
// load. With stride 1 and dilation 1 along w (SLIDE), the 4 input columns a thread needs for tap
// kw+1 are those of tap kw shifted by one, so each tap loads one new input value per row, and
// channels go in pairs (PAIR), so that each window set-up and loop pass serves twice the FMAs.
//
// Params is shared by the conv2d kernels (lib/conv.wgsl); of its per-kernel fields this one
// reads fblocks and owblocks.

#include "lib/conv.wgsl"
#include "lib/epilogue.wgsl"

override HAS_BIAS: u32 = 0u;
// 0 none, 1 relu.
override ACT: u32 = 0u;
override SLIDE: u32 = 0u;
// The stride along w (SLIDE only). With a stride s, output column j of the tile reads input
// column col0 + kw + s*j, so the taps kw = p, p + s, p + 2s, ... of one phase p form a sliding
// window again, one new load per tap; the phases run one after another.
override SW: u32 = 1u;
// 1 (with SLIDE only) to take the channels two at a time: the window set-up and the loop's
// overhead then serve twice the FMAs. Off for a single one, whose partner would be masked work.
override PAIR: u32 = 0u;
// The kernel width, as a constant: the SLIDE tap loop then has a fixed trip count that the
// compiler unrolls (about 10% faster on SwiftShader).
override KWC: u32 = 5u;
// Filters per thread, 1 to 4 (3 for LeNet's 6: no idle lanes).
override FPT: u32 = 4u;

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

  // Filters past the group's last one (F not a multiple of FPT) re-read a valid filter and are
  // never stored.
  let ksize = P.KH * P.KW;
  let fstride = P.cpg * ksize;
  let f0 = g * P.fpg;
  let fi = vec4<u32>(f0) + min(vec4<u32>(fb * FPT) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(P.fpg - 1u));
  let wo = fi * fstride;

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
  for (var c = 0u; c < P.cpg; c += 1u + PAIR) {
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
        // Two channels per pass (c and c + 1; past the last one, masked): the window set-up
        // and the loop's overhead are shared by twice the FMAs.
        let has2 = PAIR == 1u && c + 1u < P.cpg;
        let rowa2 = rowa + select(0u, plane, has2);
        let rowb2 = rowb + select(0u, plane, has2);
        let ma2 = select(0.0, ma, has2);
        let mb2 = select(0.0, mb, has2);
        let wk2 = wk + select(0u, ksize, has2);
        let s = i32(SW);
        for (var p = 0u; p < min(SW, KWC); p++) {
          let cp = col0 + i32(p);
          var a0 = ld(rowa, cp) * ma;
          var a1 = ld(rowa, cp + s) * ma;
          var a2 = ld(rowa, cp + 2 * s) * ma;
          var b0 = ld(rowb, cp) * mb;
          var b1 = ld(rowb, cp + s) * mb;
          var b2 = ld(rowb, cp + 2 * s) * mb;
          var p0 = 0.0;
          var p1 = 0.0;
          var p2 = 0.0;
          var q0 = 0.0;
          var q1 = 0.0;
          var q2 = 0.0;
          if (PAIR == 1u) {
            p0 = ld(rowa2, cp) * ma2;
            p1 = ld(rowa2, cp + s) * ma2;
            p2 = ld(rowa2, cp + 2 * s) * ma2;
            q0 = ld(rowb2, cp) * mb2;
            q1 = ld(rowb2, cp + s) * mb2;
            q2 = ld(rowb2, cp + 2 * s) * mb2;
          }
          for (var kw = p; kw < KWC; kw += SW) {
            let a3 = ld(rowa, col0 + i32(kw) + 3 * s) * ma;
            let b3 = ld(rowb, col0 + i32(kw) + 3 * s) * mb;
            let wv = weights(wk + kw, wo);
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
            if (PAIR == 1u) {
              let p3 = ld(rowa2, col0 + i32(kw) + 3 * s) * ma2;
              let q3 = ld(rowb2, col0 + i32(kw) + 3 * s) * mb2;
              let wv2 = weights(wk2 + kw, wo);
              acc0 += p0 * wv2;
              acc1 += p1 * wv2;
              acc2 += p2 * wv2;
              acc3 += p3 * wv2;
              acc4 += q0 * wv2;
              acc5 += q1 * wv2;
              acc6 += q2 * wv2;
              acc7 += q3 * wv2;
              p0 = p1;
              p1 = p2;
              p2 = p3;
              q0 = q1;
              q1 = q2;
              q2 = q3;
            }
          }
        }
      } else {
        let s = i32(P.sw);
        for (var kw = 0u; kw < P.KW; kw++) {
          let c0 = col0 + i32(kw * P.dw);
          let wv = weights(wk + kw, wo);
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
  // Stores name each accumulator and lane as a constant (no array indexed at run time), so
  // that the lanes past FPT are dead code: their FMAs are never emitted.
  let out_plane = P.OH * P.OW;
  let base = (n * P.F + f0 + fb * FPT) * out_plane + oh * P.OW;
  let nf = min(FPT, P.fpg - fb * FPT);
  let ok1 = oh + 1u < P.OH;
  put(base, ow0, nf, out_plane, acc0 + bias, true);
  put(base, ow0 + 1u, nf, out_plane, acc1 + bias, true);
  put(base, ow0 + 2u, nf, out_plane, acc2 + bias, true);
  put(base, ow0 + 3u, nf, out_plane, acc3 + bias, true);
  put(base + P.OW, ow0, nf, out_plane, acc4 + bias, ok1);
  put(base + P.OW, ow0 + 1u, nf, out_plane, acc5 + bias, ok1);
  put(base + P.OW, ow0 + 2u, nf, out_plane, acc6 + bias, ok1);
  put(base + P.OW, ow0 + 3u, nf, out_plane, acc7 + bias, ok1);
}

// Writes the first nf (<= FPT) filters of v, after the activation, to output row `row` (filter
// planes `plane` apart) at column ow, if that column and row exist.
fn put(row: u32, ow: u32, nf: u32, plane: u32, acc: vec4<f32>, ok: bool) {
  if (!ok || ow >= P.OW) {
    return;
  }
  var v = acc;
  if (ACT == 1u) {
    v = max(v, vec4<f32>(0.0));
  }
  let o = row + ow;
  OUT[o] = epilogue(v.x, o);
  if (FPT > 1u && nf > 1u) {
    OUT[o + plane] = epilogue(v.y, o + plane);
  }
  if (FPT > 2u && nf > 2u) {
    OUT[o + 2u * plane] = epilogue(v.z, o + 2u * plane);
  }
  if (FPT > 3u && nf > 3u) {
    OUT[o + 3u * plane] = epilogue(v.w, o + 3u * plane);
  }
}

// The weights of tap k for the thread's FPT filters (offsets wo); lanes past FPT stay 0.
fn weights(k: u32, wo: vec4<u32>) -> vec4<f32> {
  var wv = vec4<f32>(WT[wo.x + k], 0.0, 0.0, 0.0);
  if (FPT > 1u) {
    wv.y = WT[wo.y + k];
  }
  if (FPT > 2u) {
    wv.z = WT[wo.z + k];
  }
  if (FPT > 3u) {
    wv.w = WT[wo.w + k];
  }
  return wv;
}
