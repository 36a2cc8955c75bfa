import type { Tensor } from '@tessera/core';
import { Layer, type ForwardOptions, type LayerShape, type ParamTags } from './base.js';
import { getAllParams, getOutput } from './helper.js';
import { InputLayer } from './input.js';

/**
 * A small convenience for a plain stack of layers: each `add` builds the next layer on top of
 * the previous one. It is only sugar over the Lasagne style (`new X(prev, ...)`): `output` is
 * an ordinary layer that works with every helper.
 *
 * @example
 * const mlp = new Sequential([null, 784])
 *   .add((l) => new DenseLayer(l, { numUnits: 100 }), 'hidden')
 *   .add((l) => new DenseLayer(l, { numUnits: 10, nonlinearity: null }), 'out');
 * const logits = mlp.forward(x);
 */
export class Sequential {
  readonly layers: Layer[];

  /** Starts from an existing layer, or from a new InputLayer of the given shape. */
  constructor(input: Layer | LayerShape) {
    this.layers = [input instanceof Layer ? input : new InputLayer(input, { name: 'input' })];
  }

  /** Appends the layer that `make` builds on the current output; `name` names it. */
  add(make: (incoming: Layer) => Layer, name?: string): this {
    if (typeof make !== 'function') throw new Error('Sequential.add: expected a function (incoming) => Layer');
    const layer = make(this.output);
    if (!(layer instanceof Layer)) throw new Error('Sequential.add: the function must return a Layer');
    if (!layer.inputLayers.includes(this.output)) throw new Error(`Sequential.add: ${layer.label} was not built on the current output ${this.output.label}`);
    if (name !== undefined) layer.name = name;
    this.layers.push(layer);
    return this;
  }

  get input(): Layer {
    return this.layers[0]!;
  }

  get output(): Layer {
    return this.layers[this.layers.length - 1]!;
  }

  /** The output for one batch, as `getOutput(this.output, x, opts)`. */
  forward(x: Tensor, opts: ForwardOptions = {}): Tensor {
    return getOutput(this.output, new Map([[this.input, x]]), opts);
  }

  /** The parameters of all layers, filtered by tags. */
  params(tags: Partial<ParamTags> = {}): Tensor[] {
    return getAllParams(this.output, tags);
  }
}
