// Batched C = op(A) @ op(B) (+ bias, then activation) for few outputs and a long reduction, as
// matmul_splitk.wgsl, with the reduction done by subgroup operations: a workgroup of 64 threads
// computes one 4x4 cell of C, thread t summing k = t, t + 64, t + 128, ... (neighbouring
// threads read neighbouring k), and subgroupAdd then adds up the partial cells of each subgroup
// in registers. Only one partial cell per subgroup goes through workgroup memory (2 where
// subgroups have 32 invocations, as on most GPUs) instead of one per thread, and 16 threads
// add those up, one output each.
//
// WGSL fixes neither the subgroup size (4 to 128) nor which invocations form a subgroup. So
// each subgroup's elected invocation stores its sum at its own index and sets that index's bit
// in FILLED; after the barrier the sums are added in index order, which keeps the result
// independent of timing, and a subgroup larger than the workgroup still yields one sum.
// Outputs outside C (the ragged edge, the 3 unused rows when M = 1) read a clamped address and
// are never stored.
//
// The file enables the 'subgroups' extension: PipelineCache.compileAll skips it on a device
// without that feature, and the builder offers this variant only where `caps.subgroups` holds.

enable subgroups;

#include "lib/matmul.wgsl"
#include "lib/epilogue.wgsl"


@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<storage, read_write> OUT: array<f32>;

// Threads per workgroup, all sharing the cell's reduction.
const THREADS: u32 = 64u;

// A subgroup's partial cell, rows 0-3, at the index of its elected invocation.
var<workgroup> PART: array<array<vec4<f32>, 4>, 64>;
// Bit t (word t / 32) set where PART[t] holds a subgroup's sum.
var<workgroup> FILLED: array<atomic<u32>, 2>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let row = wid.y * 4u;
  let col = wid.x * 4u;
  let tile = register_tile(wid.z, row, col);
  let arow = tile.arow;
  let bcol = tile.bcol;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  // The loop's bound is uniform (a thread past K skips the body), so that every invocation
  // reaches subgroupAdd together, as WGSL requires.
  for (var k0 = 0u; k0 < P.K; k0 += THREADS) {
    let k = k0 + tid;
    if (k < P.K) {
      let ak = k * P.a_cs;
      let bk = k * P.b_rs;
      let b = vec4<f32>(B[bcol.x + bk], B[bcol.y + bk], B[bcol.z + bk], B[bcol.w + bk]);
      acc0 += A[arow.x + ak] * b;
      acc1 += A[arow.y + ak] * b;
      acc2 += A[arow.z + ak] * b;
      acc3 += A[arow.w + ak] * b;
    }
  }
  let s0 = subgroupAdd(acc0);
  let s1 = subgroupAdd(acc1);
  let s2 = subgroupAdd(acc2);
  let s3 = subgroupAdd(acc3);
  if (subgroupElect()) {
    PART[tid] = array<vec4<f32>, 4>(s0, s1, s2, s3);
    atomicOr(&FILLED[tid / 32u], 1u << (tid % 32u));
  }
  workgroupBarrier();
  if (tid >= 16u) {
    return;
  }
  // Thread tid < 16 finishes output (tid / 4, tid % 4) of the cell.
  let i = tid / 4u;
  let j = tid % 4u;
  var v = 0.0;
  for (var w = 0u; w < 2u; w++) {
    var bits = atomicLoad(&FILLED[w]);
    while (bits != 0u) {
      v += PART[w * 32u + countTrailingZeros(bits)][i][j];
      bits &= bits - 1u;
    }
  }
  store_c(wid.z, row + i, col + j, v);
}
