import * as ts from '@tessera/core';
import type { Tensor } from '@tessera/core';
import { layerArgs } from './args.js';
import { Layer, pair, type LayerOptions, type LayerShape } from './base.js';
import { convOutputLength } from './conv.js';

/** Options of MaxPool2DLayer. @example const opts: nn.Pool2DLayerOptions = { poolSize: 2, stride: 1 }; */
export interface Pool2DLayerOptions extends LayerOptions {
  poolSize: number | readonly [number, number];
  /** Default: the pool size (non-overlapping windows). */
  stride?: number | readonly [number, number];
  /** Zero padding per side, at most half the pool size (as in PyTorch). */
  pad?: number | readonly [number, number];
  /**
   * Lasagne's default, true: windows that would cross the border are dropped (floor). Only
   * true is supported; it is PyTorch's ceil_mode=False.
   */
  ignoreBorder?: boolean;
}

/** Options of Pool2DLayer: a pooling mode as well. @example const opts: nn.AnyPool2DLayerOptions = { poolSize: 2, mode: 'average_inc_pad' }; */
export interface AnyPool2DLayerOptions extends Pool2DLayerOptions {
  /** 'max', or 'average_inc_pad' (zeros of the padding count, as Lasagne's default average). */
  mode?: 'max' | 'average_inc_pad';
}

/**
 * 2-D pooling over NCHW input, Lasagne's `Pool2DLayer`: max or average over windows of
 * `poolSize`, moved by `stride`. `MaxPool2DLayer` is this with mode 'max'.
 *
 * Two forms: Lasagne's positional `new Pool2DLayer(incoming, poolSize, { ...rest })`
 * (`Pool2DLayer(incoming, pool_size, stride=None, pad=(0, 0), ignore_border=True, mode='max')`),
 * and the options object `new Pool2DLayer(incoming, { poolSize, ...rest })`. Giving `poolSize`
 * both ways throws.
 *
 * @example
 * const data = new InputLayer([null, 6, 28, 28]);
 * const avg = new Pool2DLayer(data, 2, { mode: 'average_inc_pad' });   // Lasagne: Pool2DLayer(data, 2, mode='average_inc_pad')
 * const same = new Pool2DLayer(data, { poolSize: 2, mode: 'average_inc_pad' });   // the options form
 * avg.outputShape;   // [null, 6, 14, 14]
 */
export class Pool2DLayer extends Layer {
  readonly typeName: string = 'pool2d';
  readonly poolSize: [number, number];
  readonly stride: [number, number];
  readonly pad: [number, number];
  readonly mode: 'max' | 'average_inc_pad';

  /** Lasagne's form: `poolSize` positional, the other options after it. */
  constructor(incoming: Layer, poolSize: number | readonly [number, number], opts?: Omit<AnyPool2DLayerOptions, 'poolSize'>);
  /** The options form. */
  constructor(incoming: Layer, opts: AnyPool2DLayerOptions);
  constructor(incoming: Layer, ...args: unknown[]) {
    const o = layerArgs<AnyPool2DLayerOptions>(new.target.name, 'incoming', ['poolSize'], args);
    super([incoming], o);
    this.poolSize = pair(this.label, 'poolSize', o.poolSize);
    this.stride = pair(this.label, 'stride', o.stride ?? this.poolSize);
    this.pad = pair(this.label, 'pad', o.pad ?? 0, 0);
    this.mode = o.mode ?? 'max';
    if (this.mode !== 'max' && this.mode !== 'average_inc_pad') {
      throw new Error(`${this.label}: mode must be 'max' or 'average_inc_pad', got ${JSON.stringify(o.mode)}`);
    }
    if (o.ignoreBorder === false) throw new Error(`${this.label}: ignoreBorder: false is not supported; windows crossing the border are always dropped`);
    if (this.pad[0] * 2 > this.poolSize[0] || this.pad[1] * 2 > this.poolSize[1]) {
      throw new Error(`${this.label}: pad ${JSON.stringify(this.pad)} must be at most half the pool size ${JSON.stringify(this.poolSize)}`);
    }
    this.outputShape; // checks the input shape now, at construction
  }

  getOutputShapeFor([shape]: readonly LayerShape[]): LayerShape {
    const s = shape!;
    if (s.length !== 4) this.shapeError(s, '[batch, channels, height, width] (rank 4, NCHW)');
    const [h, w] = [0, 1].map((i) => convOutputLength(s[2 + i]!, this.poolSize[i]!, this.stride[i]!, 2 * this.pad[i]!));
    if ((h !== null && h! < 1) || (w !== null && w! < 1)) {
      this.shapeError(s, `a spatial size of at least the ${this.poolSize[0]}x${this.poolSize[1]} pool window (with padding ${JSON.stringify(this.pad)})`);
    }
    return [s[0]!, s[1]!, h!, w!];
  }

  getOutputFor([x]: readonly Tensor[]): Tensor {
    const opts = { kernelSize: this.poolSize, stride: this.stride, padding: this.pad };
    return this.mode === 'max' ? ts.maxPool2d(x!, opts) : ts.avgPool2d(x!, opts);
  }
}

/**
 * Max pooling over NCHW input; `stride` defaults to `poolSize`.
 *
 * Two forms: Lasagne's positional `new MaxPool2DLayer(incoming, poolSize, { ...rest })`
 * (`MaxPool2DLayer(incoming, pool_size, stride=None, pad=(0, 0), ignore_border=True)`), and the
 * options object `new MaxPool2DLayer(incoming, { poolSize, ...rest })`. Giving `poolSize` both
 * ways throws.
 *
 * @example
 * const conv1 = new InputLayer([null, 6, 28, 28]);
 * const pool1 = new MaxPool2DLayer(conv1, 2);   // Lasagne: MaxPool2DLayer(conv1, 2); [null,6,28,28] -> [null,6,14,14]
 * const same = new MaxPool2DLayer(conv1, { poolSize: 2 });   // the options form
 * const overlapping = new MaxPool2DLayer(conv1, 3, { stride: 2, pad: 1 });   // [null,6,14,14] as well
 */
export class MaxPool2DLayer extends Pool2DLayer {
  override readonly typeName: string = 'maxpool2d';
  /** Lasagne's form: `poolSize` positional, the other options after it. */
  constructor(incoming: Layer, poolSize: number | readonly [number, number], opts?: Omit<Pool2DLayerOptions, 'poolSize'>);
  /** The options form. */
  constructor(incoming: Layer, opts: Pool2DLayerOptions);
  constructor(incoming: Layer, ...args: unknown[]) {
    const o = layerArgs<Pool2DLayerOptions>(new.target.name, 'incoming', ['poolSize'], args);
    super(incoming, { ...o, mode: 'max' });
  }
}

/** Options of GlobalPoolLayer. @example const opts: nn.GlobalPoolLayerOptions = { poolFunction: 'max' }; */
export interface GlobalPoolLayerOptions extends LayerOptions {
  /** 'mean' (the default, global average pooling) or 'max'. */
  poolFunction?: 'mean' | 'max';
}

/**
 * Pools every channel over all its spatial positions, Lasagne's `GlobalPoolLayer`: [N, C, ...]
 * becomes [N, C]. Mean by default (global average pooling, as before the classifier of a
 * ResNet), or max.
 *
 * Two forms: Lasagne's positional `new GlobalPoolLayer(incoming, poolFunction?, { ...rest })`
 * (`GlobalPoolLayer(incoming, pool_function=T.mean)`), and the options object
 * `new GlobalPoolLayer(incoming, { poolFunction, ...rest })`.
 *
 * @example
 * const features = new InputLayer([null, 64, 7, 7]);
 * const gap = new GlobalPoolLayer(features);   // Lasagne: GlobalPoolLayer(features); [null, 64]
 * const gmp = new GlobalPoolLayer(features, 'max');   // Lasagne: GlobalPoolLayer(features, T.max)
 * const same = new GlobalPoolLayer(features, { poolFunction: 'max' });   // the options form
 */
export class GlobalPoolLayer extends Layer {
  readonly typeName = 'globalpool';
  readonly poolFunction: 'mean' | 'max';

  /** Lasagne's form: `poolFunction` positional, the other options after it. */
  constructor(incoming: Layer, poolFunction?: 'mean' | 'max', opts?: Omit<GlobalPoolLayerOptions, 'poolFunction'>);
  /** The options form. */
  constructor(incoming: Layer, opts: GlobalPoolLayerOptions);
  constructor(incoming: Layer, ...args: unknown[]) {
    const o = layerArgs<GlobalPoolLayerOptions>(new.target.name, 'incoming', ['poolFunction'], args);
    super([incoming], o);
    this.poolFunction = o.poolFunction ?? 'mean';
    if (this.poolFunction !== 'mean' && this.poolFunction !== 'max') {
      throw new Error(
        `${this.label}: poolFunction must be 'mean' or 'max', got ${typeof o.poolFunction === 'function' ? 'a function' : JSON.stringify(o.poolFunction)}`,
      );
    }
    this.outputShape; // checks the input shape now, at construction
  }

  getOutputShapeFor([shape]: readonly LayerShape[]): LayerShape {
    const s = shape!;
    if (s.length < 3) this.shapeError(s, '[batch, channels, ...spatial] (rank 3 or more)');
    return [s[0]!, s[1]!];
  }

  getOutputFor([x]: readonly Tensor[]): Tensor {
    const axes = Array.from({ length: x!.rank - 2 }, (_, i) => i + 2);
    return this.poolFunction === 'mean' ? x!.mean(axes) : x!.max(axes);
  }
}
