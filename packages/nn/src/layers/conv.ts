import * as ts from '@tessera/core';
import type { Tensor } from '@tessera/core';
import { GlorotUniform, Constant } from '../init.js';
import { rectify, linear, type Nonlinearity } from '../nonlinearities.js';
import { layerArgs } from './args.js';
import { Layer, fmtLayerShape, pair, type LayerOptions, type LayerShape, type ParamSpec } from './base.js';

/**
 * Lasagne's padding modes: 'valid' (0), 'full' (kernel - 1 on each side), 'same' (the output
 * keeps the input's size at stride 1), a number, or a pair [h, w] of per-side amounts.
 *
 * @example
 * const data = new InputLayer([null, 1, 28, 28]);
 * new Conv2DLayer(data, 8, 3, { pad: 'same' }).outputShape;   // [null, 8, 28, 28]
 * new Conv2DLayer(data, 8, 3, { pad: 'valid' }).outputShape;   // [null, 8, 26, 26]
 * new Conv2DLayer(data, 8, 3, { pad: 'full' }).outputShape;   // [null, 8, 30, 30]
 */
export type ConvPad = 'valid' | 'full' | 'same' | number | readonly [number, number];

/** Options of Conv2DLayer (Lasagne's arguments, camelCase). @example const opts: nn.Conv2DLayerOptions = { numFilters: 6, filterSize: 5, pad: 2 }; */
export interface Conv2DLayerOptions extends LayerOptions {
  numFilters: number;
  filterSize: number | readonly [number, number];
  stride?: number | readonly [number, number];
  pad?: ConvPad;
  /** Spacing between kernel taps (Lasagne's DilatedConv2DLayer), default 1. */
  dilation?: number | readonly [number, number];
  /** Grouped convolution: input and output channels split into this many groups. */
  numGroups?: number;
  /** Weight [numFilters, channels / numGroups, KH, KW] (PyTorch's layout). */
  W?: ParamSpec;
  /** Bias [numFilters], or null for none. */
  b?: ParamSpec | null;
  /** Default `rectify`; null means linear. */
  nonlinearity?: Nonlinearity | null;
}

/** How one spatial dimension is padded: per-side amounts for the output size formula. */
interface PadPlan {
  /** What `ts.conv2d` receives. */
  padding: 'same' | [number, number];
  /** Total padding per dimension (before + after), for the output shape. */
  total: [number, number];
}

/** Output length of a convolution or pooling window along one dimension (null stays null). @example nn.convOutputLength(28, 5, 1, 4);   // 28 */
export function convOutputLength(input: number | null, kernel: number, stride: number, padTotal: number): number | null {
  return input === null ? null : ts.windowOutputSize(input, kernel, stride, padTotal);
}

/**
 * A 2-D convolution over NCHW input, `nonlinearity(conv(x, W) + b)`. It computes the
 * cross-correlation like PyTorch (Lasagne's flip_filters=False), so weights move between the
 * two through safetensors unchanged. With `rectify` (the default) bias and ReLU are fused into
 * the convolution kernel.
 *
 * Two forms: Lasagne's positional `new Conv2DLayer(incoming, numFilters, filterSize, { ...rest })`
 * (`Conv2DLayer(incoming, num_filters, filter_size, pad=...)`), and the options object
 * `new Conv2DLayer(incoming, { numFilters, filterSize, ...rest })`. They build the same layer;
 * giving `numFilters` or `filterSize` both ways throws. Unlike Lasagne (`flip_filters=True`),
 * filters are never flipped.
 *
 * @example
 * const data = new InputLayer([null, 1, 28, 28]);
 * const conv1 = new Conv2DLayer(data, 6, 5, { pad: 'same' });   // Lasagne: Conv2DLayer(data, 6, 5, pad='same')
 * const same = new Conv2DLayer(data, { numFilters: 6, filterSize: 5, pad: 'same' });   // the options form
 * conv1.outputShape;   // [null, 6, 28, 28]
 * conv1.W.shape;   // [6, 1, 5, 5]: [numFilters, channels, KH, KW], as PyTorch
 */
export class Conv2DLayer extends Layer {
  readonly typeName = 'conv2d';
  readonly numFilters: number;
  readonly filterSize: [number, number];
  readonly stride: [number, number];
  readonly dilation: [number, number];
  readonly numGroups: number;
  readonly pad: ConvPad;
  readonly nonlinearity: Nonlinearity;
  readonly W: Tensor;
  readonly b: Tensor | null;
  private readonly plan: PadPlan;

  /** Lasagne's form: `numFilters` and `filterSize` positional, the other options after them. */
  constructor(
    incoming: Layer,
    numFilters: number,
    filterSize: number | readonly [number, number],
    opts?: Omit<Conv2DLayerOptions, 'numFilters' | 'filterSize'>,
  );
  /** The options form. */
  constructor(incoming: Layer, opts: Conv2DLayerOptions);
  constructor(incoming: Layer, ...args: unknown[]) {
    const o = layerArgs<Conv2DLayerOptions>(new.target.name, 'incoming', ['numFilters', 'filterSize'], args);
    super([incoming], o);
    if (!Number.isInteger(o.numFilters) || o.numFilters <= 0)
      throw new Error(`${this.label}: numFilters must be a positive integer, got ${JSON.stringify(o.numFilters)}`);
    this.numFilters = o.numFilters;
    this.filterSize = pair(this.label, 'filterSize', o.filterSize);
    this.stride = pair(this.label, 'stride', o.stride ?? 1);
    this.dilation = pair(this.label, 'dilation', o.dilation ?? 1);
    this.numGroups = o.numGroups ?? 1;
    if (!Number.isInteger(this.numGroups) || this.numGroups < 1 || this.numFilters % this.numGroups !== 0) {
      throw new Error(`${this.label}: numGroups must be a positive integer dividing numFilters (${this.numFilters}), got ${JSON.stringify(o.numGroups)}`);
    }
    this.pad = o.pad ?? 0;
    this.nonlinearity = o.nonlinearity === undefined ? rectify : (o.nonlinearity ?? linear);
    this.plan = this.planPadding();
    const inShape = this.inputShape;
    const channels = inShape[1];
    if (inShape.length !== 4) this.shapeError(inShape, '[batch, channels, height, width] (rank 4, NCHW)');
    if (channels === null || channels === undefined) this.shapeError(inShape, 'a known number of channels (dimension 1)');
    if (channels % this.numGroups !== 0) this.shapeError(inShape, `channels divisible by numGroups ${this.numGroups}`);
    this.outputShape; // computes and checks the spatial sizes now, at construction
    this.W = this.addParam(o.W ?? GlorotUniform(), [this.numFilters, channels / this.numGroups, ...this.filterSize], 'W');
    this.b = o.b === null ? null : this.addParam(o.b ?? Constant(0), [this.numFilters], 'b', { regularizable: false });
  }

  private planPadding(): PadPlan {
    const k = this.filterSize.map((f, i) => (f - 1) * this.dilation[i]! + 1) as [number, number];
    const p = this.pad;
    if (p === 'valid') return { padding: [0, 0], total: [0, 0] };
    if (p === 'full') return { padding: [k[0] - 1, k[1] - 1], total: [2 * (k[0] - 1), 2 * (k[1] - 1)] };
    if (p === 'same') {
      // At stride 1 the core op pads like PyTorch (the odd extra row/column bottom/right).
      if (this.stride[0] === 1 && this.stride[1] === 1) return { padding: 'same', total: [k[0] - 1, k[1] - 1] };
      if (k[0] % 2 === 0 || k[1] % 2 === 0) {
        throw new Error(
          `${this.label}: pad 'same' with stride ${fmtLayerShape(this.stride)} needs an odd (dilated) filter size, got ${fmtLayerShape(k)}. Use stride 1 or explicit padding`,
        );
      }
      return { padding: [(k[0] - 1) / 2, (k[1] - 1) / 2], total: [k[0] - 1, k[1] - 1] };
    }
    const pp = pair(this.label, 'pad', p, 0);
    return { padding: pp, total: [2 * pp[0], 2 * pp[1]] };
  }

  getOutputShapeFor([shape]: readonly LayerShape[]): LayerShape {
    const s = shape!;
    if (s.length !== 4) this.shapeError(s, '[batch, channels, height, width] (rank 4, NCHW)');
    const k = this.filterSize.map((f, i) => (f - 1) * this.dilation[i]! + 1);
    const [h, w] = [0, 1].map((i) => convOutputLength(s[2 + i]!, k[i]!, this.stride[i]!, this.plan.total[i]!));
    if ((h !== null && h! < 1) || (w !== null && w! < 1)) {
      this.shapeError(s, `a spatial size of at least the ${k[0]}x${k[1]} (dilated) filter after padding ${JSON.stringify(this.pad)}`);
    }
    return [s[0]!, this.numFilters, h!, w!];
  }

  getOutputFor([x]: readonly Tensor[]): Tensor {
    const opts = { stride: this.stride, padding: this.plan.padding, dilation: this.dilation, groups: this.numGroups };
    return ts.tidy(() => {
      if (this.nonlinearity === rectify) return ts.conv2d(x!, this.W, this.b, { ...opts, activation: 'relu' });
      const y = ts.conv2d(x!, this.W, this.b, opts);
      return this.nonlinearity === linear ? y : this.nonlinearity(y);
    });
  }
}
