// Gradient of conv2d with respect to its input, as an implicit GEMM for GPUs (the 'gemm' variant
// of conv2dBackpropInput; conv2d_input.wgsl is the direct kernel for CPU adapters):
//   dx[n, g*cpg + c, ih, iw] = sum over k = (f, kh, kw) of A[m, k] * B[k, c]
//   A[m, k] = dy[n, g*fpg + f, oh, ow]   where oh*sh = ih + pt - kh*dh and ow*sw = iw + pl - kw*dw
//             exactly and in range, else 0                                  (m = (n, ih, iw))
//   B[k, c] = w[g*fpg + f, c, kh, kw]
// A gather: each dx element sums everything its windows touched, so no two threads write the
// same element and no atomics are needed; A (the transposed im2col of dy) is gathered on the fly,
// each element checking that its tap divides exactly onto the output grid. With a stride s, all
// but 1/s of a row's taps miss, and are loaded as 0: the GEMM spends its FMAs on them anyway,
// which a GPU, bound by memory rather than FMAs on these shapes, affords (the direct kernel,
// for CPU adapters, skips them instead).
//
// The blocking is conv2d_gemm.wgsl's: a 16x16 workgroup computes a 64 x 64 block of C (64 input
// positions x 64 channels of one group), each thread 4x4 with positions and channels 16 apart,
// staging 16-deep K slices of A and B in workgroup memory (8 KiB). A loads are scalar (dy is
// NCHW: a position's taps are scattered); each thread decodes its one position once, outside the
// K loop, and neighbouring threads take neighbouring positions. For one channel, a filter's
// KH*KW taps are contiguous in w, so with VEC (KH*KW a multiple of 4) a thread's 4 taps of a step
// lie in one filter and load as one aligned vec4; otherwise as 4 scalars.
//
// Params is shared by the conv2d kernels (lib/conv.wgsl); of its per-kernel fields this one
// reads rows (n*H: M = rows*W) and cblocks (blocks of 64 channels per group); total is the
// number of threads in whole blocks (256 per block).

#include "lib/conv.wgsl"
#include "lib/conv_gemm.wgsl"
#include "lib/epilogue.wgsl"

// 1 when KH*KW is a multiple of 4: weights load as vec4.
override VEC: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> DY: array<f32>;
// Declared as vec4 so that VEC loads are single 16-byte loads; scalar loads pick a lane.
@group(0) @binding(2) var<storage, read> WT: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> DX: array<f32>;


@compute @workgroup_size(16, 16, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  // Blocks past the last (the grid folds into y above 65535 blocks) leave as a whole, before
  // any barrier.
  let block = wid.x + wid.y * nwg.x;
  if (block * 256u >= P.total) {
    return;
  }
  let M = P.rows * P.W;
  let ksize = P.KH * P.KW;
  let K = P.fpg * ksize;
  let tile = gemm_block(block, M, P.cblocks);
  let m0 = tile.m0;
  let c0 = tile.n0;
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
  let na = ma / plane;
  let pa = ma - na * plane;
  let iha = pa / P.W;
  let iwa = pa - iha * P.W;
  // oh*sh = hnum - kh*dh, ow*sw = wnum - kw*dw.
  let hnum = i32(iha + P.pt);
  let wnum = i32(iwa + P.pl);
  let sh = i32(P.sh);
  let sw = i32(P.sw);
  let dyg = (na * P.F + g * P.fpg) * oplane;

  // B loader: channel c0 + bc, taps 4*bq .. 4*bq + 3 of each step.
  let bc = tid % 64u;
  let bq = tid / 64u;
  let cok = c0 + bc < P.cpg;
  let wcol = min(c0 + bc, P.cpg - 1u) * ksize;
  let fstride = P.cpg * ksize;
  let wg = g * P.fpg * fstride;

  var acc = array<vec4<f32>, 4>();
  for (var k0 = 0u; k0 < K; k0 += 16u) {
    for (var q = 0u; q < 4u; q++) {
      let kl = ak + 4u * q;
      let k = min(k0 + kl, K - 1u);
      let f = k / ksize;
      let t = k - f * ksize;
      let kh = t / P.KW;
      let kw = t - kh * P.KW;
      let nh = hnum - i32(kh * P.dh);
      let nw = wnum - i32(kw * P.dw);
      let oh = max(nh, 0) / sh;
      let ow = max(nw, 0) / sw;
      let ok = mok && k0 + kl < K && nh >= 0 && nw >= 0 && oh * sh == nh && ow * sw == nw && oh < i32(P.OH) && ow < i32(P.OW);
      let yi = dyg + f * oplane + u32(min(oh, i32(P.OH) - 1)) * P.OW + u32(min(ow, i32(P.OW) - 1));
      AS[kl][am] = select(0.0, DY[yi], ok);
    }
    let kb = k0 + 4u * bq;
    var wv = vec4<f32>(0.0);
    if (VEC == 1u) {
      let kv = min(kb, K - 4u);
      let f = kv / ksize;
      wv = select(vec4<f32>(0.0), WT[(wg + f * fstride + wcol + kv - f * ksize) / 4u], cok && kb < K);
    } else {
      for (var j = 0u; j < 4u; j++) {
        let k = min(kb + j, K - 1u);
        let f = k / ksize;
        let e = wg + f * fstride + wcol + k - f * ksize;
        wv[j] = select(0.0, WT[e / 4u][e % 4u], cok && kb + j < K);
      }
    }
    gemm_step(bq, bc, wv, tx, ty, &acc);
  }

  // acc[i][j]: position m0 + tx + 16i, channel c0 + ty + 16j.
  let cbase = g * P.cpg + c0 + ty;
  put(m0 + tx, M, cbase, c0 + ty, acc[0]);
  put(m0 + tx + 16u, M, cbase, c0 + ty, acc[1]);
  put(m0 + tx + 32u, M, cbase, c0 + ty, acc[2]);
  put(m0 + tx + 48u, M, cbase, c0 + ty, acc[3]);
}

// Stores position m of channels c, c + 16, c + 32, c + 48 (global index cg, in-group index cl),
// those that exist.
fn put(m: u32, M: u32, cg: u32, cl: u32, acc: vec4<f32>) {
  if (m >= M) {
    return;
  }
  let plane = P.H * P.W;
  let n = m / plane;
  let p = m - n * plane;
  for (var j = 0u; j < 4u; j++) {
    if (cl + 16u * j < P.cpg) {
      let o = (n * P.C + cg + 16u * j) * plane + p;
      DX[o] = epilogue(acc[j], o);
    }
  }
}
