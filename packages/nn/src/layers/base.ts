import * as ts from '@tessera/core';
import { Tensor } from '@tessera/core';
import type { Initializer } from '../init.js';

/**
 * A layer's output shape: one entry per dimension, `null` where the size is only known when
 * data arrives (the batch dimension, as in Lasagne's `None`).
 *
 * @example
 * const shape: LayerShape = [null, 1, 28, 28];
 */
export type LayerShape = readonly (number | null)[];

/**
 * Tags of a parameter, as in Lasagne: `trainable` parameters are updated by optimizers,
 * `regularizable` ones are penalised by `regularizeNetworkParams` (weights are, biases not).
 *
 * @example
 * const fc = new DenseLayer(l, 10);
 * fc.params.get(fc.W);   // { trainable: true, regularizable: true }
 * fc.params.get(fc.b!);   // { trainable: true, regularizable: false }
 */
export interface ParamTags {
  trainable: boolean;
  regularizable: boolean;
}

/**
 * What a parameter is made from: an initializer (`init.GlorotUniform()`), a function of the
 * shape, an existing tensor (shared, not copied: two layers given the same tensor share
 * weights), or plain values.
 *
 * @example
 * new DenseLayer(l, { numUnits: 2, W: [1, 0, 0, 1], b: init.Constant(0) });   // 2 inputs
 */
export type ParamSpec = Initializer | Tensor | ((shape: readonly number[]) => Tensor) | ArrayLike<number>;

/** Options every layer accepts. @example new DenseLayer(l, { numUnits: 10, name: 'fc1' }) */
export interface LayerOptions {
  /** Names the layer in errors and in saved parameter files (`<name>.W`). */
  name?: string;
}

/** Options of a forward pass. @example getOutput(net.out, x, { deterministic: true }) */
export interface ForwardOptions {
  /** Disables stochastic behaviour (dropout) for evaluation, as Lasagne's `deterministic=True`. */
  deterministic?: boolean;
}

/** How shapes with unknown sizes appear in messages. @example fmtLayerShape([null, 1, 28, 28])   // '[null,1,28,28]' */
export function fmtLayerShape(shape: LayerShape): string {
  return `[${shape.map((d) => (d === null ? 'null' : String(d))).join(',')}]`;
}

/** Whether a concrete shape fits a declared one (`null` matches any size). @example shapeFits([8, 784], [null, 784])   // true */
export function shapeFits(actual: readonly number[], declared: LayerShape): boolean {
  return actual.length === declared.length && declared.every((d, i) => d === null || d === actual[i]);
}

let layerCounter = 0;

/**
 * The base of every layer, after Lasagne's `Layer`. A layer knows its input layer(s), its
 * output shape (computed at construction, so a misfit surfaces when the net is built) and its
 * parameters. Subclasses implement `getOutputShapeFor` and `getOutputFor`; `getOutput` walks
 * the graph.
 *
 * @example
 * class ScaleLayer extends Layer {
 *   readonly typeName = 'scale';
 *   readonly scale: ts.Tensor;
 *   constructor(incoming: Layer) {
 *     super([incoming]);
 *     this.scale = this.addParam(init.Constant(1), [incoming.outputShape[1] as number], 'scale');
 *   }
 *   getOutputShapeFor([s]: LayerShape[]) { return s!; }
 *   getOutputFor([x]: ts.Tensor[]) { return x!.mul(this.scale); }
 * }
 */
export abstract class Layer {
  /** Set by the constructor option, by `nameLayers(net)`, or left null (then `dense0`, ...). */
  name: string | null;
  readonly inputLayers: readonly Layer[];
  /** Parameters and their tags, in creation order (Lasagne's `layer.params`). */
  readonly params = new Map<Tensor, ParamTags>();
  /** Short type name used for default layer names (`dense`, `conv2d`, ...). */
  abstract readonly typeName: string;
  /** Creation order, so that unnamed layers of different nets never collide in messages. */
  readonly uid = layerCounter++;
  private readonly paramNames = new Map<Tensor, string>();
  private readonly owned = new Set<Tensor>();
  private cachedShape: LayerShape | null = null;

  protected constructor(inputLayers: readonly Layer[], opts: LayerOptions = {}) {
    inputLayers.forEach((l, i) => {
      if (!(l instanceof Layer)) throw new Error(`${new.target.name}: input ${i} must be a Layer, got ${l === null ? 'null' : typeof l}`);
    });
    this.inputLayers = [...inputLayers];
    this.name = opts.name ?? null;
  }

  /** The single input layer (null for an InputLayer). */
  get inputLayer(): Layer | null {
    return this.inputLayers[0] ?? null;
  }

  /** Output shapes of the input layers. */
  get inputShapes(): LayerShape[] {
    return this.inputLayers.map((l) => l.outputShape);
  }

  /** The output shape of the single input layer. */
  get inputShape(): LayerShape {
    return this.inputShapes[0] ?? [];
  }

  /** This layer's output shape, `null` where unknown until data arrives. */
  get outputShape(): LayerShape {
    return (this.cachedShape ??= this.getOutputShapeFor(this.inputShapes));
  }

  /** `DenseLayer 'fc1'`, or `DenseLayer` when unnamed: how errors name this layer. */
  get label(): string {
    return `${this.constructor.name}${this.name ? ` '${this.name}'` : ''}`;
  }

  /** The output shape for given input shapes; throws a clear error when they do not fit. */
  abstract getOutputShapeFor(inputShapes: readonly LayerShape[]): LayerShape;

  /** The output for given input tensors (one per input layer). */
  abstract getOutputFor(inputs: readonly Tensor[], opts: ForwardOptions): Tensor;

  /** Throws an error naming this layer, the shape it got and what it expected. */
  protected shapeError(got: LayerShape, expected: string): never {
    throw new Error(`${this.label}: input shape ${fmtLayerShape(got)} does not fit: expected ${expected}`);
  }

  /**
   * Creates (or adopts) a parameter, registers it with its tags and returns it. Created
   * tensors are kept alive (`ts.keep`) and require grad; they are this layer's to dispose.
   *
   * @example
   * class AffineLayer extends Layer {
   *   readonly typeName = 'affine';
   *   readonly W: ts.Tensor;
   *   readonly b: ts.Tensor;
   *   constructor(incoming: Layer, numUnits: number) {
   *     super([incoming]);
   *     this.W = this.addParam(init.GlorotUniform(), [incoming.outputShape[1] as number, numUnits], 'W');
   *     this.b = this.addParam(init.Constant(0), [numUnits], 'b', { regularizable: false });
   *   }
   *   getOutputShapeFor([s]: LayerShape[]) { return [s![0]!, this.W.shape[1]!]; }
   *   getOutputFor([x]: ts.Tensor[]) { return ts.linear(x!, this.W, this.b); }
   * }
   */
  addParam(spec: ParamSpec, shape: readonly number[], name: string, tags: Partial<ParamTags> = {}): Tensor {
    const full: ParamTags = { trainable: tags.trainable ?? true, regularizable: tags.regularizable ?? true };
    const where = `${this.label}: parameter '${name}'`;
    let t: Tensor;
    if (spec instanceof Tensor) {
      if (spec.disposed) throw new Error(`${where}: the given tensor was already disposed`);
      if (spec.shape.length !== shape.length || spec.shape.some((d, i) => d !== shape[i])) {
        throw new Error(`${where}: the given tensor has shape ${ts.fmtShape(spec.shape)}, expected ${ts.fmtShape(shape)}`);
      }
      t = spec; // shared, as Lasagne shares a Theano variable: not ours to dispose
    } else {
      t = ts.tidy(() => {
        let made: Tensor;
        if (typeof spec === 'function') made = spec(shape);
        else if (spec && typeof (spec as Initializer).sample === 'function') made = (spec as Initializer).sample(shape);
        else if (spec && typeof (spec as ArrayLike<number>).length === 'number') {
          const values = spec as ArrayLike<number>;
          const n = shape.reduce((a, b) => a * b, 1);
          if (values.length !== n) throw new Error(`${where}: got ${values.length} values, expected ${n} for shape ${ts.fmtShape(shape)}`);
          made = ts.tensor(Float32Array.from(values), { shape });
        } else throw new Error(`${where}: expected an initializer, a tensor, a function or values, got ${spec === null ? 'null' : typeof spec}`);
        if (!(made instanceof Tensor) || made.shape.length !== shape.length || made.shape.some((d, i) => d !== shape[i])) {
          throw new Error(`${where}: the initializer gave ${made instanceof Tensor ? ts.fmtShape(made.shape) : typeof made}, expected ${ts.fmtShape(shape)}`);
        }
        return ts.keep(made);
      });
      this.owned.add(t);
    }
    if (t.dtype !== 'float32') {
      if (this.owned.delete(t)) t.dispose();
      throw new Error(`${where}: parameters must be float32, got ${t.dtype}`);
    }
    t.requiresGrad = full.trainable;
    this.params.set(t, full);
    this.paramNames.set(t, name);
    return t;
  }

  /**
   * The parameter's name within this layer (`W`, `b`, ...).
   *
   * @example
   * const fc = new DenseLayer(l, 10);
   * fc.paramName(fc.W);   // 'W'
   */
  paramName(param: Tensor): string {
    const n = this.paramNames.get(param);
    if (n === undefined) throw new Error(`${this.label}: the tensor is not one of its parameters`);
    return n;
  }

  /**
   * This layer's parameters; with tags, only those whose tags match (a `false` tag asks for
   * parameters without it, as in Lasagne).
   *
   * @example
   * layer.getParams({ trainable: true });
   */
  getParams(tags: Partial<ParamTags> = {}): Tensor[] {
    return [...this.params].filter(([, t]) => matchTags(t, tags)).map(([p]) => p);
  }

  /**
   * Removes a parameter from this layer (Lasagne's `del layer.params[p]`), freeing it if the layer
   * created it. `batchNorm(layer)` drops a bias this way; the layer must stop using it as well.
   *
   * @example
   * const fc = new DenseLayer(l, 10);
   * fc.removeParam(fc.b!);   // fc.params now holds W only
   */
  removeParam(param: Tensor): void {
    if (!this.params.delete(param)) throw new Error(`${this.label}: the tensor is not one of its parameters`);
    this.paramNames.delete(param);
    if (this.owned.delete(param)) param.dispose();
  }

  /** Frees the parameters this layer created (not shared ones it was given). @example layer.dispose() */
  dispose(): void {
    for (const t of this.owned) t.dispose();
    this.owned.clear();
  }
}

/** Whether a parameter's tags satisfy a filter (undefined entries match anything). @example matchTags({ trainable: true, regularizable: false }, { trainable: true })   // true */
export function matchTags(tags: ParamTags, filter: Partial<ParamTags>): boolean {
  return (Object.keys(filter) as (keyof ParamTags)[]).every((k) => filter[k] === undefined || tags[k] === filter[k]);
}

/** Resolves a `number | [h, w]` option to a pair, with a clear error for anything else. @example pair('Conv2DLayer', 'stride', 2)   // [2, 2] */
export function pair(layer: string, what: string, v: unknown, min = 1): [number, number] {
  const p = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? v : null;
  if (!p || !p.every((x) => Number.isInteger(x) && x >= min)) {
    throw new Error(`${layer}: ${what} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p as [number, number];
}
