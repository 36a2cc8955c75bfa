import type { Tensor } from '@tessera/core';
import { layerArgs } from './args.js';
import { Layer, fmtLayerShape, type LayerOptions, type LayerShape } from './base.js';

/**
 * Where data enters a network: a shape with `null` for sizes that vary (the batch). Feed it
 * through `getOutput(out, x)` (one input) or `getOutput(out, new Map([[inputLayer, x]]))`.
 *
 * The shape is positional as in Lasagne (`InputLayer((None, 100))` is
 * `new InputLayer([null, 100])`); options (`name`) come after it.
 *
 * @example
 * const data = new InputLayer([null, 1, 28, 28], { name: 'data' });
 * nn.getOutput(data, ts.zeros([8, 1, 28, 28])).shape;   // [8, 1, 28, 28]
 * const features = new InputLayer([null, 100]);   // Lasagne: InputLayer((None, 100))
 */
export class InputLayer extends Layer {
  readonly typeName = 'input';
  readonly shape: LayerShape;

  constructor(shape: LayerShape, opts: LayerOptions = {}) {
    super([], layerArgs<LayerOptions>(new.target.name, 'shape', [], [opts]));
    if (!Array.isArray(shape) || !shape.every((d) => d === null || (Number.isInteger(d) && d >= 0))) {
      throw new Error(`InputLayer: shape must be an array of non-negative integers or null, got ${JSON.stringify(shape)}`);
    }
    this.shape = [...shape];
  }

  getOutputShapeFor(): LayerShape {
    return this.shape;
  }

  /** Data is bound by `getOutput`, never computed here. */
  getOutputFor(): Tensor {
    throw new Error(
      `${this.label}: no input tensor was given for it. Pass one to getOutput (a tensor, or a Map from InputLayer to tensor), shape ${fmtLayerShape(this.shape)}`,
    );
  }
}
