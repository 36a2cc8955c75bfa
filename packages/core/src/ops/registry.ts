import type { DType } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import type { ExprRule } from './expr.js';

/**
 * Every primitive op and its parameters, in one place. The op table (`table.ts`) and each
 * backend's kernel table (`OpKernels` in backend.ts) are mapped types over these names, so
 * declaring an op here without its shape and gradient rule, or without a kernel in every
 * backend, is a compile error.
 */
export interface OpParams {
  // creation
  fill: { shape: number[]; dtype: DType; value: number };
  arange: { start: number; step: number; count: number; dtype: DType };
  random: { shape: number[]; seed: number; stream: number; dist: 'uniform' | 'normal'; a: number; b: number };
  // elementwise
  cast: { dtype: DType };
  neg: {};
  exp: {};
  log: {};
  sqrt: {};
  abs: {};
  sign: {};
  relu: {};
  sigmoid: {};
  tanh: {};
  leakyRelu: { alpha: number };
  elu: { alpha: number };
  square: {};
  reciprocal: {};
  add: {};
  sub: {};
  mul: {};
  div: {};
  pow: {};
  maximum: {};
  minimum: {};
  eq: {};
  ne: {};
  gt: {};
  ge: {};
  lt: {};
  le: {};
  where: {};
  // reductions
  sum: ReduceParams;
  max: ReduceParams;
  min: ReduceParams;
  argmax: ReduceParams;
  argmin: ReduceParams;
  // shape and data movement
  reshape: { shape: number[] };
  transpose: { perm: number[] };
  slice: { begin: number[]; size: number[] };
  pad: { before: number[]; after: number[] };
  broadcastTo: { shape: number[] };
  concat: { axis: number };
  // linear algebra
  matmul: { transA: boolean; transB: boolean; activation: 'none' | 'relu' };
  // CNN ops (ops/conv.ts, ops/pool.ts, ops/softmax.ts)
  conv2d: Conv2dParams & { activation: 'none' | 'relu' };
  conv2dBackpropInput: Conv2dParams & { inputShape: number[] };
  /**
   * With `withBias` the result is [F, C/groups*KH*KW + 1]: each filter's gradient, then its bias's.
   * `chunks`: how many partial sums a backend splits the reduction into; by default its own choice.
   */
  conv2dBackpropFilter: Conv2dParams & { filterShape: number[]; chunks?: number; withBias: boolean };
  reluBackward: {};
  maxPool2d: Pool2dParams;
  maxPool2dBackward: Pool2dParams & { inputShape: number[] };
  avgPool2d: Pool2dParams;
  avgPool2dBackward: Pool2dParams & { inputShape: number[] };
  softmax: { axis: number };
  logSoftmax: { axis: number };
  softmaxBackward: { axis: number; log: boolean };
  softmaxCrossEntropy: {};
  softmaxCrossEntropyBackward: {};
  // batch normalization (ops/norm.ts)
  batchNormStats: { axis: number };
  batchNorm: BatchNormParams;
  batchNormGradSums: { axis: number; epsilon: number };
  batchNormBackward: Omit<BatchNormParams, 'beta'>;
  batchNormRunning: { momentum: number; row: 0 | 1; scale: number };
}

/**
 * Batch normalization over every axis but `axis` (the channels). Inputs [x, mean, var, gamma?,
 * beta?]: mean and var are [C], or one [2, C] statistics tensor (row 0 the mean, row 1 the
 * variance, as batchNormStats gives) passed as both. With `training` they are x's own batch
 * statistics, and the gradient of x includes their dependence on x.
 */
export interface BatchNormParams {
  axis: number;
  epsilon: number;
  training: boolean;
  /** Whether gamma (and then beta) follow mean and var among the inputs. */
  gamma: boolean;
  beta: boolean;
}

/** Geometry of a 2-D convolution, resolved by the API layer (NCHW, PyTorch semantics). */
export interface Conv2dParams {
  stride: [number, number];
  dilation: [number, number];
  /** Zero padding [top, bottom, left, right]; asymmetric only for 'same' with an odd total. */
  padding: [number, number, number, number];
  groups: number;
}

/** Window geometry of max / average pooling; padding is symmetric, [ph, pw]. */
export interface Pool2dParams {
  kernelSize: [number, number];
  stride: [number, number];
  padding: [number, number];
}

export interface ReduceParams {
  /** Sorted, non-negative axes to reduce. */
  axes: number[];
  keepdims: boolean;
}

export type OpName = keyof OpParams;

/** Shape and dtype of a tensor, which is all a shape rule may look at. */
export interface TensorInfo {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export interface OutInfo extends TensorInfo {
  /** Extra outputs saved for the backward pass (e.g. max-pool's argmax), never returned. */
  readonly aux?: readonly TensorInfo[];
}

export interface GradArgs<P> {
  /** The inputs as they were at forward time. */
  readonly inputs: readonly Tensor[];
  readonly out: Tensor;
  readonly aux: readonly Tensor[];
  readonly params: P;
  /** Which inputs need a gradient; a rule may skip work for the others. */
  readonly needs: readonly boolean[];
}

/**
 * A gradient rule, written in tensor ops so backward runs on the device. It returns one entry
 * per input: a tensor of that input's shape, or null where no gradient is needed.
 */
export type GradRule<P> = (dy: Tensor, args: GradArgs<P>) => readonly (Tensor | null)[];

export interface OpDef<P> {
  /** Validates inputs and params (throwing an error that names the op and shapes). */
  shape(inputs: readonly TensorInfo[], params: P): OutInfo;
  /**
   * True when the output aliases input 0's storage (reshape): no backend runs it. Every other
   * op is run by the backend's kernel of the same name (`OpKernels` in backend.ts).
   */
  view?: true;
  /** How to differentiate, or null for ops that are not differentiable (comparisons, argmax). */
  grad: GradRule<P> | null;
  /**
   * For elementwise ops: what one element of the output is, in the expression form of
   * ops/expr.ts (`arg` i is input i at the same element, broadcasting aside). `ts.compile`
   * fuses chains of ops that have one into a single generated kernel.
   */
  expr?: ExprRule<P>;
  /**
   * For data movement that reads one input element per output element (transpose, slice,
   * broadcastTo): output element (c0, c1, ...) reads input 0 at `offset + sum(c_d *
   * strides[d])`. The fuser reads the input through this map; the op's `expr` is the input.
   */
  gather?: (input: TensorInfo, params: P) => { strides: number[]; offset: number };
}

export type OpDefs<K extends OpName> = { [N in K]: OpDef<OpParams[N]> };
