import * as ts from '@tessera/core';
import type { Tensor } from '@tessera/core';
import { layerArgs } from './args.js';
import { Layer, fmtLayerShape, type LayerOptions, type LayerShape } from './base.js';

/** Checks that shapes agree everywhere except `skip`, where null (unknown) matches anything. */
function agree(shapes: readonly LayerShape[], skip: number | null): boolean {
  const first = shapes[0]!;
  return shapes.every((s) => s.length === first.length && s.every((d, i) => i === skip || d === null || first[i] === null || d === first[i]));
}

function checkIncomings(name: string, incomings: readonly Layer[]): readonly Layer[] {
  if (!Array.isArray(incomings) || incomings.length === 0) throw new Error(`${name}: expected a non-empty array of input layers`);
  return incomings;
}

/** Options of ConcatLayer. @example const opts: nn.ConcatLayerOptions = { axis: 1 }; */
export interface ConcatLayerOptions extends LayerOptions {
  /** Axis to join along; default 1 (channels / features). */
  axis?: number;
}

/**
 * Joins the outputs of several layers along an axis.
 *
 * Two forms: Lasagne's positional `new ConcatLayer(incomings, axis?, { ...rest })`
 * (`ConcatLayer(incomings, axis=1)`), and the options object
 * `new ConcatLayer(incomings, { axis, ...rest })`. Giving `axis` both ways throws.
 *
 * @example
 * const branchA = new InputLayer([null, 3, 8, 8]);
 * const branchB = new InputLayer([null, 5, 8, 8]);
 * new ConcatLayer([branchA, branchB]).outputShape;   // [null, 8, 8, 8]: axis 1 by default
 * new ConcatLayer([branchA, branchA], 3).outputShape;   // [null, 3, 8, 16]; Lasagne: ConcatLayer([a, a], axis=3)
 * new ConcatLayer([branchA, branchA], { axis: 3 }).outputShape;   // the options form: [null, 3, 8, 16]
 */
export class ConcatLayer extends Layer {
  readonly typeName = 'concat';
  readonly axis: number;

  /** Lasagne's form: `axis` positional (default 1), the other options after it. */
  constructor(incomings: readonly Layer[], axis?: number, opts?: Omit<ConcatLayerOptions, 'axis'>);
  /** The options form. */
  constructor(incomings: readonly Layer[], opts: ConcatLayerOptions);
  constructor(incomings: readonly Layer[], ...args: unknown[]) {
    const opts = layerArgs<ConcatLayerOptions>(new.target.name, 'incomings', ['axis'], args);
    super(checkIncomings(new.target.name, incomings), opts);
    this.axis = opts.axis ?? 1;
    if (!Number.isInteger(this.axis)) throw new Error(`${this.label}: axis must be an integer, got ${JSON.stringify(opts.axis)}`);
    this.outputShape; // checks the input shapes now
  }

  private resolvedAxis(rank: number): number {
    const a = this.axis < 0 ? this.axis + rank : this.axis;
    if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Error(`${this.label}: axis ${this.axis} is out of range for inputs of rank ${rank}`);
    return a;
  }

  getOutputShapeFor(shapes: readonly LayerShape[]): LayerShape {
    const axis = this.resolvedAxis(shapes[0]!.length);
    if (!agree(shapes, axis)) {
      throw new Error(`${this.label}: input shapes ${shapes.map(fmtLayerShape).join(', ')} do not fit: expected equal sizes except along axis ${axis}`);
    }
    const out = shapes[0]!.map((_, i) => shapes.map((s) => s[i]!).find((d) => d !== null) ?? null);
    const along = shapes.map((s) => s[axis]!);
    out[axis] = along.some((d) => d === null) ? null : (along as number[]).reduce((a, b) => a + b, 0);
    return out;
  }

  getOutputFor(inputs: readonly Tensor[]): Tensor {
    return ts.concat(inputs, this.resolvedAxis(inputs[0]!.rank));
  }
}

/** Options of ElemwiseSumLayer. @example const opts: nn.ElemwiseSumLayerOptions = { coeffs: [1, -1] }; */
export interface ElemwiseSumLayerOptions extends LayerOptions {
  /** One coefficient per input, or one for all; default 1. */
  coeffs?: number | readonly number[];
}

/**
 * Sums the outputs of several layers of the same shape, with optional coefficients (residual
 * connections).
 *
 * Two forms: Lasagne's positional `new ElemwiseSumLayer(incomings, coeffs?, { ...rest })`
 * (`ElemwiseSumLayer(incomings, coeffs=1)`), and the options object
 * `new ElemwiseSumLayer(incomings, { coeffs, ...rest })`. Giving `coeffs` both ways throws.
 *
 * @example
 * const shortcut = new InputLayer([null, 16]);
 * const block = new DenseLayer(shortcut, 16);
 * const residual = new ElemwiseSumLayer([block, shortcut]);   // block + shortcut
 * const diff = new ElemwiseSumLayer([block, shortcut], [1, -1]);   // Lasagne: ElemwiseSumLayer([block, shortcut], coeffs=[1, -1])
 * const same = new ElemwiseSumLayer([block, shortcut], { coeffs: [1, -1] });   // the options form
 */
export class ElemwiseSumLayer extends Layer {
  readonly typeName = 'elemwisesum';
  readonly coeffs: readonly number[];

  /** Lasagne's form: `coeffs` positional (default 1), the other options after it. */
  constructor(incomings: readonly Layer[], coeffs?: number | readonly number[], opts?: Omit<ElemwiseSumLayerOptions, 'coeffs'>);
  /** The options form. */
  constructor(incomings: readonly Layer[], opts: ElemwiseSumLayerOptions);
  constructor(incomings: readonly Layer[], ...args: unknown[]) {
    const opts = layerArgs<ElemwiseSumLayerOptions>(new.target.name, 'incomings', ['coeffs'], args);
    super(checkIncomings(new.target.name, incomings), opts);
    const c: unknown = opts.coeffs ?? 1;
    this.coeffs = typeof c === 'number' ? incomings.map(() => c) : Array.isArray(c) ? [...c] : [];
    if (this.coeffs.length !== incomings.length || !this.coeffs.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new Error(`${this.label}: coeffs must be a number or one number per input (${incomings.length}), got ${JSON.stringify(opts.coeffs)}`);
    }
    this.outputShape; // checks the input shapes now
  }

  getOutputShapeFor(shapes: readonly LayerShape[]): LayerShape {
    if (!agree(shapes, null)) throw new Error(`${this.label}: input shapes ${shapes.map(fmtLayerShape).join(', ')} do not fit: expected equal shapes`);
    return shapes[0]!.map((_, i) => shapes.map((s) => s[i]!).find((d) => d !== null) ?? null);
  }

  getOutputFor(inputs: readonly Tensor[]): Tensor {
    return ts.tidy(() => {
      let acc = inputs[0]!.mul(this.coeffs[0]!);
      for (let i = 1; i < inputs.length; i++) acc = acc.add(this.coeffs[i] === 1 ? inputs[i]! : inputs[i]!.mul(this.coeffs[i]!));
      return acc;
    });
  }
}
