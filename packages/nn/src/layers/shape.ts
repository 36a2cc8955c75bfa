import * as ts from '@tessera/core';
import type { Tensor } from '@tessera/core';
import { layerArgs } from './args.js';
import { Layer, fmtLayerShape, type LayerOptions, type LayerShape } from './base.js';

const product = (dims: readonly (number | null)[]): number | null => (dims.some((d) => d === null) ? null : (dims as number[]).reduce((a, b) => a * b, 1));

/** Options of FlattenLayer. @example const opts: nn.FlattenLayerOptions = { outdim: 2 }; */
export interface FlattenLayerOptions extends LayerOptions {
  /** Rank of the output: the first outdim - 1 dimensions are kept, the rest merged. Default 2. */
  outdim?: number;
}

/**
 * Merges trailing dimensions: [N, C, H, W] becomes [N, C*H*W] (with the default outdim 2).
 *
 * Two forms: Lasagne's positional `new FlattenLayer(incoming, outdim?, { ...rest })`
 * (`FlattenLayer(incoming, outdim=2)`), and the options object
 * `new FlattenLayer(incoming, { outdim, ...rest })`. Giving `outdim` both ways throws.
 *
 * @example
 * const pool2 = new InputLayer([null, 16, 5, 5]);
 * new FlattenLayer(pool2).outputShape;   // [null, 400]
 * new FlattenLayer(pool2, 3).outputShape;   // [null, 16, 25]; Lasagne: FlattenLayer(pool2, outdim=3)
 * new FlattenLayer(pool2, { outdim: 3 }).outputShape;   // the options form: [null, 16, 25]
 */
export class FlattenLayer extends Layer {
  readonly typeName = 'flatten';
  readonly outdim: number;

  /** Lasagne's form: `outdim` positional (default 2), the other options after it. */
  constructor(incoming: Layer, outdim?: number, opts?: Omit<FlattenLayerOptions, 'outdim'>);
  /** The options form. */
  constructor(incoming: Layer, opts: FlattenLayerOptions);
  constructor(incoming: Layer, ...args: unknown[]) {
    const opts = layerArgs<FlattenLayerOptions>(new.target.name, 'incoming', ['outdim'], args);
    super([incoming], opts);
    this.outdim = opts.outdim ?? 2;
    if (!Number.isInteger(this.outdim) || this.outdim < 1)
      throw new Error(`${this.label}: outdim must be a positive integer, got ${JSON.stringify(opts.outdim)}`);
    this.outputShape; // checks the input rank now
  }

  getOutputShapeFor([shape]: readonly LayerShape[]): LayerShape {
    const s = shape!;
    if (s.length < this.outdim) this.shapeError(s, `rank >= ${this.outdim} to flatten to rank ${this.outdim}`);
    return [...s.slice(0, this.outdim - 1), product(s.slice(this.outdim - 1))];
  }

  getOutputFor([x]: readonly Tensor[]): Tensor {
    return x!.reshape([...x!.shape.slice(0, this.outdim - 1), -1]);
  }
}

/** A target dimension of ReshapeLayer: a size, -1 (inferred, at most once), or [i] (input dimension i). @example const shape: nn.ReshapeDim[] = [[0], -1]; */
export type ReshapeDim = number | readonly [number];

/** Options of ReshapeLayer. @example const opts: nn.ReshapeLayerOptions = { shape: [[0], 1, 28, 28] }; */
export interface ReshapeLayerOptions extends LayerOptions {
  shape: readonly ReshapeDim[];
}

/**
 * Reshapes, with Lasagne's notation: sizes, one -1 to infer, and [i] to copy input
 * dimension i (so [[0], 1, 28, 28] keeps the batch size whatever it is).
 *
 * Two forms: Lasagne's positional `new ReshapeLayer(incoming, shape, { ...rest })`
 * (`ReshapeLayer(incoming, shape)`), and the options object
 * `new ReshapeLayer(incoming, { shape, ...rest })`. Giving `shape` both ways throws.
 *
 * @example
 * const dense = new InputLayer([null, 784]);
 * new ReshapeLayer(dense, [[0], 1, 28, 28]).outputShape;   // [null, 1, 28, 28]; Lasagne: ReshapeLayer(dense, ([0], 1, 28, 28))
 * new ReshapeLayer(dense, { shape: [[0], 1, 28, 28] }).outputShape;   // the options form: [null, 1, 28, 28]
 * new ReshapeLayer(dense, [[0], -1, 7]).outputShape;   // [null, 112, 7]
 */
export class ReshapeLayer extends Layer {
  readonly typeName = 'reshape';
  readonly shape: readonly ReshapeDim[];

  /** Lasagne's form: `shape` positional, the other options after it. */
  constructor(incoming: Layer, shape: readonly ReshapeDim[], opts?: Omit<ReshapeLayerOptions, 'shape'>);
  /** The options form. */
  constructor(incoming: Layer, opts: ReshapeLayerOptions);
  constructor(incoming: Layer, ...args: unknown[]) {
    const opts = layerArgs<ReshapeLayerOptions>(new.target.name, 'incoming', ['shape'], args);
    super([incoming], opts);
    const shape = opts.shape;
    const ok =
      Array.isArray(shape) &&
      shape.every(
        (d) => (typeof d === 'number' && Number.isInteger(d) && d >= -1) || (Array.isArray(d) && d.length === 1 && Number.isInteger(d[0]) && d[0] >= 0),
      );
    if (!ok || shape.filter((d) => d === -1).length > 1) {
      throw new Error(`${this.label}: shape must list sizes, at most one -1 and [i] references, got ${JSON.stringify(shape)}`);
    }
    this.shape = shape.map((d) => (Array.isArray(d) ? ([d[0]] as const) : d));
    this.outputShape; // checks the input shape now
  }

  /** The target with [i] references resolved against `input` (null where unknown). */
  private resolve(input: readonly (number | null)[]): (number | null)[] {
    return this.shape.map((d) => {
      if (typeof d === 'number') return d;
      if (d[0] >= input.length) this.shapeError(input, `a dimension ${d[0]} to copy (shape ${JSON.stringify(this.shape)})`);
      return input[d[0]]!;
    });
  }

  getOutputShapeFor([shape]: readonly LayerShape[]): LayerShape {
    const s = shape!;
    const out = this.resolve(s);
    // As Lasagne: dimensions copied with [i] cancel out, so -1 can be inferred even when a
    // copied dimension (the batch) is unknown.
    const copied = new Set(this.shape.flatMap((d) => (typeof d === 'number' ? [] : [d[0]])));
    const inRest = product(s.filter((_, i) => !copied.has(i)));
    const hole = out.indexOf(-1);
    const outRest = product(out.filter((_, i) => i !== hole && typeof this.shape[i] === 'number'));
    if (inRest !== null && outRest !== null) {
      if (hole >= 0 ? outRest === 0 || inRest % outRest !== 0 : outRest !== inRest) {
        this.shapeError(s, `${product(s) ?? inRest} elements to fit the target ${JSON.stringify(this.shape)}`);
      }
      if (hole >= 0) out[hole] = inRest / outRest;
    } else if (hole >= 0) out[hole] = null;
    return out;
  }

  getOutputFor([x]: readonly Tensor[]): Tensor {
    const target = this.resolve(x!.shape) as number[];
    try {
      return x!.reshape(target);
    } catch (e) {
      throw new Error(`${this.label}: cannot reshape ${ts.fmtShape(x!.shape)} to ${fmtLayerShape(target)}: ${(e as Error).message}`);
    }
  }
}
