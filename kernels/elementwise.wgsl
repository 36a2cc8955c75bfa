// Broadcasting elementwise ops over up to three inputs (binary ops read A and B; `where` reads
// the condition from C). Each input is read through its own strides, 0 on broadcast dimensions.
// *_INT say which buffers hold int32 bits; int32 results are computed in integers. *_HALF say
// which hold float16 halves (two to a word): the math stays float32, rounded once at the store.
// A half output is written only by the FLAT form, whose threads own whole output words.

#include "lib/half.wgsl"
#include "lib/math.wgsl"

struct Params {
  size: u32,
  rank: u32,
  shape: array<vec4<u32>, 2>,
  a_strides: array<vec4<u32>, 2>,
  b_strides: array<vec4<u32>, 2>,
  c_strides: array<vec4<u32>, 2>,
}

override OP: u32 = 0u;
override A_INT: u32 = 0u;
override B_INT: u32 = 0u;
override C_INT: u32 = 0u;
override OUT_INT: u32 = 0u;
override A_HALF: u32 = 0u;
override B_HALF: u32 = 0u;
override OUT_HALF: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> A: array<u32>;
@group(0) @binding(2) var<storage, read> B: array<u32>;
@group(0) @binding(3) var<storage, read> C: array<u32>;
@group(0) @binding(4) var<storage, read_write> OUT: array<u32>;

fn as_f32(bits: u32, is_int: u32) -> f32 {
  if (is_int == 1u) {
    return f32(bitcast<i32>(bits));
  }
  return bitcast<f32>(bits);
}

fn apply_f32(x: f32, y: f32) -> f32 {
  switch OP {
    case 0u: { return x + y; }
    case 1u: { return x - y; }
    case 2u: { return x * y; }
    case 3u: { return x / y; }
    case 4u: { return pow_signed(x, y); }
    case 5u: { return max(x, y); }
    case 6u: { return min(x, y); }
    case 7u: { return select(0.0, 1.0, x == y); }
    case 8u: { return select(0.0, 1.0, x != y); }
    case 9u: { return select(0.0, 1.0, x > y); }
    case 10u: { return select(0.0, 1.0, x >= y); }
    case 11u: { return select(0.0, 1.0, x < y); }
    case 12u: { return select(0.0, 1.0, x <= y); }
    default: { return 0.0; }
  }
}

fn apply_i32(x: i32, y: i32) -> i32 {
  switch OP {
    case 0u: { return x + y; }
    case 1u: { return x - y; }
    case 2u: { return x * y; }
    case 5u: { return max(x, y); }
    case 6u: { return min(x, y); }
    default: { return 0; }
  }
}

// Operand values as float32, whatever the buffer holds.
fn a_value(ia: u32) -> f32 {
  if (A_HALF == 1u) {
    return half_value(A[ia >> 1u], ia);
  }
  return as_f32(A[ia], A_INT);
}

fn b_value(ib: u32) -> f32 {
  if (B_HALF == 1u) {
    return half_value(B[ib >> 1u], ib);
  }
  return as_f32(B[ib], B_INT);
}

// Elements i and i + 1 of a FLAT operand (stride 1, or 0 for a scalar): a half operand's
// word holds both. Element i + 1 may be one past the end (the spare half of a last word).
fn a_pair(i: u32, stride: u32) -> vec2<f32> {
  if (A_HALF == 1u) {
    return select(vec2<f32>(unpack2x16float(A[0]).x), unpack2x16float(A[i >> 1u]), stride == 1u);
  }
  return vec2<f32>(a_value(i * stride), a_value(min(i + 1u, P.size - 1u) * stride));
}

fn b_pair(i: u32, stride: u32) -> vec2<f32> {
  if (B_HALF == 1u) {
    return select(vec2<f32>(unpack2x16float(B[0]).x), unpack2x16float(B[i >> 1u]), stride == 1u);
  }
  return vec2<f32>(b_value(i * stride), b_value(min(i + 1u, P.size - 1u) * stride));
}

// Element i of the output, from A[ia], B[ib] and C[ic].
fn store(i: u32, ia: u32, ib: u32, ic: u32) {
  if (OP == 13u) {
    // where(C, A, B): the chosen operand is copied with its dtype converted to the output's.
    let take_a = as_f32(C[ic], C_INT) != 0.0;
    let bits = select(B[ib], A[ia], take_a);
    let is_int = select(B_INT, A_INT, take_a);
    if (OUT_INT == is_int) {
      OUT[i] = bits;
    } else {
      OUT[i] = bitcast<u32>(as_f32(bits, is_int));
    }
    return;
  }
  if (OUT_INT == 1u) {
    OUT[i] = bitcast<u32>(apply_i32(bitcast<i32>(A[ia]), bitcast<i32>(B[ib])));
  } else {
    OUT[i] = bitcast<u32>(apply_f32(a_value(ia), b_value(ib)));
  }
}

// 1 when the operands collapse to one dimension (same shapes, or scalars): then each thread
// takes 4 consecutive elements with no index math, since on a CPU adapter the per-invocation
// overhead bounds a one-element thread.
override FLAT: u32 = 0u;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * 64u;
  if (FLAT == 1u) {
    let sa = P.a_strides[0][0];
    let sb = P.b_strides[0][0];
    let sc = P.c_strides[0][0];
    let i0 = t * 4u;
    if (OUT_HALF == 1u) {
      // This thread owns output words i0/2 and i0/2 + 1; a last word's spare half gets a value
      // that nothing reads.
      for (var i = i0; i < min(i0 + 4u, P.size); i += 2u) {
        let a = a_pair(i, sa);
        let b = b_pair(i, sb);
        OUT[i >> 1u] = half_pair(apply_f32(a.x, b.x), apply_f32(a.y, b.y));
      }
      return;
    }
    for (var i = i0; i < min(i0 + 4u, P.size); i++) {
      store(i, i * sa, i * sb, i * sc);
    }
    return;
  }
  let i = t;
  if (i >= P.size) {
    return;
  }
  var rem = i;
  var ia = 0u;
  var ib = 0u;
  var ic = 0u;
  for (var d = i32(P.rank) - 1; d >= 0; d--) {
    let n = P.shape[u32(d) >> 2u][u32(d) & 3u];
    let k = rem % n;
    rem = rem / n;
    ia += k * P.a_strides[u32(d) >> 2u][u32(d) & 3u];
    ib += k * P.b_strides[u32(d) >> 2u][u32(d) & 3u];
    ic += k * P.c_strides[u32(d) >> 2u][u32(d) & 3u];
  }
  store(i, ia, ib, ic);
}
