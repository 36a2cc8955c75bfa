// The optimizer rules, one element at a time, shared by kernels/optim.wgsl (one parameter a
// dispatch) and kernels/optim_multi.wgsl (three a dispatch), so both give the same bits. The
// formulas are PyTorch's (torch.optim, foreach=False). The including kernel declares `P` (the
// hyperparameters below) and the `RULE` override:
// 0 sgd, 1 momentum, 2 nesterov, 3 rmsprop, 4 adam, 5 adamw, 6 adagrad, 7 adadelta, 8 adamax.
//
//   struct Params { ...sizes..., lr, beta1, beta2, eps, weight_decay, momentum,
//                   bias_correction1, bias_correction2_sqrt }
//
// momentum-free rules ignore beta1/beta2; rmsprop and adadelta read beta1 as their decay
// (PyTorch's alpha and rho). bias_correction1 = 1 - beta1^t and bias_correction2_sqrt =
// sqrt(1 - beta2^t) come from the CPU; Adagrad's lr_decay is folded into lr there too.

// A parameter element and its two state elements, before or after a step.
struct OptimElement {
  p: f32,
  s1: f32,
  s2: f32,
}

// How many state buffers RULE reads and writes (rmsprop's second only with momentum).
fn optim_states() -> u32 {
  switch RULE {
    case 0u: {
      return 0u;
    }
    case 1u, 2u, 6u: {
      return 1u;
    }
    case 3u: {
      return select(1u, 2u, P.momentum > 0.0);
    }
    default: {
      return 2u;
    }
  }
}

// One step of RULE on one element; `g` is the gradient already multiplied by its scale.
fn optim_step(e: OptimElement, grad: f32) -> OptimElement {
  var p = e.p;
  var s1 = e.s1;
  var s2 = e.s2;
  var g = grad;
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
      s1 = P.momentum * s1 + g;
      p = p - P.lr * s1;
    }
    case 2u: {
      s1 = P.momentum * s1 + g;
      p = p - P.lr * (g + P.momentum * s1);
    }
    case 3u: {
      s1 = P.beta1 * s1 + (1.0 - P.beta1) * g * g;
      let step = g / (sqrt(s1) + P.eps);
      if (P.momentum > 0.0) {
        s2 = P.momentum * s2 + step;
        p = p - P.lr * s2;
      } else {
        p = p - P.lr * step;
      }
    }
    case 6u: {
      // Adagrad: the sum of squared gradients; eps outside the sqrt.
      s1 = s1 + g * g;
      p = p - P.lr * (g / (sqrt(s1) + P.eps));
    }
    case 7u: {
      // Adadelta: eps inside both square roots; the delta average takes the step before lr.
      s1 = P.beta1 * s1 + (1.0 - P.beta1) * g * g;
      let delta = sqrt(s2 + P.eps) / sqrt(s1 + P.eps) * g;
      s2 = P.beta1 * s2 + (1.0 - P.beta1) * delta * delta;
      p = p - P.lr * delta;
    }
    case 8u: {
      // Adamax: eps is added to |g| inside the max (PyTorch), not to the denominator.
      s1 = P.beta1 * s1 + (1.0 - P.beta1) * g;
      s2 = max(P.beta2 * s2, abs(g) + P.eps);
      p = p - (P.lr / P.bias_correction1) * (s1 / s2);
    }
    default: {
      s1 = P.beta1 * s1 + (1.0 - P.beta1) * g;
      s2 = P.beta2 * s2 + (1.0 - P.beta2) * g * g;
      let denom = sqrt(s2) / P.bias_correction2_sqrt + P.eps;
      p = p - (P.lr / P.bias_correction1) * (s1 / denom);
    }
  }
  return OptimElement(p, s1, s2);
}
