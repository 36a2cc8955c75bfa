/**
 * Batch normalization, as `lasagne.layers.normalization`: `BatchNormLayer` and the `batchNorm`
 * helper that inserts one after a layer.
 */
import * as ts from '@tessera/core';
import { Tensor } from '@tessera/core';
import { Constant } from '../init.js';
import { linear, type Nonlinearity } from '../nonlinearities.js';
import { layerArgs } from './args.js';
import { Layer, fmtLayerShape, type ForwardOptions, type LayerOptions, type LayerShape, type ParamSpec } from './base.js';
import { NonlinearityLayer } from './special.js';

/** Options of BatchNormLayer (Lasagne's arguments, camelCase). @example const opts: nn.BatchNormLayerOptions = { alpha: 0.1, epsilon: 1e-5 }; */
export interface BatchNormLayerOptions extends LayerOptions {
  /**
   * The axes to normalize over: 'auto' (the default: every axis but 1, so per channel for
   * [N, C, H, W] and per feature for [N, C]), or a list that leaves out exactly one axis, the
   * channel axis, which must have a fixed size.
   */
  axes?: 'auto' | number | readonly number[];
  /** Added to the variance before the square root; default 1e-5 (PyTorch's; Lasagne's is 1e-4). */
  epsilon?: number;
  /** The running averages' coefficient: running = (1 - alpha) * running + alpha * batch; default 0.1 (PyTorch's momentum). */
  alpha?: number;
  /** Shift [C], default Constant(0); null for none. Trainable, not regularizable. */
  beta?: ParamSpec | null;
  /** Scale [C], default Constant(1); null for none. Trainable and regularizable, as in Lasagne. */
  gamma?: ParamSpec | null;
  /** Running mean [C], default Constant(0). Neither trainable nor regularizable. */
  mean?: ParamSpec;
  /** Running variance [C] (PyTorch's running_var; Lasagne keeps inv_std), default Constant(1). Neither trainable nor regularizable. */
  var?: ParamSpec;
}

/**
 * Batch normalization (Ioffe and Szegedy, 2015), Lasagne's `BatchNormLayer`: normalizes each
 * channel over the batch (and the spatial axes), then scales by `gamma` and shifts by `beta`.
 *
 * - Training (`getOutput(net, x)`): normalizes with the batch's mean and (biased) variance and
 *   updates the running averages `mean` and `var` in place, var with the unbiased batch
 *   variance, exactly as PyTorch's `BatchNorm1d` / `BatchNorm2d` in train mode.
 * - Evaluation (`getOutput(net, x, { deterministic: true })`): normalizes with `mean` and `var`.
 *
 * Parameters: `beta` and `gamma` are trainable (gamma is also regularizable, as in Lasagne);
 * `mean` and `var` are neither trainable nor regularizable, so optimizers and weight penalties
 * leave them alone, and `saveParams` and `exportTorchStateDict` include them
 * (as `running_mean` / `running_var`). With `alpha: 0.1, epsilon: 1e-5` (the defaults) it computes
 * what PyTorch's defaults do.
 *
 * Two forms: Lasagne's positional `new BatchNormLayer(incoming, axes?, epsilon?, alpha?, { ...rest })`
 * and the options object `new BatchNormLayer(incoming, { axes, epsilon, alpha, ...rest })`.
 *
 * @example
 * const data = new InputLayer([null, 3, 32, 32]);
 * const conv = new Conv2DLayer(data, 16, 3, { pad: 1, b: null, nonlinearity: null });
 * const bn = new BatchNormLayer(conv);   // Lasagne: BatchNormLayer(conv)
 * const relu = new NonlinearityLayer(bn);
 * bn.gamma!.shape;   // [16]
 * const evalOut = getOutput(relu, ts.randn([4, 3, 32, 32]), { deterministic: true });   // running statistics
 */
export class BatchNormLayer extends Layer {
  readonly typeName = 'batchnorm';
  /** The axes normalized over (sorted, non-negative). */
  readonly axes: readonly number[];
  /** The channel axis: the one axis not in `axes`. */
  readonly axis: number;
  readonly epsilon: number;
  readonly alpha: number;
  readonly beta: Tensor | null;
  readonly gamma: Tensor | null;
  readonly mean: Tensor;
  readonly var: Tensor;

  /** Lasagne's form: `axes`, `epsilon` and `alpha` positional (each optional), the other options after them. */
  constructor(
    incoming: Layer,
    axes?: 'auto' | number | readonly number[],
    epsilon?: number,
    alpha?: number,
    opts?: Omit<BatchNormLayerOptions, 'axes' | 'epsilon' | 'alpha'>,
  );
  /** The options form. */
  constructor(incoming: Layer, opts?: BatchNormLayerOptions);
  constructor(incoming: Layer, ...args: unknown[]) {
    const o = layerArgs<BatchNormLayerOptions>(new.target.name, 'incoming', ['axes', 'epsilon', 'alpha'], args);
    super([incoming], o);
    const shape = this.inputShape;
    const rank = shape.length;
    if (rank < 2) this.shapeError(shape, '[batch, channels, ...] (rank 2 or more)');
    const rawAxes = o.axes ?? 'auto';
    let axes: number[];
    if (rawAxes === 'auto') axes = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
    else {
      const list = typeof rawAxes === 'number' ? [rawAxes] : Array.isArray(rawAxes) ? [...rawAxes] : null;
      if (!list?.every((a) => Number.isInteger(a) && a >= -rank && a < rank)) {
        throw new Error(
          `${this.label}: axes must be 'auto' or integers in [${-rank}, ${rank - 1}] for input ${fmtLayerShape(shape)}, got ${JSON.stringify(rawAxes)}`,
        );
      }
      axes = [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
    }
    const kept = [...Array(rank).keys()].filter((a) => !axes.includes(a));
    if (kept.length !== 1) {
      throw new Error(
        `${this.label}: axes ${JSON.stringify(axes)} leave ${kept.length ? `axes ${JSON.stringify(kept)}` : 'no axis'} of input ${fmtLayerShape(shape)} unnormalized; exactly one (the channels) is supported`,
      );
    }
    this.axes = axes;
    this.axis = kept[0]!;
    const C = shape[this.axis];
    if (C === null || C === undefined) this.shapeError(shape, `a fixed size on axis ${this.axis} (the channels), so the parameter shape is known`);
    this.epsilon = o.epsilon ?? 1e-5;
    if (typeof this.epsilon !== 'number' || !Number.isFinite(this.epsilon) || this.epsilon < 0) {
      throw new Error(`${this.label}: epsilon must be a finite number >= 0, got ${JSON.stringify(o.epsilon)}`);
    }
    this.alpha = o.alpha ?? 0.1;
    if (typeof this.alpha !== 'number' || !(this.alpha >= 0 && this.alpha <= 1))
      throw new Error(`${this.label}: alpha must be a number in [0, 1], got ${JSON.stringify(o.alpha)}`);
    this.beta = o.beta === null ? null : this.addParam(o.beta ?? Constant(0), [C], 'beta', { regularizable: false });
    this.gamma = o.gamma === null ? null : this.addParam(o.gamma ?? Constant(1), [C], 'gamma');
    this.mean = this.addParam(o.mean ?? Constant(0), [C], 'mean', { trainable: false, regularizable: false });
    this.var = this.addParam(o.var ?? Constant(1), [C], 'var', { trainable: false, regularizable: false });
  }

  getOutputShapeFor([shape]: readonly LayerShape[]): LayerShape {
    return shape!;
  }

  getOutputFor([x]: readonly Tensor[], opts: ForwardOptions = {}): Tensor {
    const training = !opts.deterministic;
    try {
      return ts.batchNorm(x!, {
        gamma: this.gamma,
        beta: this.beta,
        runningMean: this.mean,
        runningVar: this.var,
        training,
        momentum: this.alpha,
        epsilon: this.epsilon,
        axis: this.axis,
      });
    } catch (e) {
      throw new Error(`${this.label}: ${(e as Error).message}`);
    }
  }
}

/** What `batchNorm` looks for on a layer, as Lasagne's `batch_norm` does (DenseLayer and Conv2DLayer have both). */
interface WithBiasAndNonlinearity {
  nonlinearity?: Nonlinearity;
  b?: Tensor | null;
}

/**
 * Lasagne's `batch_norm` helper: puts a BatchNormLayer after `layer`, moving the layer's
 * nonlinearity after it (into a NonlinearityLayer) and dropping the layer's bias, which the
 * normalization would cancel (beta takes its place). Returns the new last layer: the
 * NonlinearityLayer, or the BatchNormLayer when the layer was linear. The layer is changed in
 * place (its `nonlinearity` becomes linear and its `b` null; the bias tensor is freed if the
 * layer made it). The new layers are named `<name>_bn` and `<name>_bn_nonlin` when the layer has
 * a name, or after `opts.name`.
 *
 * @example
 * const data = new InputLayer([null, 1, 28, 28]);
 * const conv1 = batchNorm(new Conv2DLayer(data, 16, 3, { pad: 1, name: 'conv1' }));   // conv1 (no bias) -> conv1_bn -> conv1_bn_nonlin (ReLU)
 * const fc = batchNorm(new DenseLayer(conv1, 64));
 * const out = new DenseLayer(fc, 10, { nonlinearity: null });
 */
export function batchNorm(layer: Layer, opts: BatchNormLayerOptions = {}): Layer {
  if (!(layer instanceof Layer)) throw new Error(`batchNorm: expected a Layer, got ${layer === null ? 'null' : typeof layer}`);
  const target = layer as unknown as WithBiasAndNonlinearity;
  const nonlinearity = typeof target.nonlinearity === 'function' ? target.nonlinearity : null;
  // Check the BatchNormLayer's options before changing the layer.
  const name = opts.name ?? (layer.name ? `${layer.name}_bn` : undefined);
  const bn = new BatchNormLayer(layer, { ...opts, name });
  if (nonlinearity) target.nonlinearity = linear;
  if (target.b instanceof Tensor) {
    layer.removeParam(target.b);
    target.b = null;
  }
  if (!nonlinearity || nonlinearity === linear) return bn;
  return new NonlinearityLayer(bn, nonlinearity, name ? { name: `${name}_nonlin` } : {});
}
