import { requireTensor } from '../checks.js';
import { fmtShape, opError } from '../errors.js';
import type { Conv2dParams, Pool2dParams } from '../ops/registry.js';
import { Tensor } from '../tensor.js';

/**
 * The public convolution and pooling functions: they resolve PyTorch-style options (numbers or
 * [h, w] pairs, 'same' / 'valid' padding) into the explicit geometry the primitives take.
 */

/** A size given once for both spatial dimensions, or as [height, width]. */
export type Pair = number | readonly [number, number];

export interface Conv2dOptions {
  /** Step between windows, default 1. */
  stride?: Pair;
  /**
   * Zero padding: a number or [ph, pw] on both sides, 'valid' (none) or 'same' (output size equals
   * input size; stride 1 only; an odd total puts the extra row/column at the bottom/right).
   */
  padding?: Pair | 'same' | 'valid';
  /** Spacing between kernel taps, default 1. */
  dilation?: Pair;
  /** Channel groups: input channels and filters are split into this many independent convolutions. */
  groups?: number;
  /** Applied in the kernel's epilogue, so conv + bias + ReLU is one dispatch. */
  activation?: 'none' | 'relu';
}

export interface Pool2dOptions {
  kernelSize: Pair;
  /** Default: the kernel size (non-overlapping windows). */
  stride?: Pair;
  /** Symmetric padding, at most half the kernel size. Max pooling pads with -inf. */
  padding?: Pair;
}

const tensorArg = requireTensor;

/** Reads a number-or-pair option as [h, w], each an integer >= min. */
function pair(op: string, name: string, v: unknown, min: number, shapes: string): [number, number] {
  const p = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((d) => Number.isInteger(d) && d >= min)) {
    throw opError(op, `${name} must be an integer >= ${min} or a pair [h, w] of them, got ${JSON.stringify(v)} (${shapes})`);
  }
  return [p[0], p[1]];
}

/** Resolves conv2d options against the shapes of x and w into the primitive's geometry. */
function resolveConv2d(x: Tensor, w: Tensor, opts: Conv2dOptions): Conv2dParams {
  const shapes = `input ${fmtShape(x.shape)}, weight ${fmtShape(w.shape)}`;
  if (x.rank !== 4 || w.rank !== 4) {
    throw opError('conv2d', `${shapes}: expected a 4-D input [N, C, H, W] and a 4-D weight [F, C/groups, KH, KW]`);
  }
  const stride = pair('conv2d', 'stride', opts.stride ?? 1, 1, shapes);
  const dilation = pair('conv2d', 'dilation', opts.dilation ?? 1, 1, shapes);
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw opError('conv2d', `groups must be a positive integer, got ${String(groups)} (${shapes})`);
  const pad = opts.padding ?? 0;
  let padding: [number, number, number, number];
  if (pad === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) {
      throw opError('conv2d', `padding 'same' needs stride 1, got stride [${stride}] (${shapes})`, 'Pass explicit padding for strided convolutions');
    }
    // As PyTorch: the total is dilation*(k-1); an odd total puts the extra at the bottom/right.
    const th = dilation[0] * (w.shape[2]! - 1);
    const tw = dilation[1] * (w.shape[3]! - 1);
    padding = [th >> 1, th - (th >> 1), tw >> 1, tw - (tw >> 1)];
  } else if (pad === 'valid') {
    padding = [0, 0, 0, 0];
  } else {
    const [ph, pw] = pair('conv2d', 'padding', pad, 0, shapes);
    padding = [ph, ph, pw, pw];
  }
  return { stride, dilation, padding, groups };
}

/**
 * 2-D convolution (really cross-correlation, as in PyTorch) over NCHW input.
 * `x` is [N, C, H, W], `w` is [F, C/groups, KH, KW], `b` is [F]; the result is [N, F, OH, OW].
 * Gradients flow to x, w and b through dedicated GPU kernels.
 *
 * @example
 * const x = ts.randn([8, 1, 28, 28]);
 * const w = ts.randn([6, 1, 5, 5], { requiresGrad: true });
 * const y = ts.conv2d(x, w, null, { padding: 'same' });               // [8, 6, 28, 28]
 * const z = ts.conv2d(y, ts.randn([16, 6, 5, 5]), ts.zeros([16]), { stride: 2, activation: 'relu' });
 */
export function conv2d(x: Tensor, w: Tensor, b?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  tensorArg('conv2d', x, 'input');
  tensorArg('conv2d', w, 'weight');
  if (b !== undefined && b !== null) tensorArg('conv2d', b, 'bias');
  const activation = opts.activation ?? 'none';
  if (activation !== 'none' && activation !== 'relu') throw opError('conv2d', `activation must be 'none' or 'relu', got ${JSON.stringify(activation)}`);
  const params = resolveConv2d(x, w, opts);
  return Tensor._fromOp('conv2d', b ? [x, w, b] : [x, w], { ...params, activation });
}

function resolvePool(op: string, x: Tensor, opts: Pool2dOptions): Pool2dParams {
  tensorArg(op, x, 'input');
  const shapes = `input ${fmtShape(x.shape)}`;
  if (!opts || opts.kernelSize === undefined) throw opError(op, `kernelSize is required (${shapes})`, 'Pass { kernelSize: 2 }');
  const kernelSize = pair(op, 'kernelSize', opts.kernelSize, 1, shapes);
  const stride = pair(op, 'stride', opts.stride ?? kernelSize, 1, shapes);
  const padding = pair(op, 'padding', opts.padding ?? 0, 0, shapes);
  return { kernelSize, stride, padding };
}

/**
 * Max pooling over NCHW input; padding counts as -infinity (PyTorch's `max_pool2d`). The output
 * is [N, C, floor((H + 2p - k) / s) + 1, ...] (PyTorch's default floor mode). The forward pass
 * saves each window's argmax, so the gradient is one gather with no search.
 *
 * @example
 * const y = ts.maxPool2d(ts.randn([8, 6, 28, 28]), { kernelSize: 2 });   // [8, 6, 14, 14]
 */
export function maxPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  return Tensor._fromOp('maxPool2d', [x], resolvePool('maxPool2d', x, opts));
}

/**
 * Average pooling over NCHW input. Padding counts as zeros that are part of every window's
 * divisor (PyTorch's default `count_include_pad=True`).
 *
 * @example
 * const y = ts.avgPool2d(ts.randn([8, 6, 28, 28]), { kernelSize: 3, stride: 2, padding: 1 });   // [8, 6, 14, 14]
 */
export function avgPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  return Tensor._fromOp('avgPool2d', [x], resolvePool('avgPool2d', x, opts));
}
