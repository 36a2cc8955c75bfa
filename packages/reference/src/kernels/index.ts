import type { OpKernels } from '@tessera/core';
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
 * The reference implementation of every primitive of core's op table, one plain TypeScript
 * function per op. `OpKernels` is a mapped type over the op names, so an op added to core
 * without a kernel here does not compile.
 */
export const REFERENCE_KERNELS: OpKernels = {
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

export { referenceUpdate } from './optim.js';
export { pcg, draw, unit, uniformAt, normalAt } from './creation.js';
