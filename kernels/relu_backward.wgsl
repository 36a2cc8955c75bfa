// dx = dy where the ReLU's output y is positive, else 0: the backward pass of a fused
// conv/dense + ReLU epilogue in one contiguous pass (4 elements per thread, no index math),
// instead of two broadcasting elementwise ops (gt, then mul) and a temporary mask.

struct Params {
  size: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> DY: array<f32>;
@group(0) @binding(2) var<storage, read> Y: array<f32>;
@group(0) @binding(3) var<storage, read_write> DX: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i0 = (gid.x + gid.y * nwg.x * 64u) * 4u;
  if (i0 + 3u < P.size) {
    DX[i0] = select(0.0, DY[i0], Y[i0] > 0.0);
    DX[i0 + 1u] = select(0.0, DY[i0 + 1u], Y[i0 + 1u] > 0.0);
    DX[i0 + 2u] = select(0.0, DY[i0 + 2u], Y[i0 + 2u] > 0.0);
    DX[i0 + 3u] = select(0.0, DY[i0 + 3u], Y[i0 + 3u] > 0.0);
    return;
  }
  for (var i = i0; i < P.size; i++) {
    DX[i] = select(0.0, DY[i], Y[i] > 0.0);
  }
}
