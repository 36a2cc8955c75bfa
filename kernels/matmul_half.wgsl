// Batched C = op(A) @ op(B) (+ bias, then ReLU) on float16 halves: A, B, BIAS and C hold halves
// two to a 32-bit word (kernels/lib/half.wgsl). Each thread computes TM x 4 outputs as the
// register kernel of matmul.wgsl does, accumulating in float32 and rounding each output to half
// once, as PyTorch's half matmul does. The host sends only products whose N is even
// (`takesHalf`), so a thread's four columns (col0 a multiple of 4) are two whole words of C that
// no other thread writes.

#include "lib/half.wgsl"
#include "lib/matmul_params.wgsl"

// Rows per thread, 4 or 8, as in matmul.wgsl.
override TM: u32 = 4u;
// 1 where A is row-major (k contiguous) and K is even: one word holds a row's k and k + 1, so
// the loop takes two k per step and reads each word of A once.
override A_PAIRS: u32 = 0u;
// 1 where B is row-major (n contiguous): a thread's four columns are two words of a row of B.
override B_PAIRS: u32 = 0u;

@group(0) @binding(1) var<storage, read> A: array<u32>;
@group(0) @binding(2) var<storage, read> B: array<u32>;
@group(0) @binding(3) var<storage, read> BIAS: array<u32>;
@group(0) @binding(4) var<storage, read_write> OUT: array<u32>;

fn a_at(i: u32) -> f32 {
  return half_value(A[i >> 1u], i);
}

fn b_at(i: u32) -> f32 {
  return half_value(B[i >> 1u], i);
}

// Row k of B at the thread's four columns (bk = k * b_rs). bcol holds the columns' clamped
// indices: past N, the second word is the row's last, whose values are never stored.
fn b4(bk: u32, bcol: vec4<u32>) -> vec4<f32> {
  if (B_PAIRS == 1u) {
    return vec4<f32>(unpack2x16float(B[(bcol.x + bk) >> 1u]), unpack2x16float(B[(bcol.z + bk) >> 1u]));
  }
  return vec4<f32>(b_at(bcol.x + bk), b_at(bcol.y + bk), b_at(bcol.z + bk), b_at(bcol.w + bk));
}

// Columns k and k + 1 of A's row at `row` (A_PAIRS: an even index, one word).
fn a2(row: u32, k: u32) -> vec2<f32> {
  return unpack2x16float(A[(row + k) >> 1u]);
}

// Output value v of column col, with the bias and ReLU the flags ask for.
fn finish(v: f32, col: u32) -> f32 {
  var x = v;
  if (has_bias()) {
    x += half_value(BIAS[col >> 1u], col);
  }
  if (relu_on()) {
    x = max(x, 0.0);
  }
  return x;
}

// Columns col .. col+3 of one output row: two words, the second only where it is in C.
fn put4(out_base: u32, row: u32, col: u32, acc: vec4<f32>) {
  if (row >= P.M) {
    return;
  }
  let w = (out_base + row * P.N + col) >> 1u;
  let c = min(vec4<u32>(col) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(P.N - 1u));
  OUT[w] = half_pair(finish(acc.x, c.x), finish(acc.y, c.y));
  if (col + 2u < P.N) {
    OUT[w + 1u] = half_pair(finish(acc.z, c.z), finish(acc.w, c.w));
  }
}

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
  if (A_PAIRS == 1u) {
    // The same sums in the same order as one k per step: k's product, then k + 1's.
    for (var k = 0u; k < P.K; k += 2u) {
      let b0 = b4(k * P.b_rs, bcol);
      let b1 = b4((k + 1u) * P.b_rs, bcol);
      let r0 = a2(arow.x, k);
      let r1 = a2(arow.y, k);
      let r2 = a2(arow.z, k);
      let r3 = a2(arow.w, k);
      acc0 += r0.x * b0;
      acc0 += r0.y * b1;
      acc1 += r1.x * b0;
      acc1 += r1.y * b1;
      acc2 += r2.x * b0;
      acc2 += r2.y * b1;
      acc3 += r3.x * b0;
      acc3 += r3.y * b1;
      if (TM == 8u) {
        let r4 = a2(arow2.x, k);
        let r5 = a2(arow2.y, k);
        let r6 = a2(arow2.z, k);
        let r7 = a2(arow2.w, k);
        acc4 += r4.x * b0;
        acc4 += r4.y * b1;
        acc5 += r5.x * b0;
        acc5 += r5.y * b1;
        acc6 += r6.x * b0;
        acc6 += r6.y * b1;
        acc7 += r7.x * b0;
        acc7 += r7.y * b1;
      }
    }
  } else {
    for (var k = 0u; k < P.K; k++) {
      let ak = k * P.a_cs;
      let b = b4(k * P.b_rs, bcol);
      acc0 += a_at(arow.x + ak) * b;
      acc1 += a_at(arow.y + ak) * b;
      acc2 += a_at(arow.z + ak) * b;
      acc3 += a_at(arow.w + ak) * b;
      if (TM == 8u) {
        acc4 += a_at(arow2.x + ak) * b;
        acc5 += a_at(arow2.y + ak) * b;
        acc6 += a_at(arow2.z + ak) * b;
        acc7 += a_at(arow2.w + ak) * b;
      }
    }
  }
  let out_base = gid.z * P.M * P.N;
  put4(out_base, row0, col0, acc0);
  put4(out_base, row0 + 1u, col0, acc1);
  put4(out_base, row0 + 2u, col0, acc2);
  put4(out_base, row0 + 3u, col0, acc3);
  if (TM == 8u) {
    put4(out_base, row0 + 4u, col0, acc4);
    put4(out_base, row0 + 5u, col0, acc5);
    put4(out_base, row0 + 6u, col0, acc6);
    put4(out_base, row0 + 7u, col0, acc7);
  }
}
