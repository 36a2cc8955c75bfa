import * as ts from '@tessera/core';
import type { Tensor } from '@tessera/core';
import { layerArgs } from './args.js';
import { Layer, type ForwardOptions, type LayerOptions, type LayerShape } from './base.js';

/** Options of DropoutLayer. @example const opts: nn.DropoutLayerOptions = { p: 0.5, seed: 1 }; */
export interface DropoutLayerOptions extends LayerOptions {
  /** Probability of dropping each element, in [0, 1). Default 0.5. */
  p?: number;
  /** Scale kept elements by 1 / (1 - p) (inverted dropout), so no rescaling is needed at test time. Default true. */
  rescale?: boolean;
  /** Axes along which one mask value is shared (e.g. [2, 3] drops whole feature maps). */
  sharedAxes?: readonly number[];
  /** Makes the masks reproducible: call k uses stream (seed, k). */
  seed?: number;
}

/** Seed of the k-th draw of a seeded noise layer (a murmur3-style mix of the two). */
function drawSeed(seed: number, k: number): number {
  let h = Math.imul((seed ^ 0x2545f491) >>> 0, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul((h ^ k) >>> 0, 0x85ebca77);
  h ^= h >>> 13;
  return h >>> 0;
}

/** Mask shape: the input's, with shared axes collapsed to 1 so one draw covers them. */
function maskShape(label: string, shape: readonly number[], shared: readonly number[]): number[] {
  const rank = shape.length;
  if (!shared.every((a) => Number.isInteger(a) && a >= -rank && a < rank)) {
    throw new Error(`${label}: sharedAxes ${JSON.stringify(shared)} are out of range for an input of shape ${ts.fmtShape(shape)}`);
  }
  const axes = new Set(shared.map((a) => (a < 0 ? a + rank : a)));
  return shape.map((d, i) => (axes.has(i) ? 1 : d));
}

/**
 * Inverted dropout: during training each element is zeroed with probability `p` and the rest
 * scaled by 1 / (1 - p); with `deterministic: true` the input passes through unchanged.
 * Every training call draws a new mask (a counter advances); with `seed` the sequence of
 * masks is reproducible.
 *
 * Two forms: Lasagne's positional `new DropoutLayer(incoming, p?, { ...rest })`
 * (`DropoutLayer(incoming, p=0.5, rescale=True)`), and the options object
 * `new DropoutLayer(incoming, { p, ...rest })`. Giving `p` both ways throws.
 *
 * @example
 * const hidden = new InputLayer([null, 100]);
 * const drop = new DropoutLayer(hidden, 0.5, { seed: 1 });   // Lasagne: DropoutLayer(hidden, p=0.5)
 * const same = new DropoutLayer(hidden, { p: 0.5, seed: 1 });   // the options form
 * const x = ts.ones([4, 100]);
 * nn.getOutput(drop, x);   // training: about half the units zeroed, the rest doubled
 * nn.getOutput(drop, x, { deterministic: true });   // evaluation: x itself
 */
export class DropoutLayer extends Layer {
  readonly typeName = 'dropout';
  readonly p: number;
  readonly rescale: boolean;
  readonly sharedAxes: readonly number[];
  readonly seed: number | undefined;
  /** How many masks were drawn so far; mask k uses stream (seed, k). */
  calls = 0;

  /** Lasagne's form: `p` positional (default 0.5), the other options after it. */
  constructor(incoming: Layer, p?: number, opts?: Omit<DropoutLayerOptions, 'p'>);
  /** The options form. */
  constructor(incoming: Layer, opts: DropoutLayerOptions);
  constructor(incoming: Layer, ...args: unknown[]) {
    const opts = layerArgs<DropoutLayerOptions>(new.target.name, 'incoming', ['p'], args);
    super([incoming], opts);
    this.p = opts.p ?? 0.5;
    if (typeof this.p !== 'number' || !(this.p >= 0 && this.p < 1)) throw new Error(`${this.label}: p must be in [0, 1), got ${JSON.stringify(opts.p)}`);
    this.rescale = opts.rescale ?? true;
    this.sharedAxes = [...(opts.sharedAxes ?? [])];
    if (opts.seed !== undefined && !Number.isInteger(opts.seed)) throw new Error(`${this.label}: seed must be an integer, got ${opts.seed}`);
    this.seed = opts.seed;
  }

  getOutputShapeFor([shape]: readonly LayerShape[]): LayerShape {
    return shape!;
  }

  getOutputFor([x]: readonly Tensor[], { deterministic = false }: ForwardOptions): Tensor {
    if (deterministic || this.p === 0) return x!;
    const shape = maskShape(this.label, x!.shape, this.sharedAxes);
    const k = this.calls++;
    const keep = 1 - this.p;
    return ts.tidy(() => {
      const u = this.seed === undefined ? ts.rand(shape) : ts.rand(shape, { seed: drawSeed(this.seed, k) });
      const mask = u.ge(this.p);
      return x!.mul(this.rescale ? mask.mul(1 / keep) : mask);
    });
  }
}

/** Options of GaussianNoiseLayer. @example const opts: nn.GaussianNoiseLayerOptions = { sigma: 0.1, seed: 3 }; */
export interface GaussianNoiseLayerOptions extends LayerOptions {
  /** Standard deviation of the added noise. Default 0.1. */
  sigma?: number;
  seed?: number;
}

/**
 * Adds N(0, sigma²) noise during training; passes the input through when deterministic.
 *
 * Two forms: Lasagne's positional `new GaussianNoiseLayer(incoming, sigma?, { ...rest })`
 * (`GaussianNoiseLayer(incoming, sigma=0.1)`), and the options object
 * `new GaussianNoiseLayer(incoming, { sigma, ...rest })`. Giving `sigma` both ways throws.
 *
 * @example
 * const input = new InputLayer([null, 784]);
 * const noisy = new GaussianNoiseLayer(input, 0.1, { seed: 3 });   // Lasagne: GaussianNoiseLayer(input, 0.1)
 * const same = new GaussianNoiseLayer(input, { sigma: 0.1, seed: 3 });   // the options form
 */
export class GaussianNoiseLayer extends Layer {
  readonly typeName = 'gaussiannoise';
  readonly sigma: number;
  readonly seed: number | undefined;
  calls = 0;

  /** Lasagne's form: `sigma` positional (default 0.1), the other options after it. */
  constructor(incoming: Layer, sigma?: number, opts?: Omit<GaussianNoiseLayerOptions, 'sigma'>);
  /** The options form. */
  constructor(incoming: Layer, opts: GaussianNoiseLayerOptions);
  constructor(incoming: Layer, ...args: unknown[]) {
    const opts = layerArgs<GaussianNoiseLayerOptions>(new.target.name, 'incoming', ['sigma'], args);
    super([incoming], opts);
    this.sigma = opts.sigma ?? 0.1;
    if (!Number.isFinite(this.sigma) || this.sigma < 0) throw new Error(`${this.label}: sigma must be a number >= 0, got ${JSON.stringify(opts.sigma)}`);
    if (opts.seed !== undefined && !Number.isInteger(opts.seed)) throw new Error(`${this.label}: seed must be an integer, got ${opts.seed}`);
    this.seed = opts.seed;
  }

  getOutputShapeFor([shape]: readonly LayerShape[]): LayerShape {
    return shape!;
  }

  getOutputFor([x]: readonly Tensor[], { deterministic = false }: ForwardOptions): Tensor {
    if (deterministic || this.sigma === 0) return x!;
    const k = this.calls++;
    return ts.tidy(() => {
      const opts = { std: this.sigma, ...(this.seed === undefined ? {} : { seed: drawSeed(this.seed, k) }) };
      return x!.add(ts.randn(x!.shape, opts));
    });
  }
}
