// One optimizer step for one parameter, in place: reads the gradient once, updates the state
// buffers and the parameter in the same thread, so a training step costs one dispatch per
// parameter and no readback. The formulas are PyTorch's (torch.optim, foreach=False), so the
// golden tests can compare step by step; see OptimRule in packages/core/src/backend.ts.
//
// SCALE[0] multiplies every gradient element before use. It lives on the GPU so that gradient
// clipping by global norm (computed by tensor ops) needs no readback; it is 1 otherwise.

struct Params {
  size: u32,
  lr: f32,
  // momentum-free rules ignore these; rmsprop and adadelta read beta1 as their decay
  // (PyTorch's alpha and rho).
  beta1: f32,
  beta2: f32,
  eps: f32,
  weight_decay: f32,
  momentum: f32,
  // 1 - beta1^t and sqrt(1 - beta2^t), computed on the CPU from the step count. Adagrad's
  // lr_decay is folded into lr on the CPU too.
  bias_correction1: f32,
  bias_correction2_sqrt: f32,
}

// 0 sgd, 1 momentum, 2 nesterov, 3 rmsprop, 4 adam, 5 adamw, 6 adagrad, 7 adadelta, 8 adamax.
override RULE: u32 = 0u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> PARAM: array<f32>;
@group(0) @binding(2) var<storage, read> GRAD: array<f32>;
@group(0) @binding(3) var<storage, read_write> S1: array<f32>;
@group(0) @binding(4) var<storage, read_write> S2: array<f32>;
@group(0) @binding(5) var<storage, read> SCALE: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= P.size) {
    return;
  }
  var p = PARAM[i];
  var g = GRAD[i] * SCALE[0];
  if (RULE == 5u) {
    // AdamW: decoupled weight decay shrinks the parameter, not the gradient.
    p = p * (1.0 - P.lr * P.weight_decay);
  } else {
    // Every other rule adds L2 weight decay to the gradient, as torch.optim does.
    g = g + P.weight_decay * p;
  }
  switch RULE {
    case 0u: {
      p = p - P.lr * g;
    }
    case 1u: {
      let buf = P.momentum * S1[i] + g;
      S1[i] = buf;
      p = p - P.lr * buf;
    }
    case 2u: {
      let buf = P.momentum * S1[i] + g;
      S1[i] = buf;
      p = p - P.lr * (g + P.momentum * buf);
    }
    case 3u: {
      let sq = P.beta1 * S1[i] + (1.0 - P.beta1) * g * g;
      S1[i] = sq;
      let step = g / (sqrt(sq) + P.eps);
      if (P.momentum > 0.0) {
        let buf = P.momentum * S2[i] + step;
        S2[i] = buf;
        p = p - P.lr * buf;
      } else {
        p = p - P.lr * step;
      }
    }
    case 6u: {
      // Adagrad: the sum of squared gradients; eps outside the sqrt.
      let sum = S1[i] + g * g;
      S1[i] = sum;
      p = p - P.lr * (g / (sqrt(sum) + P.eps));
    }
    case 7u: {
      // Adadelta: eps inside both square roots; the delta average takes the step before lr.
      let sq = P.beta1 * S1[i] + (1.0 - P.beta1) * g * g;
      S1[i] = sq;
      let delta = sqrt(S2[i] + P.eps) / sqrt(sq + P.eps) * g;
      S2[i] = P.beta1 * S2[i] + (1.0 - P.beta1) * delta * delta;
      p = p - P.lr * delta;
    }
    case 8u: {
      // Adamax: eps is added to |g| inside the max (PyTorch), not to the denominator.
      let m = P.beta1 * S1[i] + (1.0 - P.beta1) * g;
      let u = max(P.beta2 * S2[i], abs(g) + P.eps);
      S1[i] = m;
      S2[i] = u;
      p = p - (P.lr / P.bias_correction1) * (m / u);
    }
    default: {
      let m = P.beta1 * S1[i] + (1.0 - P.beta1) * g;
      let v = P.beta2 * S2[i] + (1.0 - P.beta2) * g * g;
      S1[i] = m;
      S2[i] = v;
      let denom = sqrt(v) / P.bias_correction2_sqrt + P.eps;
      p = p - (P.lr / P.bias_correction1) * (m / denom);
    }
  }
  PARAM[i] = p;
}
