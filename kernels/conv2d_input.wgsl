// Gradient of conv2d with respect to its input: a transposed convolution in gather form. Each
// thread owns input-gradient elements and sums, over the filters of its group and the taps,
// every output gradient whose window covered them, so no two threads write the same element
// and no atomics are needed:
//   dx[n, c, ih, iw] = sum over f, kh, kw of dy[n, f, oh, ow] * w[f, c - g*cpg, kh, kw]
//   where oh*sh = ih + pt - kh*dh and ow*sw = iw + pl - kw*dw (exact divisions, in range).
//
// The register tile is 4 input channels (one vec4) x 2 rows x 4 columns: each output gradient
// loaded feeds 4 FMAs and each weight feeds 8. With dilation 1 along w (SLIDE) and a stride s,
// the tile's columns are s apart (iw = qw + s*(4b + j), one phase qw of the s), so they all take
// the same taps kw = qw + pl (mod s), and walking those taps backwards shifts the 4 needed dy
// columns by one: a tap loads one new value per row, taps whose columns all miss the output row
// are skipped, and no tap is visited that a column cannot use (a stride-2 3x3 convolution would
// otherwise spend 3/4 of its work on taps that miss). The rows go the same way with dilation 1
// along h (tile rows s_h apart, taps kh = qh + pt (mod s_h)).
//
// Params is shared by the conv2d kernels (lib/conv.wgsl); of its per-kernel fields this one
// reads cblocks and iwblocks.

#include "lib/conv.wgsl"
#include "lib/epilogue.wgsl"

override SLIDE: u32 = 0u;
// Phases along w and h: the stride where the dilation is 1 (the tile's columns, or rows, are
// that far apart), else 1 (adjacent columns or rows, each tap checked).
override MW: u32 = 1u;
override MH: u32 = 1u;
// 1 (with SLIDE only) to take the filters two at a time: the window set-up and the loop's
// overhead then serve twice the FMAs. Off for a single one, whose partner would be masked work.
override PAIR: u32 = 0u;
override BATCH_FASTEST: u32 = 0u;
// Channels per thread, 1 to 4 (3 for LeNet's 6: no idle lanes).
override CPT: u32 = 4u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> DY: array<f32>;
@group(0) @binding(2) var<storage, read> WT: array<f32>;
@group(0) @binding(3) var<storage, read_write> DX: array<f32>;

// dy[row + ow], or 0 where ow is outside the output row.
fn ld(row: u32, ow: i32) -> f32 {
  let v = DY[row + u32(clamp(ow, 0, i32(P.OW) - 1))];
  return select(0.0, v, ow >= 0 && ow < i32(P.OW));
}

// dy at output column (iw + pl - kw*dw) / sw when that is an exact, in-range column.
fn ld_strided(row: u32, num: i32) -> f32 {
  let s = i32(P.sw);
  let ow = num / s;
  return select(0.0, ld(row, ow), num >= 0 && ow * s == num);
}

// The weights of tap k for the thread's CPT channels (offsets cl); lanes past CPT stay 0.
fn weights(k: u32, cl: vec4<u32>) -> vec4<f32> {
  var wv = vec4<f32>(WT[k + cl.x], 0.0, 0.0, 0.0);
  if (CPT > 1u) {
    wv.y = WT[k + cl.y];
  }
  if (CPT > 2u) {
    wv.z = WT[k + cl.z];
  }
  if (CPT > 3u) {
    wv.w = WT[k + cl.w];
  }
  return wv;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= P.total) {
    return;
  }
  // Thread order (fastest first): column block, row pair, phase, channel block, group, image; or
  // with BATCH_FASTEST, image first. Neighbouring threads then share every bound and skip, which
  // a CPU adapter, running a few threads in lockstep SIMD lanes, needs to skip taps at all.
  let ihb = ((P.H + MH - 1u) / MH + 1u) / 2u;
  let phases = MH * MW;
  let gcbs = P.groups * P.cblocks;
  var r = i;
  var n = 0u;
  if (BATCH_FASTEST == 1u) {
    let N = P.total / (gcbs * phases * ihb * P.iwblocks);
    n = r % N;
    r = r / N;
  }
  let iwb = r % P.iwblocks;
  r = r / P.iwblocks;
  let rb = r % ihb;
  r = r / ihb;
  let q = r % phases;
  r = r / phases;
  let qw = q % MW;
  let qh = q / MW;
  let ih = qh + rb * 2u * MH;
  let gcb = r % gcbs;
  if (BATCH_FASTEST == 0u) {
    n = r / gcbs;
  }
  let g = gcb / P.cblocks;
  let cb = gcb - g * P.cblocks;
  let iw0 = qw + iwb * 4u * MW;

  // Channels past the group's last one re-read a valid weight and are never stored.
  let ksize = P.KH * P.KW;
  let cl = min(vec4<u32>(cb * CPT) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(P.cpg - 1u)) * ksize;
  let oplane = P.OH * P.OW;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  var acc4 = vec4<f32>(0.0);
  var acc5 = vec4<f32>(0.0);
  var acc6 = vec4<f32>(0.0);
  var acc7 = vec4<f32>(0.0);
  // The second row of the tile; past the last input row it recomputes the first.
  let ih1 = min(ih + MH, P.H - 1u);
  let col = i32(iw0 + P.pl);
  // SLIDE: the phase's taps are kw = klast - MW*t for t < T (klast the last kw = col (mod MW));
  // tap t reads dy columns s0+t .. s0+t+3. Skip the t where all 4 miss.
  let kfirst = u32(col) % MW;
  let T = select(0u, (P.KW - 1u - kfirst) / MW + 1u, kfirst < P.KW);
  let klast = kfirst + (T - 1u) * MW;
  // Exact: col - klast is a multiple of MW.
  let s0 = (col - i32(klast)) / i32(MW);
  let t0 = u32(clamp(-s0 - 3, 0, i32(T)));
  let t1 = u32(clamp(i32(P.OW) - s0, 0, i32(T)));
  let sh = i32(P.sh);
  // The taps kh of the rows' phase (all of them when MH is 1) whose output row exists for row
  // ih or ih1: with dilation 1 along h a range, found once, and no division per tap.
  var kh0 = 0u;
  var kh1 = P.KH;
  var khstep = 1u;
  if (P.dh == 1u) {
    khstep = MH;
    kh0 = (ih + P.pt) % MH;
    // The first output row ih can reach is (ih + pt - kh) / sh < OH.
    let need = i32(ih + P.pt) - i32(P.OH - 1u) * i32(MH);
    if (need > i32(kh0)) {
      kh0 += ((u32(need) - kh0 + MH - 1u) / MH) * MH;
    }
    kh1 = min(P.KH, ih1 + P.pt + 1u);
  }
  for (var f = 0u; f < P.fpg; f += 1u + PAIR) {
    let fa = g * P.fpg + f;
    let dyf = (n * P.F + fa) * oplane;
    let wf = fa * P.cpg * ksize;
    for (var kh = kh0; kh < kh1; kh += khstep) {
      let na = i32(ih + P.pt) - i32(kh * P.dh);
      let nb = i32(ih1 + P.pt) - i32(kh * P.dh);
      let oha = na / sh;
      let ohb = nb / sh;
      let oka = na >= 0 && oha * sh == na && oha < i32(P.OH);
      let okb = nb >= 0 && ohb * sh == nb && ohb < i32(P.OH);
      if (!oka && !okb) {
        continue;
      }
      let rowa = dyf + u32(clamp(oha, 0, i32(P.OH) - 1)) * P.OW;
      let rowb = dyf + u32(clamp(ohb, 0, i32(P.OH) - 1)) * P.OW;
      let ma = select(0.0, 1.0, oka);
      let mb = select(0.0, 1.0, okb);
      let wk = wf + kh * P.KW;
      if (SLIDE == 1u) {
        // Two filters per pass (f and f + 1; past the last one, masked): the window setup and the
        // loop's overhead are shared by twice the FMAs.
        let has2 = PAIR == 1u && f + 1u < P.fpg;
        let rowa2 = rowa + select(0u, oplane, has2);
        let rowb2 = rowb + select(0u, oplane, has2);
        let ma2 = select(0.0, ma, has2);
        let mb2 = select(0.0, mb, has2);
        let wk2 = wk + select(0u, P.cpg * ksize, has2);
        let c0 = s0 + i32(t0);
        var a0 = ld(rowa, c0) * ma;
        var a1 = ld(rowa, c0 + 1) * ma;
        var a2 = ld(rowa, c0 + 2) * ma;
        var b0 = ld(rowb, c0) * mb;
        var b1 = ld(rowb, c0 + 1) * mb;
        var b2 = ld(rowb, c0 + 2) * mb;
        var p0 = 0.0;
        var p1 = 0.0;
        var p2 = 0.0;
        var q0 = 0.0;
        var q1 = 0.0;
        var q2 = 0.0;
        if (PAIR == 1u) {
          p0 = ld(rowa2, c0) * ma2;
          p1 = ld(rowa2, c0 + 1) * ma2;
          p2 = ld(rowa2, c0 + 2) * ma2;
          q0 = ld(rowb2, c0) * mb2;
          q1 = ld(rowb2, c0 + 1) * mb2;
          q2 = ld(rowb2, c0 + 2) * mb2;
        }
        for (var t = t0; t < t1; t++) {
          let a3 = ld(rowa, s0 + i32(t) + 3) * ma;
          let b3 = ld(rowb, s0 + i32(t) + 3) * mb;
          let wv = weights(wk + klast - MW * t, cl);
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
            let p3 = ld(rowa2, s0 + i32(t) + 3) * ma2;
            let q3 = ld(rowb2, s0 + i32(t) + 3) * mb2;
            let wv2 = weights(wk2 + klast - MW * t, cl);
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
      } else {
        for (var kw = 0u; kw < P.KW; kw++) {
          let wv = weights(wk + kw, cl);
          let c0 = col - i32(kw * P.dw);
          acc0 += ld_strided(rowa, c0) * ma * wv;
          acc1 += ld_strided(rowa, c0 + 1) * ma * wv;
          acc2 += ld_strided(rowa, c0 + 2) * ma * wv;
          acc3 += ld_strided(rowa, c0 + 3) * ma * wv;
          acc4 += ld_strided(rowb, c0) * mb * wv;
          acc5 += ld_strided(rowb, c0 + 1) * mb * wv;
          acc6 += ld_strided(rowb, c0 + 2) * mb * wv;
          acc7 += ld_strided(rowb, c0 + 3) * mb * wv;
        }
      }
    }
  }

  // Stores name each accumulator and lane as a constant (no array indexed at run time), so
  // that the lanes past CPT are dead code: their FMAs are never emitted.
  let plane = P.H * P.W;
  let base = (n * P.C + g * P.cpg + cb * CPT) * plane + ih * P.W;
  let nc = min(CPT, P.cpg - cb * CPT);
  let ok0 = ih < P.H;
  let ok1 = ih + MH < P.H;
  let row1 = base + MH * P.W;
  put(base, iw0, nc, plane, acc0, ok0);
  put(base, iw0 + MW, nc, plane, acc1, ok0);
  put(base, iw0 + 2u * MW, nc, plane, acc2, ok0);
  put(base, iw0 + 3u * MW, nc, plane, acc3, ok0);
  put(row1, iw0, nc, plane, acc4, ok1);
  put(row1, iw0 + MW, nc, plane, acc5, ok1);
  put(row1, iw0 + 2u * MW, nc, plane, acc6, ok1);
  put(row1, iw0 + 3u * MW, nc, plane, acc7, ok1);
}

// Writes the first nc (<= CPT) channels of v to dx row `row` (channel planes `plane` apart) at
// column iw, if that column and row exist.
fn put(row: u32, iw: u32, nc: u32, plane: u32, v: vec4<f32>, ok: bool) {
  if (!ok || iw >= P.W) {
    return;
  }
  let o = row + iw;
  DX[o] = epilogue(v.x, o);
  if (CPT > 1u && nc > 1u) {
    DX[o + plane] = epilogue(v.y, o + plane);
  }
  if (CPT > 2u && nc > 2u) {
    DX[o + 2u * plane] = epilogue(v.z, o + 2u * plane);
  }
  if (CPT > 3u && nc > 3u) {
    DX[o + 3u * plane] = epilogue(v.w, o + 3u * plane);
  }
}
