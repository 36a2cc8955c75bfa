import type { OpName } from '@tessera/core';
import type { KernelBuilders } from './context.js';
import { convKernels } from './conv.js';
import { creationKernels } from './creation.js';
import { elementwiseKernels } from './elementwise.js';
import { matmulKernels } from './matmul.js';
import { normKernels } from './norm.js';
import { poolKernels } from './pool.js';
import { reduceKernels } from './reduce.js';
import { shapeKernels } from './shape.js';
import { softmaxKernels } from './softmax.js';

/**
 * How the WebGPU backend runs every primitive of core's op table: the WGSL dispatches, with the
 * variant and workgroup counts chosen from the device's caps. A mapped type over the op names,
 * so an op added to core without a kernel here does not compile.
 */
export const WEBGPU_KERNELS: KernelBuilders<OpName> = {
  ...creationKernels,
  ...elementwiseKernels,
  ...reduceKernels,
  ...shapeKernels,
  ...matmulKernels,
  ...convKernels,
  ...poolKernels,
  ...softmaxKernels,
  ...normKernels,
};

export type { KernelBuilder, KernelBuilders, KernelContext, Dispatches } from './context.js';
