// The value a kernel stores at element i of its output: kernels that include this file send
// every store of their output through it. ts.compile's fusion replaces the function with one
// that applies a chain of elementwise ops to the value (packages/webgpu/src/fusion/codegen.ts,
// EPILOGUE_HOOK); as it is, it costs nothing (it is inlined away).
fn epilogue(v: f32, i: u32) -> f32 {
  return v;
}
