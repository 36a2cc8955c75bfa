// 2-D convolution, NCHW, as an implicit GEMM for GPUs (the 'gemm' variant of conv2d; the direct
// kernel, conv2d.wgsl, suits CPU adapters):
//   out[n, g*fpg + f, oh, ow] = sum over k = (c, kh, kw) of A[m, k] * B[k, f] (+ bias[f], then ReLU)
//   A[m, k] = x[n, g*cpg + c, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw]   (m = (n, oh, ow); 0 in the padding)
//   B[k, f] = w[g*fpg + f, c, kh, kw]                                     (row f of w, [F, cpg*KH*KW])
// A is im2col(x), gathered on the fly and never materialised: im2col would write and read back
// KH*KW copies of the input, and a GPU's bandwidth, not its FMAs, would then bound the layer.
//
// A workgroup of 16x16 threads computes a 64 x 64 block of C (64 positions m x 64 filters of one
// group), each thread a 4x4 tile, walking K in steps of 16: each step stages a 16x64 slice of A
// and of B in workgroup memory (8 KiB), so that every x and w value is read from device memory
// once per block instead of once per thread, then each thread does 16 x 16 FMAs from it. A
// thread's positions and filters are 16 apart (as in matmul.wgsl's tiled entry): neighbouring
// threads read neighbouring workgroup-memory words and store neighbouring positions, which are
// contiguous in the NCHW output.
//
// Loads: each thread loads the A slice for one fixed position m (decoded once, outside the K
// loop) and 4 taps; neighbouring threads take neighbouring positions, so with stride 1 they read
// neighbouring x columns. Those loads are scalar: x is NCHW, so a position's taps are scattered
// over channels and rows and no 4 of them are contiguous. The weight rows are contiguous, so with
// VEC (K a multiple of 4, every row then starting on a 16-byte boundary) a thread loads its 4
// taps of one filter as one vec4; otherwise as 4 scalars. Positions past M, filters past the
// group's, and taps past K load 0 (from a clamped, valid address) and are never stored.
//
// Params is shared by the conv2d kernels (lib/conv.wgsl); of its per-kernel fields this one
// reads rows (n*OH: M = rows*OW) and fblocks (blocks of 64 filters per group); total is the
// number of threads in whole blocks (256 per block).

#include "lib/conv.wgsl"
#include "lib/conv_gemm.wgsl"
#include "lib/epilogue.wgsl"

override HAS_BIAS: u32 = 0u;
// 0 none, 1 relu.
override ACT: u32 = 0u;
// 1 when K = cpg*KH*KW is a multiple of 4: weights load as vec4.
override VEC: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
// Declared as vec4 so that VEC loads are single 16-byte loads; scalar loads pick a lane.
@group(0) @binding(2) var<storage, read> WT: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<storage, read_write> OUT: array<f32>;


@compute @workgroup_size(16, 16, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  // Blocks past the last (the grid folds into y above 65535 blocks) leave as a whole, before
  // any barrier.
  let block = wid.x + wid.y * nwg.x;
  if (block * 256u >= P.total) {
    return;
  }
  let M = P.rows * P.OW;
  let ksize = P.KH * P.KW;
  let K = P.cpg * ksize;
  let tile = gemm_block(block, M, P.fblocks);
  let m0 = tile.m0;
  let f0 = tile.n0;
  let g = tile.g;
  let tx = lid.x;
  let ty = lid.y;
  let tid = ty * 16u + tx;
  let plane = P.H * P.W;
  let oplane = P.OH * P.OW;

  // A loader: position m0 + am, taps ak, ak + 4, ak + 8, ak + 12 of each step.
  let am = tid % 64u;
  let ak = tid / 64u;
  let mok = m0 + am < M;
  let ma = min(m0 + am, M - 1u);
  let na = ma / oplane;
  let pa = ma - na * oplane;
  let oha = pa / P.OW;
  let owa = pa - oha * P.OW;
  let ih0 = i32(oha * P.sh) - i32(P.pt);
  let iw0 = i32(owa * P.sw) - i32(P.pl);
  let xg = (na * P.C + g * P.cpg) * plane;
  let H = i32(P.H);
  let W = i32(P.W);

  // B loader: filter f0 + bf, taps 4*bq .. 4*bq + 3 of each step.
  let bf = tid % 64u;
  let bq = tid / 64u;
  let fok = f0 + bf < P.fpg;
  let wrow = (g * P.fpg + min(f0 + bf, P.fpg - 1u)) * K;

  var acc = array<vec4<f32>, 4>();
  for (var k0 = 0u; k0 < K; k0 += 16u) {
    for (var q = 0u; q < 4u; q++) {
      let kl = ak + 4u * q;
      let k = min(k0 + kl, K - 1u);
      let c = k / ksize;
      let t = k - c * ksize;
      let kh = t / P.KW;
      let kw = t - kh * P.KW;
      let ih = ih0 + i32(kh * P.dh);
      let iw = iw0 + i32(kw * P.dw);
      let ok = mok && k0 + kl < K && ih >= 0 && ih < H && iw >= 0 && iw < W;
      let xi = xg + c * plane + u32(clamp(ih, 0, H - 1)) * P.W + u32(clamp(iw, 0, W - 1));
      AS[kl][am] = select(0.0, X[xi], ok);
    }
    let kb = k0 + 4u * bq;
    var wv = vec4<f32>(0.0);
    if (VEC == 1u) {
      wv = select(vec4<f32>(0.0), WT[(wrow + min(kb, K - 4u)) / 4u], fok && kb < K);
    } else {
      for (var j = 0u; j < 4u; j++) {
        let e = wrow + min(kb + j, K - 1u);
        wv[j] = select(0.0, WT[e / 4u][e % 4u], fok && kb + j < K);
      }
    }
    gemm_step(bq, bf, wv, tx, ty, &acc);
  }

  // acc[i][j]: position m0 + tx + 16i, filter f0 + ty + 16j.
  let fbase = g * P.fpg + f0 + ty;
  put(m0 + tx, M, fbase, f0 + ty, acc[0]);
  put(m0 + tx + 16u, M, fbase, f0 + ty, acc[1]);
  put(m0 + tx + 32u, M, fbase, f0 + ty, acc[2]);
  put(m0 + tx + 48u, M, fbase, f0 + ty, acc[3]);
}

// Stores position m of filters f, f + 16, f + 32, f + 48 (global index fg, in-group index fl),
// with bias and activation, those that exist.
fn put(m: u32, M: u32, fg: u32, fl: u32, acc: vec4<f32>) {
  if (m >= M) {
    return;
  }
  let oplane = P.OH * P.OW;
  let n = m / oplane;
  let p = m - n * oplane;
  for (var j = 0u; j < 4u; j++) {
    if (fl + 16u * j < P.fpg) {
      let f = fg + 16u * j;
      var v = acc[j];
      if (HAS_BIAS == 1u) {
        v += BIAS[f];
      }
      if (ACT == 1u) {
        v = max(v, 0.0);
      }
      let o = (n * P.F + f) * oplane + p;
      OUT[o] = epilogue(v, o);
    }
  }
}
