import * as ts from '@tessera/core';
import type { Tensor } from '@tessera/core';
import { GlorotUniform, Constant } from '../init.js';
import { rectify, linear, type Nonlinearity } from '../nonlinearities.js';
import { layerArgs } from './args.js';
import { Layer, fmtLayerShape, type LayerOptions, type LayerShape, type ParamSpec } from './base.js';

/** Options of DenseLayer. @example const opts: nn.DenseLayerOptions = { numUnits: 10, nonlinearity: nn.nonlinearities.softmax }; */
export interface DenseLayerOptions extends LayerOptions {
  numUnits: number;
  /** Weight [numInputs, numUnits] (Lasagne's layout, transposed from PyTorch's Linear). */
  W?: ParamSpec;
  /** Bias [numUnits], or null for none. */
  b?: ParamSpec | null;
  /** Default `rectify`; null means linear. */
  nonlinearity?: Nonlinearity | null;
}

/**
 * A fully connected layer: `nonlinearity(x @ W + b)`. Inputs of rank > 2 are flattened from
 * axis 1 first, as in Lasagne, so a dense layer can follow a convolution or pooling layer
 * directly. With `rectify` (the default) bias and ReLU run in the matmul kernel's epilogue.
 *
 * Two forms: Lasagne's positional `new DenseLayer(incoming, numUnits, { ...rest })`
 * (`DenseLayer(incoming, num_units, nonlinearity=...)`), and the options object
 * `new DenseLayer(incoming, { numUnits, ...rest })`. They build the same layer; giving
 * `numUnits` both ways throws.
 *
 * @example
 * const data = new InputLayer([null, 100]);
 * const hid = new DenseLayer(data, 10);   // Lasagne: DenseLayer(data, 10); ReLU by default
 * const out = new DenseLayer(hid, 1, { nonlinearity: nn.nonlinearities.sigmoid });
 * const same = new DenseLayer(hid, { numUnits: 1, nonlinearity: nn.nonlinearities.sigmoid });   // the options form
 * out.W.shape;   // [10, 1], as same.W.shape
 */
export class DenseLayer extends Layer {
  readonly typeName = 'dense';
  readonly numUnits: number;
  readonly numInputs: number;
  readonly nonlinearity: Nonlinearity;
  readonly W: Tensor;
  readonly b: Tensor | null;

  /** Lasagne's form: `numUnits` positional, the other options after it. */
  constructor(incoming: Layer, numUnits: number, opts?: Omit<DenseLayerOptions, 'numUnits'>);
  /** The options form. */
  constructor(incoming: Layer, opts: DenseLayerOptions);
  constructor(incoming: Layer, ...args: unknown[]) {
    const opts = layerArgs<DenseLayerOptions>(new.target.name, 'incoming', ['numUnits'], args);
    super([incoming], opts);
    const { numUnits } = opts;
    if (!Number.isInteger(numUnits) || numUnits <= 0) throw new Error(`${this.label}: numUnits must be a positive integer, got ${JSON.stringify(numUnits)}`);
    this.numUnits = numUnits;
    this.nonlinearity = opts.nonlinearity === undefined ? rectify : (opts.nonlinearity ?? linear);
    const inShape = this.inputShape;
    if (inShape.length < 2) this.shapeError(inShape, '[batch, features, ...] (rank >= 2)');
    const rest = inShape.slice(1);
    if (rest.some((d) => d === null)) this.shapeError(inShape, 'fixed sizes after the batch dimension, so the weight shape is known');
    this.numInputs = (rest as number[]).reduce((a, b) => a * b, 1);
    this.W = this.addParam(opts.W ?? GlorotUniform(), [this.numInputs, numUnits], 'W');
    this.b = opts.b === null ? null : this.addParam(opts.b ?? Constant(0), [numUnits], 'b', { regularizable: false });
  }

  getOutputShapeFor([shape]: readonly LayerShape[]): LayerShape {
    return [shape![0] ?? null, this.numUnits];
  }

  getOutputFor([input]: readonly Tensor[]): Tensor {
    if (input!.rank < 2 || input!.shape.slice(1).reduce((a, b) => a * b, 1) !== this.numInputs) {
      throw new Error(
        `${this.label}: input shape ${ts.fmtShape(input!.shape)} does not fit: expected ${fmtLayerShape([null, this.numInputs])} after flattening`,
      );
    }
    // tidy frees the flattened view and the pre-activation once the result exists.
    return ts.tidy(() => {
      const x = input!.rank > 2 ? input!.flatten(1) : input!;
      if (this.nonlinearity === rectify) return ts.linear(x, this.W, this.b, { activation: 'relu' });
      const y = ts.linear(x, this.W, this.b);
      return this.nonlinearity === linear ? y : this.nonlinearity(y);
    });
  }
}
