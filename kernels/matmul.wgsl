// Batched C = op(A) @ op(B) (+ bias, then activation). Each thread keeps a 4x4 tile of C in
// registers and needs no workgroup memory or barriers, which is what CPU-emulated adapters run
// fastest; transposes are read through the row/column strides instead of being copied.

#include "lib/matmul.wgsl"
#include "lib/epilogue.wgsl"

// Rows per thread, 4 or 8: 8 gives each loaded B vector 8 FMAs, which a CPU adapter needs.
override TM: u32 = 4u;

@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<storage, read_write> OUT: array<f32>;

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col0 = gid.x * 4u;
  let row0 = gid.y * TM;
  if (row0 >= P.M || col0 >= P.N) {
    return;
  }
  let tile = register_tile(gid.z, row0, col0);
  let arow = tile.arow;
  let arow2 = tile.arow2;
  let bcol = tile.bcol;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  var acc4 = vec4<f32>(0.0);
  var acc5 = vec4<f32>(0.0);
  var acc6 = vec4<f32>(0.0);
  var acc7 = vec4<f32>(0.0);
  for (var k = 0u; k < P.K; k++) {
    let ak = k * P.a_cs;
    let bk = k * P.b_rs;
    let b = vec4<f32>(B[bcol.x + bk], B[bcol.y + bk], B[bcol.z + bk], B[bcol.w + bk]);
    acc0 += A[arow.x + ak] * b;
    acc1 += A[arow.y + ak] * b;
    acc2 += A[arow.z + ak] * b;
    acc3 += A[arow.w + ak] * b;
    if (TM == 8u) {
      acc4 += A[arow2.x + ak] * b;
      acc5 += A[arow2.y + ak] * b;
      acc6 += A[arow2.z + ak] * b;
      acc7 += A[arow2.w + ak] * b;
    }
  }
  let bias = bias4(col0);
  let out_base = gid.z * P.M * P.N;
  put4(out_base, row0, col0, acc0 + bias);
  put4(out_base, row0 + 1u, col0, acc1 + bias);
  put4(out_base, row0 + 2u, col0, acc2 + bias);
  put4(out_base, row0 + 3u, col0, acc3 + bias);
  if (TM == 8u) {
    put4(out_base, row0 + 4u, col0, acc4 + bias);
    put4(out_base, row0 + 5u, col0, acc5 + bias);
    put4(out_base, row0 + 6u, col0, acc6 + bias);
    put4(out_base, row0 + 7u, col0, acc7 + bias);
  }
}

// The same product for a GPU: a 16x16 workgroup computes a 64x64 block of C, staging 16-deep
// slices of A and B in workgroup memory (each element read from device memory once per block
// instead of once per thread), each thread a 4x4 tile. Its rows and columns are 16 apart, so
// that neighbouring threads read neighbouring workgroup-memory words (no bank conflicts) and
// write neighbouring columns of C. Edges load 0 and store nothing.
var<workgroup> AS: array<array<f32, 64>, 16>;
var<workgroup> BS: array<array<f32, 64>, 16>;

@compute @workgroup_size(16, 16, 1)
fn tiled(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let offs = batch_offsets(wid.z);
  let row0 = wid.y * 64u;
  let col0 = wid.x * 64u;
  let tx = lid.x;
  let ty = lid.y;
  let tid = ty * 16u + tx;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < P.K; k0 += 16u) {
    for (var q = 0u; q < 4u; q++) {
      let e = tid + q * 256u;
      // A: consecutive threads take consecutive k (contiguous in a row-major A).
      let am = e / 16u;
      let ak = e % 16u;
      let gr = row0 + am;
      let gk = k0 + ak;
      AS[ak][am] = select(0.0, A[offs.x + min(gr, P.M - 1u) * P.a_rs + min(gk, P.K - 1u) * P.a_cs], gr < P.M && gk < P.K);
      // B: consecutive threads take consecutive columns.
      let bk = e / 64u;
      let bn = e % 64u;
      let gk2 = k0 + bk;
      let gc = col0 + bn;
      BS[bk][bn] = select(0.0, B[offs.y + min(gk2, P.K - 1u) * P.b_rs + min(gc, P.N - 1u) * P.b_cs], gk2 < P.K && gc < P.N);
    }
    workgroupBarrier();
    for (var k = 0u; k < 16u; k++) {
      let a = vec4<f32>(AS[k][ty], AS[k][ty + 16u], AS[k][ty + 32u], AS[k][ty + 48u]);
      let b = vec4<f32>(BS[k][tx], BS[k][tx + 16u], BS[k][tx + 32u], BS[k][tx + 48u]);
      acc0 += a.x * b;
      acc1 += a.y * b;
      acc2 += a.z * b;
      acc3 += a.w * b;
    }
    workgroupBarrier();
  }
  let out_base = wid.z * P.M * P.N;
  put_spread(out_base, row0 + ty, col0 + tx, acc0);
  put_spread(out_base, row0 + ty + 16u, col0 + tx, acc1);
  put_spread(out_base, row0 + ty + 32u, col0 + tx, acc2);
  put_spread(out_base, row0 + ty + 48u, col0 + tx, acc3);
}

// Stores columns c, c+16, c+32, c+48 of one output row, with bias and activation, where they exist.
fn put_spread(out_base: u32, row: u32, c: u32, acc: vec4<f32>) {
  if (row >= P.M) {
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    let col = c + j * 16u;
    if (col < P.N) {
      var v = acc[j];
      if (has_bias()) {
        v += BIAS[col];
      }
      if (relu_on()) {
        v = max(v, 0.0);
      }
      let o = out_base + row * P.N + col;
      OUT[o] = epilogue(v, o);
    }
  }
}
