// Batched C = op(A) @ op(B) (+ bias, then activation) for a GPU and large products: a 16x16
// workgroup computes a 128x128 block of C, each thread an 8x8 tile of it. Against the 64x64
// blocks of matmul.wgsl's `tiled` (4x4 per thread), each element loaded from device memory
// feeds twice the FMAs (128 rows or columns of C, not 64) and each thread does 64 FMAs for 4
// vec4 reads of workgroup memory instead of 16 for 8 scalar ones: large products are then bound
// by FMAs, not by loads. It needs many 128x128 blocks of C to fill a GPU, which is why the
// builder never picks it on its own (the autotuner times it wherever it is legal: always).
//
// Each step stages an 8-deep slice of K: AS holds rows row0..row0+127 of op(A), BS columns
// col0..col0+127 of op(B), 4 KiB each (8 KiB of the 16 KiB every device allows). Both are
// stored as vec4s of 4 rows (AS) or 4 columns (BS), so the compute loop reads vec4s. A
// thread's rows are 4*ty..4*ty+3 and 64+4*ty..64+4*ty+3, its columns likewise from 4*tx:
// neighbouring threads read neighbouring vec4s of BS and the same vec4 of AS (a broadcast), and
// store neighbouring columns of C.
//
// Each of the 256 threads stages one quad (4 elements consecutive in memory) of each slice per
// step: 4 consecutive k of a row of a row-major A, or 4 consecutive rows at one k of a
// transposed A (B alike, along n or k). Where the quads are aligned (the contiguous dimension a
// multiple of 4: VEC_A, VEC_B) a quad is one vec4 load; otherwise it is 4 bounds-checked scalar
// loads. A and B are bound as array<vec4<f32>> for this, as WGSL cannot view one binding as
// both; a scalar load takes one component. Every buffer is a multiple of 256 bytes
// (packages/webgpu/src/pool.ts, sizeClass), so the vec4 view covers all of its elements.
// Elements outside op(A) or op(B) (the ragged last blocks of M, N and K) are staged as 0, and
// outputs outside C are not stored.

#include "lib/matmul.wgsl"
#include "lib/epilogue.wgsl"

// 1 where op(A)'s quads are aligned vec4s (its contiguous dimension, K for a row-major A or M
// for a transposed one, is a multiple of 4), 0 for scalar loads. VEC_B likewise for op(B).
override VEC_A: u32 = 0u;
override VEC_B: u32 = 0u;

@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<storage, read_write> OUT: array<f32>;

// [k][quad]: quad q holds rows (AS) or columns (BS) 4q..4q+3 of the block at slice row k.
var<workgroup> AS: array<array<vec4<f32>, 32>, 8>;
var<workgroup> BS: array<array<vec4<f32>, 32>, 8>;

// Element (m, k) of op(A) for batch offset `off`, or 0 outside it (read at a clamped address).
fn a_elem(off: u32, m: u32, k: u32) -> f32 {
  let i = off + min(m, P.M - 1u) * P.a_rs + min(k, P.K - 1u) * P.a_cs;
  return select(0.0, A[i >> 2u][i & 3u], m < P.M && k < P.K);
}

// Element (k, n) of op(B) for batch offset `off`, or 0 outside it.
fn b_elem(off: u32, k: u32, n: u32) -> f32 {
  let i = off + min(k, P.K - 1u) * P.b_rs + min(n, P.N - 1u) * P.b_cs;
  return select(0.0, B[i >> 2u][i & 3u], k < P.K && n < P.N);
}

// Stages op(A)[row0 .. row0+127, k0 .. k0+7] into AS: thread tid loads one quad.
fn stage_a(tid: u32, off: u32, row0: u32, k0: u32) {
  if (P.a_cs == 1u) {
    // Row-major A: the quad is k .. k+3 of row m, two quads per row; AS takes it transposed.
    let m = tid >> 1u;
    let kq = (tid & 1u) * 4u;
    let gm = row0 + m;
    let gk = k0 + kq;
    var v: vec4<f32>;
    if (VEC_A == 1u) {
      // K is a multiple of 4: the quad is wholly inside K or wholly outside.
      let i = off + min(gm, P.M - 1u) * P.a_rs + min(gk, P.K - 4u);
      v = select(vec4<f32>(0.0), A[i >> 2u], gm < P.M && gk < P.K);
    } else {
      v = vec4<f32>(a_elem(off, gm, gk), a_elem(off, gm, gk + 1u), a_elem(off, gm, gk + 2u), a_elem(off, gm, gk + 3u));
    }
    let q = m >> 2u;
    let c = m & 3u;
    AS[kq][q][c] = v.x;
    AS[kq + 1u][q][c] = v.y;
    AS[kq + 2u][q][c] = v.z;
    AS[kq + 3u][q][c] = v.w;
  } else {
    // Transposed A: the quad is rows m .. m+3 at one k, as AS keeps them.
    let k = tid >> 5u;
    let q = tid & 31u;
    let gm = row0 + q * 4u;
    let gk = k0 + k;
    if (VEC_A == 1u) {
      let i = off + min(gm, P.M - 4u) + min(gk, P.K - 1u) * P.a_cs;
      AS[k][q] = select(vec4<f32>(0.0), A[i >> 2u], gm < P.M && gk < P.K);
    } else {
      AS[k][q] = vec4<f32>(a_elem(off, gm, gk), a_elem(off, gm + 1u, gk), a_elem(off, gm + 2u, gk), a_elem(off, gm + 3u, gk));
    }
  }
}

// Stages op(B)[k0 .. k0+7, col0 .. col0+127] into BS: thread tid loads one quad.
fn stage_b(tid: u32, off: u32, col0: u32, k0: u32) {
  if (P.b_cs == 1u) {
    // Row-major B: the quad is columns n .. n+3 at one k, as BS keeps them.
    let k = tid >> 5u;
    let q = tid & 31u;
    let gn = col0 + q * 4u;
    let gk = k0 + k;
    if (VEC_B == 1u) {
      let i = off + min(gk, P.K - 1u) * P.b_rs + min(gn, P.N - 4u);
      BS[k][q] = select(vec4<f32>(0.0), B[i >> 2u], gk < P.K && gn < P.N);
    } else {
      BS[k][q] = vec4<f32>(b_elem(off, gk, gn), b_elem(off, gk, gn + 1u), b_elem(off, gk, gn + 2u), b_elem(off, gk, gn + 3u));
    }
  } else {
    // Transposed B: the quad is k .. k+3 of column n; BS takes it transposed.
    let n = tid >> 1u;
    let kq = (tid & 1u) * 4u;
    let gn = col0 + n;
    let gk = k0 + kq;
    var v: vec4<f32>;
    if (VEC_B == 1u) {
      let i = off + min(gk, P.K - 4u) + min(gn, P.N - 1u) * P.b_cs;
      v = select(vec4<f32>(0.0), B[i >> 2u], gk < P.K && gn < P.N);
    } else {
      v = vec4<f32>(b_elem(off, gk, gn), b_elem(off, gk + 1u, gn), b_elem(off, gk + 2u, gn), b_elem(off, gk + 3u, gn));
    }
    let q = n >> 2u;
    let c = n & 3u;
    BS[kq][q][c] = v.x;
    BS[kq + 1u][q][c] = v.y;
    BS[kq + 2u][q][c] = v.z;
    BS[kq + 3u][q][c] = v.w;
  }
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let offs = batch_offsets(wid.z);
  let row0 = wid.y * 128u;
  let col0 = wid.x * 128u;
  let tx = lid.x;
  let ty = lid.y;
  let tid = ty * 16u + tx;
  // cRJ: row R of the thread's 8 (0-3: 4*ty + R, 4-7: 64 + 4*ty + R - 4), column quad J
  // (0: columns 4*tx .. 4*tx+3, 1: 64 + 4*tx ..).
  var c00 = vec4<f32>(0.0);
  var c01 = vec4<f32>(0.0);
  var c10 = vec4<f32>(0.0);
  var c11 = vec4<f32>(0.0);
  var c20 = vec4<f32>(0.0);
  var c21 = vec4<f32>(0.0);
  var c30 = vec4<f32>(0.0);
  var c31 = vec4<f32>(0.0);
  var c40 = vec4<f32>(0.0);
  var c41 = vec4<f32>(0.0);
  var c50 = vec4<f32>(0.0);
  var c51 = vec4<f32>(0.0);
  var c60 = vec4<f32>(0.0);
  var c61 = vec4<f32>(0.0);
  var c70 = vec4<f32>(0.0);
  var c71 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < P.K; k0 += 8u) {
    stage_a(tid, offs.x, row0, k0);
    stage_b(tid, offs.y, col0, k0);
    workgroupBarrier();
    for (var k = 0u; k < 8u; k++) {
      let a0 = AS[k][ty];
      let a1 = AS[k][ty + 16u];
      let b0 = BS[k][tx];
      let b1 = BS[k][tx + 16u];
      c00 += a0.x * b0;
      c01 += a0.x * b1;
      c10 += a0.y * b0;
      c11 += a0.y * b1;
      c20 += a0.z * b0;
      c21 += a0.z * b1;
      c30 += a0.w * b0;
      c31 += a0.w * b1;
      c40 += a1.x * b0;
      c41 += a1.x * b1;
      c50 += a1.y * b0;
      c51 += a1.y * b1;
      c60 += a1.z * b0;
      c61 += a1.z * b1;
      c70 += a1.w * b0;
      c71 += a1.w * b1;
    }
    workgroupBarrier();
  }
  let col_a = col0 + tx * 4u;
  let col_b = col_a + 64u;
  let bias_a = bias4(col_a);
  let bias_b = bias4(col_b);
  let out_base = wid.z * P.M * P.N;
  let r = row0 + ty * 4u;
  put4(out_base, r, col_a, c00 + bias_a);
  put4(out_base, r, col_b, c01 + bias_b);
  put4(out_base, r + 1u, col_a, c10 + bias_a);
  put4(out_base, r + 1u, col_b, c11 + bias_b);
  put4(out_base, r + 2u, col_a, c20 + bias_a);
  put4(out_base, r + 2u, col_b, c21 + bias_b);
  put4(out_base, r + 3u, col_a, c30 + bias_a);
  put4(out_base, r + 3u, col_b, c31 + bias_b);
  put4(out_base, r + 64u, col_a, c40 + bias_a);
  put4(out_base, r + 64u, col_b, c41 + bias_b);
  put4(out_base, r + 65u, col_a, c50 + bias_a);
  put4(out_base, r + 65u, col_b, c51 + bias_b);
  put4(out_base, r + 66u, col_a, c60 + bias_a);
  put4(out_base, r + 66u, col_b, c61 + bias_b);
  put4(out_base, r + 67u, col_a, c70 + bias_a);
  put4(out_base, r + 67u, col_b, c71 + bias_b);
}
