// Batched C = op(A) @ op(B) (+ bias, then activation) for few outputs and a long reduction: the
// dense layers of small nets ([64,400] @ [400,120] in LeNet-5, [1,400] @ [400,120] for one
// image) and their weight gradients, whose K is the batch. The other kernels give each output to
// a single thread, which walks all of K alone: LeNet's first dense layer is then 480 threads of
// 400 steps each, far too few to fill a GPU, and the time is one thread's latency.
//
// Here 16 threads (lanes) share each output: a workgroup of 64 threads computes 4 cells of 4x4
// outputs, and lane l of a cell sums k = l, l + 16, l + 32, ... (neighbouring lanes read
// neighbouring k, contiguous in a row-major A), 16 FMAs for every 8 loads. The cell's 16
// partial tiles then meet in workgroup memory after one barrier, and lane l adds up output l of
// the cell in a fixed order (the result does not depend on timing), adds the bias, applies the
// activation and stores it. One barrier, not a tree of halving steps: a CPU adapter
// (SwiftShader) pays for every barrier per thread, and on a GPU 16 adds are as quick as 4
// barriers.
//
// The cells form a CELLS_M x (4 / CELLS_M) grid, a block of 4*CELLS_M rows and 16 / CELLS_M
// columns of C: the builder shapes it after C, so that a batch of 1 (M = 1) or 10 classes
// (N = 10) computes few outputs outside C (those read a clamped address and are never stored).

#include "lib/matmul.wgsl"
#include "lib/epilogue.wgsl"

// Cells along M: 1, 2 or 4.
override CELLS_M: u32 = 2u;

@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<storage, read_write> OUT: array<f32>;

// Threads that share one cell's reduction; 64 / LANES cells per workgroup.
const LANES: u32 = 16u;
// PART's row length: one more word than the workgroup's threads, so that both the writes (thread
// t, output i) and the reads (lane l takes output l of every lane of its cell) fall in distinct
// memory banks.
const ROW: u32 = 65u;

// Partial output i of thread t at PART[i * ROW + t].
var<workgroup> PART: array<f32, 1040>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let lane = tid % LANES;
  let cell = tid / LANES;
  let cells_n = 4u / CELLS_M;
  let row = (wid.y * CELLS_M + cell / cells_n) * 4u;
  let col = (wid.x * cells_n + cell % cells_n) * 4u;
  // Rows and columns outside C read a clamped (valid) address and are never stored.
  let tile = register_tile(wid.z, row, col);
  let arow = tile.arow;
  let bcol = tile.bcol;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k = lane; k < P.K; k += LANES) {
    let ak = k * P.a_cs;
    let bk = k * P.b_rs;
    let b = vec4<f32>(B[bcol.x + bk], B[bcol.y + bk], B[bcol.z + bk], B[bcol.w + bk]);
    acc0 += A[arow.x + ak] * b;
    acc1 += A[arow.y + ak] * b;
    acc2 += A[arow.z + ak] * b;
    acc3 += A[arow.w + ak] * b;
  }
  for (var j = 0u; j < 4u; j++) {
    PART[j * ROW + tid] = acc0[j];
    PART[(4u + j) * ROW + tid] = acc1[j];
    PART[(8u + j) * ROW + tid] = acc2[j];
    PART[(12u + j) * ROW + tid] = acc3[j];
  }
  workgroupBarrier();
  // Lane l finishes output l of the cell: row l / 4, column l % 4.
  var v = 0.0;
  let first = lane * ROW + cell * LANES;
  for (var j = 0u; j < LANES; j++) {
    v += PART[first + j];
  }
  store_c(wid.z, row + lane / 4u, col + lane % 4u, v);
}
