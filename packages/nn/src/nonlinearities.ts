/**
 * Activation functions, as in `lasagne.nonlinearities`: plain functions from tensor to tensor,
 * passed to layers as `nonlinearity`. Layers recognise `rectify` by identity and fuse it into
 * their matmul / convolution kernel, so prefer it over an equivalent lambda.
 */
import * as ts from '@tessera/core';
import type { Tensor } from '@tessera/core';

/** A function applied elementwise (or, for softmax, along the class axis) to a layer's output. @example const swish: Nonlinearity = (x) => x.mul(x.sigmoid()); */
export type Nonlinearity = (x: Tensor) => Tensor;

/**
 * max(x, 0): the default of DenseLayer and Conv2DLayer (fused into their kernels there).
 *
 * @example
 * nonlinearities.rectify(ts.tensor([-1, 2]));   // [0, 2]
 */
export function rectify(x: Tensor): Tensor {
  return ts.relu(x);
}

/**
 * 1 / (1 + e^-x), computed without overflow.
 *
 * @example
 * new DenseLayer(l, { numUnits: 1, nonlinearity: nonlinearities.sigmoid });
 */
export function sigmoid(x: Tensor): Tensor {
  return ts.sigmoid(x);
}

/**
 * Softmax over axis 1 (the classes of an [N, C] output, or the channels of [N, C, H, W]),
 * computed stably. For training, prefer a linear output and
 * `objectives.categoricalCrossentropy(logits, y, { fromLogits: true })`: it is more accurate
 * than the cross-entropy of probabilities.
 *
 * @example
 * new DenseLayer(l, { numUnits: 10, nonlinearity: nonlinearities.softmax });
 */
export function softmax(x: Tensor): Tensor {
  if (x.rank < 2) throw new Error(`softmax: expected an input of rank >= 2 ([N, C, ...]), got shape ${ts.fmtShape(x.shape)}`);
  return ts.softmax(x, 1);
}

/**
 * Hyperbolic tangent.
 *
 * @example
 * nonlinearities.tanh(ts.tensor([0]));   // [0]
 */
export function tanh(x: Tensor): Tensor {
  return ts.tanh(x);
}

/**
 * The identity: a layer with `nonlinearity: linear` outputs its affine map (logits).
 * Layers return their pre-activation tensor unchanged for it (no copy).
 *
 * @example
 * new DenseLayer(l, { numUnits: 10, nonlinearity: nonlinearities.linear });
 */
export function linear(x: Tensor): Tensor {
  return x;
}

/** Alias of `linear`, as in Lasagne. @example nonlinearities.identity(x) === x */
export const identity = linear;

/**
 * Returns a leaky rectifier max(x, 0) + leakiness * min(x, 0), like Lasagne's `LeakyRectify`.
 *
 * @example
 * new DenseLayer(l, { numUnits: 64, nonlinearity: nonlinearities.LeakyRectify(0.1) });
 */
export function LeakyRectify(leakiness = 0.01): Nonlinearity {
  if (!Number.isFinite(leakiness)) throw new Error(`LeakyRectify: leakiness must be a finite number, got ${leakiness}`);
  const f = (x: Tensor): Tensor => ts.leakyRelu(x, leakiness);
  Object.defineProperty(f, 'name', { value: `leakyRectify(${leakiness})` });
  return f;
}

/**
 * Leaky rectifier with leakiness 0.01 (Lasagne's `leaky_rectify`).
 *
 * @example
 * nonlinearities.leakyRectify(ts.tensor([-100, 1]));   // [-1, 1]
 */
export function leakyRectify(x: Tensor): Tensor {
  return ts.leakyRelu(x, 0.01);
}

/**
 * Leaky rectifier with leakiness 1/3 (Lasagne's `very_leaky_rectify`).
 *
 * @example
 * nonlinearities.veryLeakyRectify(ts.tensor([-3]));   // [-1]
 */
export function veryLeakyRectify(x: Tensor): Tensor {
  return ts.leakyRelu(x, 1 / 3);
}

/**
 * Exponential linear unit: x for x > 0, else e^x - 1 (alpha 1, as Lasagne's `elu`).
 *
 * @example
 * nonlinearities.elu(ts.tensor([-1, 1]));   // [-0.632, 1]
 */
export function elu(x: Tensor): Tensor {
  return ts.elu(x, 1);
}

/**
 * log(1 + e^x), computed as max(x, 0) + log(1 + e^-|x|) so it never overflows.
 *
 * @example
 * nonlinearities.softplus(ts.tensor([0]));   // [0.693]
 */
export function softplus(x: Tensor): Tensor {
  // maximum (not relu) splits the gradient at the kink, so d/dx at 0 is 0.5 = sigmoid(0).
  return ts.tidy(() => x.maximum(0).add(x.abs().neg().exp().add(1).log()));
}
