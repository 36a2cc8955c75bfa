// The uniform block and row layout shared by softmax.wgsl and softmax_backward.wgsl (SOFTMAX in
// packages/webgpu/src/spec.ts): `rows` rows of D elements each, a row's elements `inner` apart
// (inner = 1 for the last axis). row_base reads the including kernel's uniform `P: Params`.

struct Params {
  rows: u32,
  D: u32,
  inner: u32,
}

// Offset of row r's first element.
fn row_base(r: u32) -> u32 {
  let o = r / P.inner;
  return o * P.D * P.inner + (r - o * P.inner);
}
