// One-input elementwise functions. OP picks the function at pipeline creation; X_INT / OUT_INT
// say whether the input / output buffers hold int32 rather than float32 bits, X_HALF / OUT_HALF
// whether they hold float16 halves (two to a word; the math stays float32, rounded once).

#include "lib/half.wgsl"
#include "lib/math.wgsl"

struct Params {
  size: u32,
  alpha: f32,
}

override OP: u32 = 0u;
override X_INT: u32 = 0u;
override OUT_INT: u32 = 0u;
override X_HALF: u32 = 0u;
override OUT_HALF: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<u32>;

fn load(i: u32) -> f32 {
  if (X_HALF == 1u) {
    return half_value(X[i >> 1u], i);
  }
  if (X_INT == 1u) {
    return f32(bitcast<i32>(X[i]));
  }
  return bitcast<f32>(X[i]);
}

fn apply(x: f32) -> f32 {
  switch OP {
    case 0u: { return -x; }
    case 1u: { return exp(x); }
    case 2u: { return log(x); }
    case 3u: { return sqrt(x); }
    case 4u: { return abs(x); }
    case 5u: { return sign(x); }
    case 6u: { return select(0.0, x, x > 0.0); }
    case 7u: { return sigmoid_stable(x); }
    case 8u: { return tanh_stable(x); }
    case 9u: { return select(P.alpha * x, x, x > 0.0); }
    case 10u: { return select(P.alpha * (exp(min(x, 0.0)) - 1.0), x, x > 0.0); }
    case 11u: { return x * x; }
    case 12u: { return 1.0 / x; }
    default: { return x; }
  }
}

fn store(i: u32) {
  let y = apply(load(i));
  if (OUT_INT == 1u) {
    OUT[i] = bitcast<u32>(i32(y));
  } else {
    OUT[i] = bitcast<u32>(y);
  }
}

// 4 consecutive elements per thread: on a CPU adapter the per-invocation overhead, not the
// math, bounds a one-element thread (an 800k-element ReLU took ~50 ms that way on SwiftShader).
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i0 = (gid.x + gid.y * nwg.x * 64u) * 4u;
  if (OUT_HALF == 1u) {
    // Halves in and out (a unary op keeps the dtype): this thread owns words i0/2 and i0/2 + 1
    // of both. The spare half of a last word gets a value that nothing reads.
    let w = i0 >> 1u;
    if (i0 < P.size) {
      let v = unpack2x16float(X[w]);
      OUT[w] = half_pair(apply(v.x), apply(v.y));
    }
    if (i0 + 2u < P.size) {
      let v = unpack2x16float(X[w + 1u]);
      OUT[w + 1u] = half_pair(apply(v.x), apply(v.y));
    }
    return;
  }
  if (i0 + 3u < P.size) {
    store(i0);
    store(i0 + 1u);
    store(i0 + 2u);
    store(i0 + 3u);
    return;
  }
  for (var i = i0; i < P.size; i++) {
    store(i);
  }
}
