// Gradient of conv2d with respect to its filters, for stride 1 and dilation 1 along w and
// kernels at most 8 wide (LeNet's 5x5 among them):
//   dw[f, c, kh, kw] = sum over n, oh, ow of dy[n, f, oh, ow] * x[n, g*cpg + c, oh*sh - pt + kh*dh, ow - pl + kw]
//
// Each thread owns one kernel row (c, kh) for up to 8 filters: a register tile of KWT taps x NF
// filters. Walking along an output row, the KWT input values the taps need slide by one column
// per step, so each step loads one new input value and NF output gradients for KWT*NF FMAs,
// where conv2d_filter.wgsl's 4-tap tile loads 4 and 8 for 32. Loads, not FMAs, bound a CPU
// adapter, and this halves them for LeNet's convolutions. KWT and NF are override constants
// (the filter width and min(8, filters per group)), so the unused taps and filters are
// constant-false branches and cost nothing.
//
// As in conv2d_filter.wgsl, the (n, oh) rows are split into `chunks` ranges written as partial
// sums OUT [chunks, F, ntaps] that a reduce adds up; with BIAS the thread of row (0, 0) also
// sums dy into the extra last tap, the bias gradient.
//
// Params is shared by the conv2d kernels (lib/conv.wgsl); of its per-kernel fields this one
// reads fblocks, rows and rows_per_chunk.

#include "lib/conv.wgsl"

override BIAS: u32 = 0u;
// The kernel width, 1 to 8.
override KWT: u32 = 5u;
// Filters per thread, 1 to 8.
override NF: u32 = 8u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> DY: array<f32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;

// x[row + iw] times `m`, or 0 where iw falls in the padding.
fn ld(row: u32, iw: i32, m: f32) -> f32 {
  let v = X[row + u32(clamp(iw, 0, i32(P.W) - 1))];
  return select(0.0, v * m, iw >= 0 && iw < i32(P.W));
}

// Output gradients of the thread's filters at offset o of each filter's row (rows da, db).
fn grads(da: vec4<u32>, db: vec4<u32>, o: u32) -> array<vec4<f32>, 2> {
  var a = vec4<f32>(DY[da.x + o], 0.0, 0.0, 0.0);
  var b = vec4<f32>(0.0);
  if (NF > 1u) {
    a.y = DY[da.y + o];
  }
  if (NF > 2u) {
    a.z = DY[da.z + o];
  }
  if (NF > 3u) {
    a.w = DY[da.w + o];
  }
  if (NF > 4u) {
    b.x = DY[db.x + o];
  }
  if (NF > 5u) {
    b.y = DY[db.y + o];
  }
  if (NF > 6u) {
    b.z = DY[db.z + o];
  }
  if (NF > 7u) {
    b.w = DY[db.w + o];
  }
  return array<vec4<f32>, 2>(a, b);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= P.total) {
    return;
  }
  // Thread order (fastest first): kernel row (c, kh), filter block, group, chunk.
  let krows = P.cpg * P.KH;
  let kr = i % krows;
  var r = i / krows;
  let gfb = r % (P.groups * P.fblocks);
  let chunk = r / (P.groups * P.fblocks);
  let g = gfb / P.fblocks;
  let fb = gfb - g * P.fblocks;
  let c = kr / P.KH;
  let kh = kr - c * P.KH;

  // Filters past the group's last one re-read a valid filter and are never stored.
  let flast = vec4<u32>(P.fpg - 1u);
  let fia = vec4<u32>(g * P.fpg) + min(vec4<u32>(fb * NF) + vec4<u32>(0u, 1u, 2u, 3u), flast);
  let fib = vec4<u32>(g * P.fpg) + min(vec4<u32>(fb * NF) + vec4<u32>(4u, 5u, 6u, 7u), flast);
  let plane = P.H * P.W;
  let oplane = P.OH * P.OW;
  let xch = (g * P.cpg + c) * plane;
  let hoff = i32(kh * P.dh) - i32(P.pt);
  let pl = i32(P.pl);

  // acc<t><a|b>: tap kw = t, filters 0-3 | 4-7 of the block; bsa/bsb: the bias sums.
  var acc0a = vec4<f32>(0.0);
  var acc1a = vec4<f32>(0.0);
  var acc2a = vec4<f32>(0.0);
  var acc3a = vec4<f32>(0.0);
  var acc4a = vec4<f32>(0.0);
  var acc5a = vec4<f32>(0.0);
  var acc6a = vec4<f32>(0.0);
  var acc7a = vec4<f32>(0.0);
  var acc0b = vec4<f32>(0.0);
  var acc1b = vec4<f32>(0.0);
  var acc2b = vec4<f32>(0.0);
  var acc3b = vec4<f32>(0.0);
  var acc4b = vec4<f32>(0.0);
  var acc5b = vec4<f32>(0.0);
  var acc6b = vec4<f32>(0.0);
  var acc7b = vec4<f32>(0.0);
  var bsa = vec4<f32>(0.0);
  var bsb = vec4<f32>(0.0);
  let row0 = chunk * P.rows_per_chunk;
  let row1 = min(row0 + P.rows_per_chunk, P.rows);
  var n = row0 / P.OH;
  var oh = row0 - n * P.OH;
  for (var row = row0; row < row1; row++) {
    let da = (vec4<u32>(n * P.F) + fia) * oplane + vec4<u32>(oh * P.OW);
    let db = (vec4<u32>(n * P.F) + fib) * oplane + vec4<u32>(oh * P.OW);
    let ih = i32(oh * P.sh) + hoff;
    let m = select(0.0, 1.0, ih >= 0 && ih < i32(P.H));
    let xr = n * P.C * plane + xch + u32(clamp(ih, 0, i32(P.H) - 1)) * P.W;
    // The window: x0 .. x<KWT-1> hold the input columns ow - pl + t of the taps.
    var x0 = ld(xr, -pl, m);
    var x1 = 0.0;
    var x2 = 0.0;
    var x3 = 0.0;
    var x4 = 0.0;
    var x5 = 0.0;
    var x6 = 0.0;
    if (KWT > 2u) {
      x1 = ld(xr, 1 - pl, m);
    }
    if (KWT > 3u) {
      x2 = ld(xr, 2 - pl, m);
    }
    if (KWT > 4u) {
      x3 = ld(xr, 3 - pl, m);
    }
    if (KWT > 5u) {
      x4 = ld(xr, 4 - pl, m);
    }
    if (KWT > 6u) {
      x5 = ld(xr, 5 - pl, m);
    }
    if (KWT > 7u) {
      x6 = ld(xr, 6 - pl, m);
    }
    for (var ow = 0u; ow < P.OW; ow++) {
      // The newest column of the window, for tap KWT - 1.
      let xn = ld(xr, i32(ow + KWT - 1u) - pl, m);
      let d = grads(da, db, ow);
      let a = d[0];
      let b = d[1];
      if (BIAS == 1u) {
        bsa += a;
        bsb += b;
      }
      // Tap t reads column ow - pl + t: x<t> for t < KWT - 1, xn for the last.
      if (KWT == 1u) {
        x0 = xn;
      }
      if (KWT == 2u) {
        x1 = xn;
      }
      if (KWT == 3u) {
        x2 = xn;
      }
      if (KWT == 4u) {
        x3 = xn;
      }
      if (KWT == 5u) {
        x4 = xn;
      }
      if (KWT == 6u) {
        x5 = xn;
      }
      if (KWT == 7u) {
        x6 = xn;
      }
      acc0a += x0 * a;
      acc0b += x0 * b;
      if (KWT > 1u) {
        acc1a += x1 * a;
        acc1b += x1 * b;
      }
      if (KWT > 2u) {
        acc2a += x2 * a;
        acc2b += x2 * b;
      }
      if (KWT > 3u) {
        acc3a += x3 * a;
        acc3b += x3 * b;
      }
      if (KWT > 4u) {
        acc4a += x4 * a;
        acc4b += x4 * b;
      }
      if (KWT > 5u) {
        acc5a += x5 * a;
        acc5b += x5 * b;
      }
      if (KWT > 6u) {
        acc6a += x6 * a;
        acc6b += x6 * b;
      }
      if (KWT > 7u) {
        acc7a += xn * a;
        acc7b += xn * b;
      }
      x0 = x1;
      x1 = x2;
      x2 = x3;
      x3 = x4;
      x4 = x5;
      x5 = x6;
      x6 = xn;
    }
    oh++;
    if (oh == P.OH) {
      oh = 0u;
      n++;
    }
  }

  // OUT is [chunks, F, ntaps]; this thread's taps start at (c, kh, 0).
  let taps = P.cpg * P.KH * P.KW;
  let ntaps = taps + BIAS;
  let accs = array<vec4<f32>, 16>(acc0a, acc1a, acc2a, acc3a, acc4a, acc5a, acc6a, acc7a, acc0b, acc1b, acc2b, acc3b, acc4b, acc5b, acc6b, acc7b);
  let base = chunk * P.F * ntaps + (g * P.fpg + fb * NF) * ntaps;
  let t0 = kr * P.KW;
  let nf = min(NF, P.fpg - fb * NF);
  for (var q = 0u; q < nf; q++) {
    let o = base + q * ntaps;
    for (var t = 0u; t < KWT; t++) {
      OUT[o + t0 + t] = accs[t + (q >> 2u) * 8u][q & 3u];
    }
    if (BIAS == 1u && kr == 0u) {
      OUT[o + taps] = select(bsb, bsa, q < 4u)[q & 3u];
    }
  }
}
