import type { WasmKernels } from '../contract.js';
import { batchNorm, batchNormBackward, batchNormGradSums, batchNormRunning, batchNormStats } from './batchnorm.js';
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput } from './conv.js';
import { DATA_KERNELS, where } from './data.js';
import { ELEMENTWISE_KERNELS, reluBackward } from './elementwise.js';
import { matmul } from './matmul.js';
import { maxPool2d, maxPool2dBackward } from './pool.js';
import { EXTREME_KERNELS, sum } from './reduce.js';
import { softmaxCrossEntropy, softmaxCrossEntropyBackward } from './softmax.js';
import { arange, random } from './creation.js';
import { pow } from './elementwise.js';
import { avgPool2d, avgPool2dBackward } from './pool.js';
import { SOFTMAX_KERNELS, softmaxBackward } from './softmax.js';

/**
 * The ops with a WebAssembly SIMD kernel; every other op (and every case a wrapper declines by
 * returning false) runs the reference kernel on views of the same memory.
 *
 * @example
 * const [args, rt] = [{}, {}] as Parameters<typeof WASM_KERNELS.matmul & {}>;
 * const ran = WASM_KERNELS.matmul?.(args, rt) ?? false;
 */
export const WASM_KERNELS: WasmKernels = {
  matmul,
  conv2d,
  conv2dBackpropInput,
  conv2dBackpropFilter,
  maxPool2d,
  maxPool2dBackward,
  reluBackward,
  softmaxCrossEntropy,
  softmaxCrossEntropyBackward,
  sum,
  where,
  batchNormStats,
  batchNorm,
  batchNormGradSums,
  batchNormBackward,
  batchNormRunning,
  ...EXTREME_KERNELS,
  ...ELEMENTWISE_KERNELS,
  ...DATA_KERNELS,
  ...SOFTMAX_KERNELS,
  softmaxBackward,
  avgPool2d,
  avgPool2dBackward,
  pow,
  arange,
  random,
};

export { WASM_UPDATE } from './optim.js';
export { matmulRows } from './matmul.js';
