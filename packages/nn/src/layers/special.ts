import type { Tensor } from '@tessera/core';
import { rectify, linear, type Nonlinearity } from '../nonlinearities.js';
import { Layer, type LayerOptions, type LayerShape } from './base.js';

/** Options of NonlinearityLayer. @example { nonlinearity: nonlinearities.softmax } */
export interface NonlinearityLayerOptions extends LayerOptions {
  /** Default `rectify`; null means linear. */
  nonlinearity?: Nonlinearity | null;
}

/**
 * Applies a nonlinearity on its own, e.g. after a layer built with a linear output.
 *
 * @example
 * const logits = new DenseLayer(h, { numUnits: 10, nonlinearity: null });
 * const probs = new NonlinearityLayer(logits, { nonlinearity: nonlinearities.softmax });
 */
export class NonlinearityLayer extends Layer {
  readonly typeName = 'nonlinearity';
  readonly nonlinearity: Nonlinearity;

  constructor(incoming: Layer, opts: NonlinearityLayerOptions = {}) {
    super([incoming], opts);
    this.nonlinearity = opts.nonlinearity === undefined ? rectify : (opts.nonlinearity ?? linear);
    if (typeof this.nonlinearity !== 'function') throw new Error(`${this.label}: nonlinearity must be a function, got ${typeof this.nonlinearity}`);
  }

  getOutputShapeFor([shape]: readonly LayerShape[]): LayerShape {
    return shape!;
  }

  getOutputFor([x]: readonly Tensor[]): Tensor {
    return this.nonlinearity(x!);
  }
}
