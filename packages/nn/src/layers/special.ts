import type { Tensor } from '@tessera/core';
import { rectify, linear, type Nonlinearity } from '../nonlinearities.js';
import { layerArgs } from './args.js';
import { Layer, type LayerOptions, type LayerShape } from './base.js';

/** Options of NonlinearityLayer. @example const opts: nn.NonlinearityLayerOptions = { nonlinearity: nn.nonlinearities.softmax }; */
export interface NonlinearityLayerOptions extends LayerOptions {
  /** Default `rectify`; null means linear. */
  nonlinearity?: Nonlinearity | null;
}

/**
 * Applies a nonlinearity on its own, e.g. after a layer built with a linear output.
 *
 * Two forms: Lasagne's positional `new NonlinearityLayer(incoming, nonlinearity?, { ...rest })`
 * (`NonlinearityLayer(incoming, nonlinearity=rectify)`), and the options object
 * `new NonlinearityLayer(incoming, { nonlinearity, ...rest })`. Giving `nonlinearity` both ways
 * throws; `null` is linear in both.
 *
 * @example
 * const h = new InputLayer([null, 100]);
 * const logits = new DenseLayer(h, 10, { nonlinearity: null });
 * const probs = new NonlinearityLayer(logits, nn.nonlinearities.softmax);   // Lasagne: NonlinearityLayer(logits, softmax)
 * const same = new NonlinearityLayer(logits, { nonlinearity: nn.nonlinearities.softmax });   // the options form
 */
export class NonlinearityLayer extends Layer {
  readonly typeName = 'nonlinearity';
  readonly nonlinearity: Nonlinearity;

  /** Lasagne's form: `nonlinearity` positional (default `rectify`, null for linear), the other options after it. */
  constructor(incoming: Layer, nonlinearity?: Nonlinearity | null, opts?: Omit<NonlinearityLayerOptions, 'nonlinearity'>);
  /** The options form. */
  constructor(incoming: Layer, opts: NonlinearityLayerOptions);
  constructor(incoming: Layer, ...args: unknown[]) {
    const opts = layerArgs<NonlinearityLayerOptions>(new.target.name, 'incoming', ['nonlinearity'], args);
    super([incoming], opts);
    this.nonlinearity = opts.nonlinearity === undefined ? rectify : (opts.nonlinearity ?? linear);
    if (typeof this.nonlinearity !== 'function') {
      const got = typeof this.nonlinearity === 'string' ? JSON.stringify(this.nonlinearity) : typeof this.nonlinearity;
      throw new Error(`${this.label}: nonlinearity must be a function such as nonlinearities.sigmoid, or null for linear; got ${got}`);
    }
  }

  getOutputShapeFor([shape]: readonly LayerShape[]): LayerShape {
    return shape!;
  }

  getOutputFor([x]: readonly Tensor[]): Tensor {
    return this.nonlinearity(x!);
  }
}
