/**
 * What `fit`, `evaluate` and `predict` take (a dataset in typed arrays, a network, a loss) and
 * the checks they share, so that all three accept the same inputs and fail the same way. The
 * non-exported-from-the-package helpers are marked internal.
 */
import * as ts from '@tessera/core';
import { Tensor } from '@tessera/core';
import { Layer } from './layers/base.js';
import { squaredError } from './objectives.js';

/**
 * A dataset as `fit`, `evaluate` and `predict` take it: the shape of `@tessera/data`'s `Dataset`
 * (`loadMnist`, `decodeMnist`, ...), with float targets allowed for regression.
 *
 * @example
 * const xor: nn.FitData = {
 *   images: new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]),
 *   labels: new Int32Array([0, 1, 1, 0]),   // or a Float32Array of targets, any number per sample
 *   shape: [4, 2],
 * };
 */
export interface FitData {
  /** `N * prod(shape.slice(1))` floats, sample-major (NCHW for images). */
  readonly images: Float32Array;
  /** `N` int32 class ids, or float32 targets, `N * k` of them (k per sample, batched as [size, k]). */
  readonly labels: Int32Array | Float32Array;
  /** `[N, ...sampleShape]`, e.g. `[60000, 1, 28, 28]`. */
  readonly shape: readonly number[];
}

/**
 * The network `fit` and friends train: its output layer, or a record of layers with an `out`
 * layer (what `nn.models.*` return).
 *
 * @example
 * const a: nn.FitNet = net;        // a record with `out`
 * const b: nn.FitNet = net.out;    // or the output layer itself
 */
export type FitNet = Layer | { readonly out: Layer };

/**
 * A loss: the network's training output and a batch's targets in, a scalar out (a tensor with
 * more elements is averaged).
 *
 * @example
 * const mse: nn.LossFn = (out, t) => nn.objectives.squaredError(out, t).mean();
 */
export type LossFn = (output: Tensor, targets: Tensor) => Tensor;

// ---------------------------------------------------------------------------------------------
// Checks

export function outputOf(fn: string, net: unknown): Layer {
  if (net instanceof Layer) return net;
  const out = net && typeof net === 'object' ? (net as { out?: unknown }).out : undefined;
  if (out instanceof Layer) return out;
  throw new Error(`${fn}: net must be a Layer (the output layer) or a record of layers with an 'out' layer (as nn.models.* return), got ${describe(net)}`);
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return `an object with keys ${JSON.stringify(Object.keys(v as object))}`;
  return typeof v;
}

export function positiveInt(fn: string, what: string, v: unknown, fallback: number, min = 1): number {
  const x = v === undefined ? fallback : v;
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min) throw new Error(`${fn}: ${what} must be an integer >= ${min}, got ${String(v)}`);
  return x;
}

/** A validated dataset: sizes worked out once. */
export interface Checked {
  images: Float32Array;
  labels: Int32Array | Float32Array;
  n: number;
  sampleShape: number[];
  targetShape: number[];
  classes: boolean;
}

export const asFloat = (t: Tensor): Tensor => (t.dtype === 'float32' ? t : t.cast('float32'));

export function checkData(fn: string, what: string, d: unknown): Checked {
  if (!d || typeof d !== 'object') throw new Error(`${fn}: ${what} must be { images, labels, shape }, got ${describe(d)}`);
  const { images, labels, shape } = d as Partial<FitData>;
  if (!(images instanceof Float32Array)) throw new Error(`${fn}: ${what}.images must be a Float32Array, got ${describe(images)}`);
  if (!(labels instanceof Int32Array) && !(labels instanceof Float32Array)) {
    throw new Error(`${fn}: ${what}.labels must be an Int32Array (class ids) or a Float32Array (regression targets), got ${describe(labels)}`);
  }
  if (!Array.isArray(shape) || shape.length < 2 || !shape.every((s) => Number.isInteger(s) && s >= 0)) {
    throw new Error(`${fn}: ${what}.shape must be [N, ...sampleShape] with integer sizes, e.g. [60000, 1, 28, 28], got ${JSON.stringify(shape)}`);
  }
  const [n, ...sampleShape] = shape as number[];
  const sampleSize = sampleShape.reduce((a, b) => a * b, 1);
  if (n === 0 || images.length === 0) {
    throw new Error(
      `${fn}: ${what} is empty (shape ${JSON.stringify(shape)}, ${images.length} image values): there is nothing to ${fn === 'fit' ? 'train on' : 'evaluate'}`,
    );
  }
  if (images.length !== n! * sampleSize) {
    throw new Error(`${fn}: ${what}.images has ${images.length} values; shape ${JSON.stringify(shape)} needs ${n! * sampleSize}`);
  }
  const classes = labels instanceof Int32Array;
  if (classes ? labels.length !== n : labels.length === 0 || labels.length % n! !== 0) {
    throw new Error(
      `${fn}: ${what}.labels has ${labels.length} entries for ${n} samples; expected ${classes ? `${n} class ids` : 'a whole number of float targets per sample'}`,
    );
  }
  return { images, labels, n: n!, sampleShape, targetShape: classes ? [] : [labels.length / n!], classes };
}

/** The number of classes of a [N, C] output, when the layer's shape fixes it. */
export function staticClasses(out: Layer): number | null {
  const s = out.outputShape;
  return s.length === 2 && typeof s[1] === 'number' ? s[1] : null;
}

/** Throws naming the first class id outside [0, classes). */
export function checkLabelRange(fn: string, what: string, labels: Int32Array, classes: number): void {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]!;
    if (v < 0 || v >= classes) {
      throw new Error(
        `${fn}: ${what}.labels[${i}] is ${v}, outside [0, ${classes}): the network's output has ${classes} classes, so class ids must be 0..${classes - 1}`,
      );
    }
  }
}
// ---------------------------------------------------------------------------------------------
// Losses and steps

/** Cross-entropy from logits without the device-side label check (labels already checked on the CPU). */
export function checkedLoss(output: Tensor, targets: Tensor): Tensor {
  return targets.dtype === 'int32' ? ts.crossEntropy(output, targets) : squaredError(output, targets).mean();
}

/**
 * `fit`'s default loss: for int32 class ids, the mean cross-entropy of logits [N, C]
 * (`ts.crossEntropy`), with a device-side check that every id is in [0, C), reported at the next
 * read (`ts.checkAtNextRead`, no stall); for float32 targets, the mean squared error.
 *
 * @example
 * const loss = nn.defaultLoss(logits, labels);   // = ts.crossEntropy(logits, labels), labels checked
 */
export function defaultLoss(output: Tensor, targets: Tensor): Tensor {
  if (targets instanceof Tensor && targets.dtype === 'int32' && output instanceof Tensor && output.rank === 2) {
    const c = output.shape[1]!;
    const bad = () => ts.noGrad(() => ts.tidy(() => ts.keep(targets.lt(0).add(targets.ge(c)).max())));
    ts.checkAtNextRead(bad, 'defaultLoss', `labels hold class ids outside [0, ${c}): the output [N, ${c}] has ${c} classes, so ids must be 0..${c - 1}`);
  }
  return checkedLoss(output, targets);
}
